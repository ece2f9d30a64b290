"""Vietnamese text handling: Unicode normal form, diacritics folding, counsellors' abbreviations.

Text reaches the engine in any normal form (macOS writes NFD), with or without diacritics, in
Vietnamese, English or both, and full of the abbreviations counsellors type ("cn may", "lx",
"3 năm kn"). Two views of it are used:

- :func:`prepare` keeps the diacritics (the embedding model reads Vietnamese better with them)
  and only normalises to NFC, expands abbreviations and tidies whitespace;
- :func:`fold` removes everything a comparison should ignore (case, diacritics, ``đ``,
  punctuation), for lexical matching and keyword rules.

:func:`normalise_id_code` compares licence and approval numbers (DOMAIN.md, fraud sign 3:
``LĐTBXH`` = ``LDTBXH``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable

from models.text import fold, nfc, strip_marks as _strip_marks  # the one folding; data uses it too

__all__ = [
    "ABBREVIATIONS",
    "expand_abbreviations",
    "fold",
    "nfc",
    "normalise_id_code",
    "prepare",
    "split_list",
]

_SPACES = re.compile(r"\s+", re.UNICODE)


def _fold_token(s: str) -> str:
    return _strip_marks(s).casefold()


# What counsellors type, keyed by the folded abbreviation (so "đd", "ĐD" and "dd" are one key).
# Multi-token keys ("may cn") win over their parts. Only whole tokens are replaced.
ABBREVIATIONS: dict[str, str] = {
    # occupations and sectors
    "cn": "công nhân",
    "may cn": "may công nghiệp",
    "lx": "lái xe",
    "dd": "điều dưỡng",
    "xd": "xây dựng",
    "nn": "nông nghiệp",
    "tp": "thực phẩm",
    "cbtp": "chế biến thực phẩm",
    "cb": "chế biến",
    "ck": "cơ khí",
    "dt": "điện tử",
    "hl": "hộ lý",
    "sx": "sản xuất",
    "dg": "đóng gói",
    "vh": "vận hành",
    "ks": "kỹ sư",
    "ktv": "kỹ thuật viên",
    "nv": "nhân viên",
    "tts": "thực tập sinh",
    "ldpt": "lao động phổ thông",
    "gvgd": "giúp việc gia đình",
    "xkld": "xuất khẩu lao động",
    # experience and education
    "kn": "kinh nghiệm",
    "thcs": "trung học cơ sở",
    "thpt": "trung học phổ thông",
    "tc": "trung cấp",
    "cd": "cao đẳng",
    "dh": "đại học",
    # markets
    "nb": "Nhật Bản",
    "hq": "Hàn Quốc",
}

# "TP" before a city name, or written "TP.", means "thành phố" (city), not "thực phẩm" (food):
# "TP Cao Bằng", "TP. HCM". These folded next tokens keep "tp" as it is.
_TP_CITY_NEXT = frozenset({"cao", "hcm", "ho", "ha", "hn", "hai", "da", "can", "bac", "lang"})

_TOKEN = re.compile(r"\w+", re.UNICODE)
_MAX_KEY_TOKENS = max(len(k.split()) for k in ABBREVIATIONS)


def _expansion(folded_tokens: list[str], i: int, raw: str, tokens: list[re.Match]) -> tuple[str, int] | None:
    """The expansion starting at token ``i`` and how many tokens it consumes, if any."""
    for n in range(min(_MAX_KEY_TOKENS, len(folded_tokens) - i), 0, -1):
        key = " ".join(folded_tokens[i : i + n])
        if key not in ABBREVIATIONS:
            continue
        if n > 1:
            # the tokens of a multi-token key must be separated by whitespace only
            gaps = [raw[tokens[j].end() : tokens[j + 1].start()] for j in range(i, i + n - 1)]
            if any(g.strip() for g in gaps):
                continue
        if key == "tp":
            after = raw[tokens[i].end() : tokens[i].end() + 1]
            nxt = folded_tokens[i + 1] if i + 1 < len(folded_tokens) else ""
            if after == "." or nxt in _TP_CITY_NEXT:
                return None
        return ABBREVIATIONS[key], n
    return None


def expand_abbreviations(s: str | None) -> str:
    """Replace counsellors' abbreviations by the words they stand for.

    Whole tokens only, case- and diacritics-insensitive (``ĐD``, ``đd`` and ``dd`` all mean
    "điều dưỡng"), never inside a word (``cnc``, ``block`` are left alone). Everything between
    tokens is kept as written. The input is put in NFC first.

    >>> expand_abbreviations("CN may, 3 năm kn")
    'công nhân may, 3 năm kinh nghiệm'
    """
    raw = nfc(s)
    tokens = list(_TOKEN.finditer(raw))
    if not tokens:
        return raw
    folded = [_fold_token(t.group()) for t in tokens]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(tokens):
        hit = _expansion(folded, i, raw, tokens)
        if hit is None:
            i += 1
            continue
        words, n = hit
        out.append(raw[pos : tokens[i].start()])
        out.append(words)
        pos = tokens[i + n - 1].end()
        i += n
    out.append(raw[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=200_000)
def prepare(s: str | None) -> str:
    """The text the engine embeds: NFC, abbreviations expanded, whitespace collapsed.

    Diacritics, case and punctuation are kept (the model reads them).
    """
    # NFC again: a combining mark right after an expanded abbreviation ("cb\u0300") now
    # follows the expansion's last letter and composes with it (found by tests/test_fuzz.py).
    return unicodedata.normalize("NFC", _SPACES.sub(" ", expand_abbreviations(s))).strip()


def split_list(s: str | Iterable[str] | None) -> list[str]:
    """Items of a FORMAT.md list cell (``;``-separated), NFC, trimmed, empty items dropped.

    A list or tuple is accepted too (already split, e.g. a JSON column) and cleaned the same way.
    """
    if s is None:
        return []
    parts = s.split(";") if isinstance(s, str) else [p for item in s for p in str(item).split(";")]
    return [item for item in (_SPACES.sub(" ", nfc(p)).strip() for p in parts) if item]


_DASHES = re.compile(r"[\u2010-\u2015\u2212_\uFE58\uFE63\uFF0D]")
_SLASHES = re.compile(r"[\\\u2044\u2215\uFF0F]")
_SEPARATOR_RUN = re.compile(r"([/\-.])[/\-.]+")
_NUMBER_LABEL = re.compile(r"^\s*(?:so|no|number|gp so)\s*[.:]?\s*(?=\d)", re.IGNORECASE)


def normalise_id_code(s: str | None) -> str:
    """A licence or approval number in one comparable form.

    Diacritics folded (``Đ`` -> ``D``), upper case, no whitespace, dash and slash look-alikes
    unified, a leading "Số"/"No." label dropped, runs of separators collapsed:
    ``"123 / ldtbxh-gp"`` and ``"Số 123/LĐTBXH–GP"`` both give ``"123/LDTBXH-GP"``.
    The empty or missing number gives ``""`` (never equal to a real number by the callers).
    """
    if not s:
        return ""
    return _normalised_id_code(s)


@functools.lru_cache(maxsize=200_000)
def _normalised_id_code(s: str) -> str:
    t = _strip_marks(nfc(s))
    t = _DASHES.sub("-", t)
    t = _SLASHES.sub("/", t)
    t = _NUMBER_LABEL.sub("", t)
    t = "".join(t.split()).upper()
    if _SEPARATOR_RUN.search(t):
        t = _SEPARATOR_RUN.sub(r"\1", t)  # "//" -> "/", "-/-" -> "-"
    return t.strip("/-.")


# Enterprise names: the legal form and trade words every labour-export company shares, so that
# "Công ty CP Nhân lực Quốc tế Bản Giốc" and "Công ty TNHH Nhân lực Quốc tế Hà Thành" are not
# look-alikes merely because their first six words agree.
_NAME_ABBREVIATIONS = {"cp": "co phan", "tnhh": "trach nhiem huu han", "ctcp": "cong ty co phan",
                       "cty": "cong ty", "mtv": "mot thanh vien", "jsc": "co phan"}
_NAME_GENERIC = frozenset(
    "cong ty co phan trach nhiem huu han mot thanh vien tap doan chi nhanh nhan luc quoc te lao dong "
    "xuat khau hop tac dich vu cung ung thuong mai dau tu viec lam va phat trien giao duc dao tao "
    "ky thuat xay dung viet jsc ltd co company joint stock limited group hr manpower human resources "
    "international labour labor".split()
)


def enterprise_name_key(name: str | None) -> str:
    """An enterprise's name folded (case, diacritics, punctuation) with the legal-form
    abbreviations expanded ("CP" = "Cổ phần"): two names with the same key are the same name."""
    return " ".join(_NAME_ABBREVIATIONS.get(w, w) for w in fold(name or "").split())


def distinctive_name(name: str | None) -> str:
    """The part of an enterprise's name that tells it apart (the brand), without the legal form
    and the trade words every such company uses."""
    words = enterprise_name_key(name).split()
    kept = [w for i, w in enumerate(words)
            if w not in _NAME_GENERIC and not (w == "nam" and i and words[i - 1] == "viet")]
    return " ".join(kept)


def name_similarity(a: str | None, b: str | None) -> float:
    """How close two enterprise names are, 0 to 1: the similarity of their distinctive parts
    (difflib ratio), 1.0 when they are the same name once folded or when one brand is the other's
    with words added ("An Bình" and "An Bình Việt", "Hà Thành 2")."""
    import difflib

    ka, kb = enterprise_name_key(a), enterprise_name_key(b)
    if ka and ka == kb:
        return 1.0
    da, db = distinctive_name(a), distinctive_name(b)
    if not da or not db:
        return difflib.SequenceMatcher(None, ka, kb).ratio()
    wa, wb = da.split(), db.split()
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if long_[:len(short)] == short:
        return 1.0
    return difflib.SequenceMatcher(None, da, db).ratio()
