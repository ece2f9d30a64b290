"""Checking the enterprises against the regulator's public list of licensed enterprises (issue 13).

The Department of Overseas Labour publishes the enterprises licensed to send workers abroad. An
administrator saves that list as a CSV (``licence_no, name, licence_date, status``) and runs
``matcher licence-register FILE``: every enterprise whose licence number (compared as
:func:`matcher.text.normalise_id_code` does, ``LĐTBXH`` = ``LDTBXH``) is on the list as active
under the same name (folded, abbreviations expanded) is verified (``licence_verified_on``, audited,
seen by the next ranking); every other enterprise is listed as a mismatch with why. No Flask here:
the CLI calls it, a view may too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.repo import audit
from matcher.rules import LOOK_ALIKE_SIMILARITY
from matcher.text import enterprise_name_key, name_similarity, normalise_id_code
from models import Recruiter
from models.formatting import parse_date
from models.text import fold, nfc

REGISTER_COLUMNS = ("licence_no", "name", "licence_date", "status")
# Status words of the published list, folded: anything else is refused with the row.
ACTIVE_WORDS = frozenset({"active", "con hieu luc", "hieu luc", "dang hoat dong", "hoat dong"})
INACTIVE_WORDS = frozenset({"revoked", "suspended", "thu hoi", "da thu hoi", "dinh chi", "het hieu luc", "inactive"})


@dataclass(frozen=True)
class RegisterEntry:
    row: int
    licence_no: str
    name: str
    licence_date: dt.date | None
    active: bool


@dataclass
class RegisterCheck:
    verified: list[str] = field(default_factory=list)  # recruiter ids verified by this run
    already: list[str] = field(default_factory=list)  # verified before, still matching
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)  # (recruiter id, vi, en)
    errors: list[str] = field(default_factory=list)  # problems of the file, one per row/column


def same_name(a: str, b: str) -> bool:
    """Whether two enterprise names are the same once folded (case, diacritics, punctuation) and
    abbreviations expanded ("CP" = "Cổ phần")."""
    return enterprise_name_key(a) == enterprise_name_key(b)


def look_alike(a: str, b: str) -> bool:
    """Nearly the same name but not the same: a look-alike sign (the engine's own threshold)."""
    return not same_name(a, b) and name_similarity(a, b) >= LOOK_ALIKE_SIMILARITY


def read_register(path: Path) -> tuple[list[RegisterEntry], list[str]]:
    """The entries of the CSV at ``path`` and the problems found, each naming the file, the row
    and the column (Vietnamese, then English)."""
    return read_register_bytes(path.read_bytes(), str(path))


def read_register_bytes(data: bytes, path: str) -> tuple[list[RegisterEntry], list[str]]:
    """:func:`read_register` for an uploaded file's bytes; ``path`` names it in the messages."""
    entries: list[RegisterEntry] = []
    errors: list[str] = []
    try:
        with io.StringIO(data.decode("utf-8-sig"), newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REGISTER_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                return [], [f"{path}: thiếu cột {', '.join(missing)} / missing column(s) {', '.join(missing)} "
                            f"(expected {', '.join(REGISTER_COLUMNS)})"]
            for n, row in enumerate(reader, start=2):
                licence, name = (row.get("licence_no") or "").strip(), (row.get("name") or "").strip()
                status = fold(row.get("status") or "")
                problems = []
                if not normalise_id_code(licence):
                    problems.append(("licence_no", "cần số giấy phép", "a licence number is needed"))
                if not name:
                    problems.append(("name", "cần tên doanh nghiệp", "the enterprise's name is needed"))
                if status not in ACTIVE_WORDS | INACTIVE_WORDS:
                    problems.append(("status", "cần «còn hiệu lực» hoặc «thu hồi»", "'active' or 'revoked' is expected"))
                try:
                    day = parse_date(row.get("licence_date") or "")
                except ValueError:
                    day = None
                    problems.append(("licence_date", "cần một ngày (dd/mm/yyyy)", "a date (dd/mm/yyyy or YYYY-MM-DD)"))
                for column, vi, en in problems:
                    errors.append(f"{path}, dòng {n}, cột {column}: {vi} / row {n}, column {column}: {en}")
                if not problems:
                    entries.append(RegisterEntry(n, licence, name, day, status in ACTIVE_WORDS))
    except UnicodeDecodeError:
        errors.append(f"{path}: tệp không phải UTF-8 / the file is not UTF-8")
    except csv.Error as exc:
        errors.append(f"{path}: tệp CSV không đọc được ({exc}) / the CSV file cannot be read ({exc})")
    return entries, errors


_EXACT_ABBREVIATIONS = {"cp": "cổ phần", "tnhh": "trách nhiệm hữu hạn", "ctcp": "công ty cổ phần", "cty": "công ty",
                        "mtv": "một thành viên"}


def _exact(name: str) -> str:
    """A name compared exactly: diacritics kept; case, punctuation, spacing and the legal-form
    abbreviations ("CP" = "Cổ phần") ignored."""
    words = re.findall(r"\w+", nfc(name).casefold())
    return " ".join(_EXACT_ABBREVIATIONS.get(w, w) for w in words)


def _claimants_left_out(recruiters: list[Recruiter], by_key: dict[str, list[RegisterEntry]]) -> dict[str, tuple[str, str]]:
    """Several enterprises holding one listed number under the listed name once folded (a forger
    copies the name without diacritics): only one may be verified. The one spelled exactly as on
    the list (or already verified) wins; when none or several are, nobody is verified and the
    administrator decides in the queue. Returns recruiter id -> (vi, en) for those left out."""
    claims: dict[str, list[tuple[Recruiter, RegisterEntry]]] = {}
    for r in recruiters:
        key = normalise_id_code(r.licence_no)
        entry = next((e for e in by_key.get(key, []) if same_name(e.name, r.name)), None)
        if entry is not None:
            claims.setdefault(key, []).append((r, entry))
    out: dict[str, tuple[str, str]] = {}
    for group in claims.values():
        if len(group) < 2:
            continue
        winners = [r for r, _ in group if r.licence_verified_on] or [r for r, e in group if _exact(r.name) == _exact(e.name)]
        winner = winners[0] if len(winners) == 1 else None
        for r, e in group:
            if r is winner:
                continue
            if winner is not None:
                out[r.recruiter_id] = (
                    f"số giấy phép {r.licence_no} và tên viết khác của {winner.name} ({winner.recruiter_id}), đúng như trong "
                    "danh sách: dấu hiệu mạo danh, không xác minh",
                    f"licence number {r.licence_no} under another spelling of {winner.name} ({winner.recruiter_id}), "
                    "which matches the list exactly: a look-alike sign, not verified")
            else:
                others = ", ".join(x.recruiter_id for x, _ in group if x is not r)
                out[r.recruiter_id] = (
                    f"cùng số giấy phép {r.licence_no} và cùng tên với {others}: không tự xác minh, quản trị viên cần chọn "
                    "doanh nghiệp thật trong mục «Cần xác minh giấy phép»",
                    f"the same licence number {r.licence_no} and name as {others}: not verified automatically; an "
                    "administrator must pick the genuine one under 'Licences to verify'")
    return out


def check_register(session: Session, entries: list[RegisterEntry], day: dt.date, user: str | None) -> RegisterCheck:
    """Verify every non-revoked enterprise found on the list, active, under its name; list the
    others with why. Each new verification is audited (``licence_verified``, source register)."""
    by_key: dict[str, list[RegisterEntry]] = {}
    for e in entries:
        by_key.setdefault(normalise_id_code(e.licence_no), []).append(e)
    out = RegisterCheck()
    recruiters = session.scalars(select(Recruiter).order_by(Recruiter.recruiter_id)).all()
    live = [r for r in recruiters if (r.status or "active") != "revoked"]
    losers = _claimants_left_out(live, by_key)
    for r in live:
        if r.recruiter_id in losers:
            out.mismatches.append((r.recruiter_id, *losers[r.recruiter_id]))
            continue
        listed = by_key.get(normalise_id_code(r.licence_no), [])
        if not listed:
            out.mismatches.append((r.recruiter_id, f"số giấy phép {r.licence_no} không có trong danh sách",
                                   f"licence number {r.licence_no} is not on the list"))
            continue
        match = next((e for e in listed if same_name(e.name, r.name)), None)
        if match is None:
            names = "; ".join(e.name for e in listed)
            if any(look_alike(e.name, r.name) for e in listed):
                vi, en = "tên gần giống nhưng không trùng (dấu hiệu mạo danh)", "a look-alike name, not the same one"
            else:
                vi, en = "tên khác", "another name"
            out.mismatches.append((r.recruiter_id, f"số giấy phép {r.licence_no} thuộc doanh nghiệp khác trong danh sách: {names}; {vi}",
                                   f"licence number {r.licence_no} belongs to another enterprise on the list: {names}; {en}"))
            continue
        if not match.active:
            out.mismatches.append((r.recruiter_id, f"giấy phép {r.licence_no} đã bị thu hồi hoặc đình chỉ theo danh sách",
                                   f"licence {r.licence_no} is revoked or suspended on the list"))
            continue
        if r.licence_verified_on:
            out.already.append(r.recruiter_id)
            continue
        r.licence_verified_on = day
        audit(session, user, "licence_verified", "recruiter", r.recruiter_id, verified_on=day.isoformat(),
              licence_no=r.licence_no, source="register", register_row=match.row)
        out.verified.append(r.recruiter_id)
    session.flush()
    return out
