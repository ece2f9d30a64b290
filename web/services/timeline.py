"""The worker's timeline: free notes and contacts (``models.WorkerNote``) and, from the records
already kept, every stage change (``StageEvent``), consent change (``ConsentEvent``) and
audited import, edit and "matches shown" of the worker, as one list, newest first.

Profile *views* are audited too but are not case work, so they stay off the timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Application, AuditEvent, ConsentEvent, StageEvent, Worker, WorkerNote
from models.enums import NOTE_KINDS
from models import formatting, labels
from models.formatting import parse_day

MAX_BODY = 4000
# note kind -> (Vietnamese, English)
KIND_LABELS = dict(labels.NOTE_KINDS.names)
# audited actions on a worker shown on the timeline -> (Vietnamese, English)
AUDIT_LABELS = {
    "create": ("Tạo hồ sơ", "Profile created"),
    "update": ("Sửa hồ sơ", "Profile edited"),
    "merge": ("Gộp hồ sơ trùng", "Duplicate merged"),
}
MATCHES_SHOWN = ("Đã xem đơn hàng phù hợp", "Matches shown")
# An import is audited per file, not per worker: a profile without a "create" audit line
# came in by an import (or before auditing), and enters the timeline at its creation time.
IMPORTED = ("Hồ sơ được nhập từ tệp", "Profile imported from a file")


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # "note" (any note kind), "stage", "consent" or "audit"
    vi: str
    en: str
    by: str | None
    text: str | None = None
    follow_up: dt.date | None = None


def parse_note(form: Mapping[str, str], day: dt.date) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The note's values from a submitted form and the errors by field (Vietnamese, English).
    An empty date is today; a follow-up date is optional and may not precede the note's day."""
    errors: dict[str, tuple[str, str]] = {}
    kind = (form.get("kind") or "").strip()
    if kind not in NOTE_KINDS:
        errors["kind"] = ("Hãy chọn loại ghi chú: " + ", ".join(v for v, _ in KIND_LABELS.values()) + ".",
                          f"The 'kind' must be one of {', '.join(NOTE_KINDS)}. Got {kind!r} instead.")
    body = (form.get("body") or "").strip()
    if not body:
        errors["body"] = ("Hãy ghi nội dung.", "The note's text is empty.")
    elif len(body) > MAX_BODY:
        errors["body"] = (f"Nội dung dài quá {MAX_BODY} ký tự.", f"The note's text is longer than {MAX_BODY} characters.")
    values: dict[str, Any] = {"kind": kind, "body": body}
    for name, default in (("day", day), ("follow_up", None)):
        raw = (form.get(name) or "").strip()
        try:
            values[name] = parse_day(raw) if raw else default  # dd/mm/yyyy or ISO
        except ValueError:
            values[name] = raw
            errors[name] = ("Ngày không hợp lệ, hãy ghi theo dạng NN/TT/NNNN (ví dụ 20/02/2026) hoặc NNNN-TT-NN.",
                            f"The '{name}' must be a date dd/mm/yyyy or YYYY-MM-DD. Got {raw!r} instead.")
    if isinstance(values["day"], dt.date) and values["day"] > day:
        errors["day"] = ("Ngày ghi chú không được ở tương lai.", "The note's date may not be in the future.")
    if (isinstance(values["day"], dt.date) and isinstance(values["follow_up"], dt.date)
            and values["follow_up"] < values["day"]):
        errors["follow_up"] = ("Ngày hẹn gọi lại không được trước ngày ghi chú.",
                               "The follow-up date may not precede the note's date.")
    return values, errors


def add_note(s: Session, wid: str, values: dict[str, Any], by: str | None) -> WorkerNote:
    note = WorkerNote(worker_id=wid, kind=values["kind"], day=values["day"], body=values["body"],
                      follow_up=values["follow_up"], by=by)
    s.add(note)
    s.flush()
    return note


def _noon(day: dt.date, at: dt.datetime) -> dt.datetime:
    """When a note sorts and shows: the time it was written if written on its day (in Cao
    Bằng), else noon of its day in Cao Bằng (stored times are UTC)."""
    return at if formatting.local_date(at) == day else formatting.utc_at_local(day, dt.time(12))


def worker_timeline(s: Session, wid: str) -> list[Entry]:
    """Everything that happened to worker ``wid``, newest first."""
    entries: list[Entry] = []
    for n in s.scalars(select(WorkerNote).where(WorkerNote.worker_id == wid)):
        vi, en = KIND_LABELS.get(n.kind, (n.kind, n.kind))
        entries.append(Entry(_noon(n.day, n.at), "note", vi, en, n.by, n.body, n.follow_up))
    rows = s.execute(
        select(StageEvent, Application.order_id).join(Application, StageEvent.application_id == Application.id)
        .where(Application.worker_id == wid)
    ).all()
    for e, order_id in rows:
        (from_vi, from_en), (to_vi, to_en) = (labels.STAGES.pair(x) if x else ("—", "—") for x in (e.from_stage, e.to_stage))
        entries.append(Entry(e.at, "stage", f"Giai đoạn {from_vi} → {to_vi} (đơn hàng {order_id})",
                             f"Stage {from_en} → {to_en} (order {order_id})", e.by, e.note))
    for c in s.scalars(select(ConsentEvent).where(ConsentEvent.worker_id == wid)):
        vi, en = ("Đồng ý chia sẻ hồ sơ", "Consent granted") if c.action == "grant" else ("Rút lại sự đồng ý", "Consent revoked")
        entries.append(Entry(c.at, "consent", vi, en, c.by, c.scope))
    audits = s.scalars(select(AuditEvent).where(AuditEvent.entity == "worker", AuditEvent.entity_id == wid,
                                                AuditEvent.action.in_((*AUDIT_LABELS, "view")))).all()
    for a in audits:
        if a.action == "view":
            if (a.detail or {}).get("page") != "matches":
                continue  # a plain view of the profile is not case work
            vi, en = MATCHES_SHOWN
        else:
            vi, en = AUDIT_LABELS[a.action]
        fields = (a.detail or {}).get("fields")
        entries.append(Entry(a.at, "audit", vi, en, a.username, ", ".join(map(str, fields)) if isinstance(fields, list) else None))
    w = s.get(Worker, wid)
    if w is not None and not any(a.action == "create" for a in audits):
        entries.append(Entry(w.created_at, "audit", *IMPORTED, None))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
