"""Language certificates: parsing every notation of FORMAT.md onto DOMAIN.md's one scale.

The scale (DOMAIN.md, "Language levels on one scale") is ordinal and aligned with CEFR:

======  =====  =====  =========  ===========  =====  ==========
scale   CEFR   JLPT   JFT-Basic  EPS-TOPIK    TOPIK  HSK/TOCFL
======  =====  =====  =========  ===========  =====  ==========
0       --     --     < 145      < 80 (fail)  --     --
1       A1     N5     145-199    >= 80 (pass) 1      1
2       A2     N4     200-250    --           2      2
3       B1     N3     --         --           3      3
4       B2     N2     --         --           4      4
5       C1     N1     --         --           5      5
6       C2     --     --         --           6      6
======  =====  =====  =========  ===========  =====  ==========

JLPT N3 with a low score (below 104 of 180, the JLPT's own threshold for B1) counts as 2, as
the table's "N4 (N3 low scores)" says; without a score N3 is 3. EPS-TOPIK has no CEFR link:
its raw score is kept and a pass (80/200) counts as about A1.

This module lives in ``models`` (the leaf package) because importers in ``data`` must parse
certificates and ``data`` may not import ``matcher``. It imports nothing of the project except
:mod:`models.entities` for the optional conversion from a stored row and :mod:`models.formatting`
for the dates people read (:func:`shown_certificate`).
"""

from __future__ import annotations

import calendar
import functools
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from models.text import nfc, strip_marks

if TYPE_CHECKING:  # pragma: no cover
    from models.entities import LanguageCertificate

__all__ = [
    "CEFR_LABELS",
    "Certificate",
    "CertificateError",
    "EPS_TOPIK_PASS",
    "EPS_TOPIK_VALID_YEARS",
    "EXAMS",
    "NOTATION_HELP",
    "assumed_test_date",
    "expiry_date",
    "format_certificate",
    "is_valid_on",
    "parse_certificate",
    "parse_certificate_list",
    "parse_requirement",
    "shown_certificate",
]

Precision = Literal["day", "month", "year"]

CEFR_LABELS = ("A1", "A2", "B1", "B2", "C1", "C2")  # scale 1..6
JLPT_LEVEL = {"N5": 1, "N4": 2, "N3": 3, "N2": 4, "N1": 5}
JLPT_N3_B1_MIN_SCORE = 104  # JLPT "CEFR reference": N3 95-103 ~ A2, 104-180 ~ B1
EPS_TOPIK_PASS = 80  # pass mark of 200 points (DOMAIN.md)
EPS_TOPIK_VALID_YEARS = 2  # a pass is valid two years (DOMAIN.md; EPS roster rule)

# exam code -> (display name, default language)
EXAMS: dict[str, tuple[str, str]] = {
    "jlpt": ("JLPT", "ja"),
    "jft": ("JFT-Basic", "ja"),
    "eps_topik": ("EPS-TOPIK", "ko"),
    "topik": ("TOPIK", "ko"),
    "cefr": ("CEFR", "en"),
    "goethe": ("Goethe", "de"),
    "hsk": ("HSK", "zh"),
    "tocfl": ("TOCFL", "zh"),
}

NOTATION_HELP = (
    "expected one of: 'JLPT N1'..'JLPT N5' (or just 'N4'), 'JFT-Basic A2' or 'JFT-Basic 215' "
    "(score 10-250), 'EPS-TOPIK 152' (score 0-200), 'TOPIK 1'..'TOPIK 6' (also 'TOPIK II level 3', "
    "'TOPIK 3급'), 'CEFR B1' (English unless a language follows: 'CEFR B1 de'), 'Goethe B2', "
    "'HSK 1'..'HSK 6', 'TOCFL 1'..'TOCFL 6'; optionally followed by the test date in parentheses: "
    "'(2025)', '(2024-07)' or '(2024-07-15)', or day first as Vietnamese dates are written: '(07/2024)', "
    "'(15/07/2024)'"
)


# The canonical notations of a job order's language requirement, as one regular expression (the
# API document's pattern for ``language_requirement``): every text it matches is read by
# :func:`parse_requirement` (tested); the parser also reads the looser forms NOTATION_HELP lists.
_CEFR_ALT = "|".join(CEFR_LABELS)
REQUIREMENT_PATTERN = (
    "^(?:JLPT N[1-5]|JFT-Basic (?:A1|A2)|EPS-TOPIK(?: (?:[0-9]|[1-9][0-9]|1[0-9][0-9]|200))?"
    f"|TOPIK [1-6]|CEFR (?:{_CEFR_ALT})(?: (?:en|de|fr|ja|ko|zh))?|Goethe (?:{_CEFR_ALT})"
    "|HSK [1-6]|TOCFL [1-6])$"
)


class CertificateError(ValueError):
    """A certificate text that follows none of the notations; the message says which are expected."""

    def __init__(self, text: str, problem: str):
        self.text = text
        self.problem = problem
        super().__init__(f"Cannot read the language certificate {text!r}: {problem}; {NOTATION_HELP}.")


@dataclass(frozen=True)
class Certificate:
    """One certificate on the scale. ``raw`` (the text as written) is not part of equality.

    exam: one of :data:`EXAMS`; language: ISO 639-1; label: the level as the exam names it
    ("N4", "A2", "3", "B1") or ``None`` for score-only results; score: the raw score when the
    notation gives one (EPS-TOPIK always; JFT-Basic, JLPT optionally); level: 0..6 on the scale;
    test_date and test_date_precision: the date as written, truncated to its precision
    (``(2025)`` -> 2025-01-01 with precision "year").
    """

    raw: str = field(compare=False)
    exam: str
    language: str
    label: str | None
    score: float | None
    level: int
    test_date: dt.date | None = None
    test_date_precision: Precision | None = None

    @classmethod
    def from_entity(cls, row: LanguageCertificate) -> Certificate:
        """The certificate of a stored row: its ``raw`` text re-read (which keeps the date's
        precision); when ``raw`` no longer parses, the stored fields as they are (day precision)."""
        try:
            return parse_certificate(row.raw)
        except CertificateError:
            return cls(
                raw=row.raw or "",
                exam=row.exam,
                language=row.language,
                label=row.label,
                score=row.score,
                level=int(row.level or 0),
                test_date=row.test_date,
                test_date_precision="day" if row.test_date else None,
            )

    @property
    def name(self) -> str:
        """The certificate without its date, in the canonical notation ("JLPT N4")."""
        return _format_body(self)


# ---------------------------------------------------------------------------------------------
# parsing

def _normalise(text: str) -> str:
    """NFC, Latin diacritics removed (``models.text.strip_marks``), lower case, separators
    (-_:,/) as spaces, spaces collapsed; brackets and dots are kept for the date."""
    s = strip_marks(nfc(text)).lower()
    s = re.sub(r"[\s\-_:,/]+", " ", s)
    return s.strip()


_DATE_TAIL = re.compile(r"\(\s*(\d{4})(?:\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{1,2}))?)?\s*\)\s*$")
# the same date as Vietnamese pages show it and people type it: (07/2024), (15/07/2024)
_DATE_TAIL_DAY_FIRST = re.compile(r"\(\s*(?:(\d{1,2})\s*[-/.]\s*)?(\d{1,2})\s*[-/.]\s*(\d{4})\s*\)\s*$")


def _split_date(text: str) -> tuple[str, dt.date | None, Precision | None]:
    m = _DATE_TAIL.search(text)
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
    elif m := _DATE_TAIL_DAY_FIRST.search(text):
        day, month, year = m.group(1), m.group(2), int(m.group(3))
    else:
        if "(" in text or ")" in text:
            raise CertificateError(text, "the part in parentheses is not a date like (2025), (2024-07), "
                                         "(07/2024), (2024-07-15) or (15/07/2024)")
        return text, None, None
    try:
        if day is not None:
            d, prec = dt.date(year, int(month), int(day)), "day"
        elif month is not None:
            d, prec = dt.date(year, int(month), 1), "month"
        else:
            d, prec = dt.date(year, 1, 1), "year"
    except ValueError:
        raise CertificateError(text, f"{m.group(0).strip()} is not a real date") from None
    return text[: m.start()].strip(), d, prec  # type: ignore[return-value]


_LANG_WORDS = {
    "en": "en", "english": "en", "anh": "en", "tieng anh": "en",
    "de": "de", "german": "de", "deutsch": "de", "duc": "de", "tieng duc": "de",
    "fr": "fr", "french": "fr", "phap": "fr", "tieng phap": "fr",
    "ja": "ja", "ko": "ko", "zh": "zh", "ro": "ro", "hu": "hu", "pl": "pl", "cs": "cs",
    "sk": "sk", "bg": "bg", "ar": "ar", "ru": "ru", "es": "es", "it": "it", "pt": "pt",
}
_CEFR = r"(a1|a2|b1|b2|c1|c2)"
_LEVEL_WORD = r"(?:level|lv|lvl|cap|cap do|trinh do|bac)?"


def _cert(raw: str, exam: str, label: str | None, score: float | None, level: int,
          date: dt.date | None, prec: Precision | None, language: str | None = None) -> Certificate:
    return Certificate(raw=raw, exam=exam, language=language or EXAMS[exam][1], label=label,
                       score=score, level=level, test_date=date, test_date_precision=prec)


def _number(s: str) -> float:
    v = float(s)
    return float(int(v)) if v.is_integer() else v


def _jft_level(score: float) -> int:
    if score >= 200:
        return 2
    if score >= 145:
        return 1
    return 0


def _parse_body(raw: str, body: str, date, prec, *, requirement: bool) -> Certificate:
    # Over 80 lines: one branch per exam family, tried in an order that matters (EPS-TOPIK
    # before TOPIK, JFT before JLPT); split apart, the order would be hidden.
    s = _normalise(body)
    if not s:
        raise CertificateError(raw, "no certificate before the date")

    # EPS-TOPIK first: "eps topik" also contains "topik"
    m = re.fullmatch(r"eps ?topik(?: (?:score|diem))?(?: (\d{1,3}(?:\.\d+)?))?(?: ?(?:diem|points?|d))?", s)
    if m:
        if m.group(1) is None:
            if not requirement:
                raise CertificateError(raw, "an EPS-TOPIK certificate needs its score, e.g. 'EPS-TOPIK 152'")
            score = float(EPS_TOPIK_PASS)
        else:
            score = _number(m.group(1))
        if not 0 <= score <= 200:
            raise CertificateError(raw, f"an EPS-TOPIK score is between 0 and 200, got {m.group(1)}")
        level = 1 if score >= EPS_TOPIK_PASS else 0
        return _cert(raw, "eps_topik", None, score, level, date, prec)

    m = re.fullmatch(r"(?:jlpt ?)?n ?([1-5])(?: (\d{1,3}))?", s)
    if m:
        label = f"N{m.group(1)}"
        level = JLPT_LEVEL[label]
        score = _number(m.group(2)) if m.group(2) else None
        if score is not None:
            if not 0 <= score <= 180:
                raise CertificateError(raw, f"a JLPT total score is between 0 and 180, got {m.group(2)}")
            if label == "N3" and score < JLPT_N3_B1_MIN_SCORE:
                level = 2
        return _cert(raw, "jlpt", label, score, level, date, prec)
    if s.startswith("jlpt"):
        raise CertificateError(raw, "JLPT levels are N1 to N5")

    m = re.fullmatch(r"jft(?: ?basic)?(?: (a1|a2|\d{1,3}(?:\.\d+)?))?", s)
    if m:
        v = m.group(1)
        if v is None:
            raise CertificateError(raw, "JFT-Basic needs 'A2' (or 'A1') or the score, e.g. 'JFT-Basic 215'")
        if v in ("a1", "a2"):
            return _cert(raw, "jft", v.upper(), None, 1 if v == "a1" else 2, date, prec)
        score = _number(v)
        if not 10 <= score <= 250:
            raise CertificateError(raw, f"a JFT-Basic score is between 10 and 250, got {v}")
        level = _jft_level(score)
        return _cert(raw, "jft", None, score, level, date, prec)

    m = re.fullmatch(r"topik(?: (i|ii))?(?: " + _LEVEL_WORD + r")? ?([1-6])(?: ?(?:급|kyu|geup|gup))?", s)
    if m:
        part, n = m.group(1), int(m.group(2))
        if part in ("i", "ii") and ((part == "i") != (n <= 2)):
            raise CertificateError(raw, f"TOPIK {part.upper()} awards levels {'1-2' if part == 'i' else '3-6'}, not {n}")
        return _cert(raw, "topik", str(n), None, n, date, prec)
    if s.startswith("topik"):
        raise CertificateError(raw, "TOPIK levels are 1 to 6")

    m = re.fullmatch(r"(?:goethe(?: zertifikat)?) " + _CEFR, s)
    if m:
        label = m.group(1).upper()
        return _cert(raw, "goethe", label, None, CEFR_LABELS.index(label) + 1, date, prec)

    m = re.fullmatch(r"cefr " + _CEFR + r"(?: ([a-z ]+))?", s)
    if m:
        label = m.group(1).upper()
        lang = "en"
        if m.group(2):
            lang = _LANG_WORDS.get(m.group(2).strip())
            if lang is None:
                raise CertificateError(raw, f"unknown language {m.group(2)!r} after the CEFR level (use an ISO code: en, de, fr...)")
        return _cert(raw, "cefr", label, None, CEFR_LABELS.index(label) + 1, date, prec, language=lang)

    m = re.fullmatch(r"([a-z ]+?) " + _CEFR, s)
    if m and m.group(1) in _LANG_WORDS and len(m.group(1)) > 2:
        label = m.group(2).upper()
        return _cert(raw, "cefr", label, None, CEFR_LABELS.index(label) + 1, date, prec,
                     language=_LANG_WORDS[m.group(1)])

    m = re.fullmatch(r"(hsk|tocfl)(?: " + _LEVEL_WORD + r")? ?([1-6]|" + _CEFR[1:-1] + r")", s)
    if m:
        exam, v = m.group(1), m.group(2)
        if v[0] in "abc":
            if exam == "hsk":
                raise CertificateError(raw, "HSK levels are 1 to 6")
            n = CEFR_LABELS.index(v.upper()) + 1  # TOCFL bands A1..C2 are levels 1..6
        else:
            n = int(v)
        return _cert(raw, exam, str(n), None, n, date, prec)
    if s.startswith(("hsk", "tocfl")):
        raise CertificateError(raw, f"{s.split()[0].upper()} levels are 1 to 6")

    if re.fullmatch(_CEFR, s):
        raise CertificateError(raw, "a bare CEFR level does not say which exam or language: write 'CEFR B1', 'Goethe B1' or 'JFT-Basic A2'")
    raise CertificateError(raw, "unknown notation")


@functools.lru_cache(maxsize=50_000)
def parse_certificate(text: str) -> Certificate:
    """Parse one certificate (case, spacing, hyphens and diacritics do not matter).

    Raises :class:`CertificateError` (a ``ValueError``) saying which notations are expected.
    """
    if text is None or not str(text).strip():
        raise CertificateError(str(text or ""), "the text is empty")
    raw = unicodedata.normalize("NFC", str(text)).strip()
    body, date, prec = _split_date(raw)
    return _parse_body(raw, body, date, prec, requirement=False)


_NONE_WORDS = frozenset({"", "none", "no", "khong", "khong yeu cau", "not required", "-", "n a", "na"})


@functools.lru_cache(maxsize=50_000)
def parse_requirement(text: str | None) -> Certificate | None:
    """A job order's language requirement; empty (or "none", "không") means no requirement.

    Same notations as :func:`parse_certificate`; ``EPS-TOPIK`` without a score means the pass
    mark (80). A date in parentheses is accepted and ignored for matching.
    """
    if text is None or _normalise(str(text)) in _NONE_WORDS:
        return None
    raw = unicodedata.normalize("NFC", str(text)).strip()
    body, date, prec = _split_date(raw)
    return _parse_body(raw, body, date, prec, requirement=True)


def parse_certificate_list(text: str | None) -> list[Certificate]:
    """The certificates of a ``;``-separated list (FORMAT.md ``languages``); empty -> ``[]``.

    The error of a bad item names its position and text.
    """
    if not text:
        return []
    items = [p.strip() for p in str(text).split(";")]
    out: list[Certificate] = []
    for i, item in enumerate(items, start=1):
        if not item:
            continue
        try:
            out.append(parse_certificate(item))
        except CertificateError as exc:
            raise CertificateError(item, f"item {i} of the list: {exc.problem}") from None
    return out


# ---------------------------------------------------------------------------------------------
# formatting


def _fmt_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _format_body(c: Certificate) -> str:
    if c.exam == "eps_topik":
        return f"EPS-TOPIK {_fmt_number(c.score or 0)}"
    if c.exam == "jlpt":
        return f"JLPT {c.label}" + (f" {_fmt_number(c.score)}" if c.score is not None else "")
    if c.exam == "jft":
        return f"JFT-Basic {_fmt_number(c.score)}" if c.score is not None else f"JFT-Basic {c.label}"
    if c.exam == "topik":
        return f"TOPIK {c.label}"
    if c.exam == "cefr":
        return f"CEFR {c.label}" + (f" {c.language}" if c.language != "en" else "")
    if c.exam == "goethe":
        return f"Goethe {c.label}"
    if c.exam in ("hsk", "tocfl"):
        return f"{EXAMS[c.exam][0]} {c.label}"
    raise ValueError(f"The 'exam' of a certificate must be one of {sorted(EXAMS)}. Got {c.exam!r} instead.")


def format_certificate(c: Certificate) -> str:
    """The canonical notation: ``parse_certificate(format_certificate(c)) == c``."""
    body = _format_body(c)
    if c.test_date is None:
        return body
    if c.test_date_precision == "year":
        return f"{body} ({c.test_date.year:04d})"
    if c.test_date_precision == "month":
        return f"{body} ({c.test_date.year:04d}-{c.test_date.month:02d})"
    return f"{body} ({c.test_date.isoformat()})"


def shown_certificate(text: str, lang: str = "vi") -> str:
    """A certificate as a person reads it: the canonical name, then its test date in the UI's
    format, as every other date (``JLPT N4 (02/07/2023)``, ``(07/2023)``, ``(2023)``; in English
    ``(Jul 2, 2023)``, ``(Jul 2023)``). Text that does not parse is shown as written. Files and
    forms keep the notation of :func:`format_certificate` (ISO dates)."""
    from models import formatting

    try:
        c = parse_certificate(text)
    except CertificateError:
        return text
    body = _format_body(c)
    if c.test_date is None:
        return body
    if c.test_date_precision == "year":
        when = f"{c.test_date.year:04d}"
    elif c.test_date_precision == "month":
        when = formatting.format_month(c.test_date, lang)
    else:
        when = formatting.format_date(c.test_date, lang)
    return f"{body} ({when})"


# ---------------------------------------------------------------------------------------------
# validity


def assumed_test_date(c: Certificate) -> dt.date | None:
    """The test date used for validity.

    A full date is used as it is; a month-only date counts from the 1st of that month (at most
    one month early); a year-only date counts from July 1st, the middle of the year: lenient for
    a test taken early in the year, strict for one taken late, and wrong by at most six months.
    A counsellor who knows the exact date should record it.
    """
    if c.test_date is None:
        return None
    if c.test_date_precision == "year":
        return dt.date(c.test_date.year, 7, 1)
    if c.test_date_precision == "month":
        return c.test_date.replace(day=1)
    return c.test_date


def _add_years(d: dt.date, years: int) -> dt.date:
    y = d.year + years
    day = min(d.day, calendar.monthrange(y, d.month)[1])  # 29 February -> 28 February
    return d.replace(year=y, day=day)


def expiry_date(c: Certificate) -> dt.date | None:
    """First day on which the certificate no longer counts; ``None`` when it does not expire
    (or, for EPS-TOPIK, when its date is unknown)."""
    if c.exam != "eps_topik":
        return None
    start = assumed_test_date(c)
    return None if start is None else _add_years(start, EPS_TOPIK_VALID_YEARS)


def is_valid_on(c: Certificate, day: dt.date) -> bool:
    """Whether the certificate counts on ``day``.

    EPS-TOPIK: valid for two years from the (assumed) test date, the anniversary excluded
    (DOMAIN.md: "valid 2 years"; "an expired pass does not count"); without a date it cannot be
    shown to be valid and does not count. Other exams do not expire. A test dated after ``day``
    has not been taken yet and does not count.
    """
    if c.test_date is not None and c.test_date > day:
        return False
    if c.exam != "eps_topik":
        return True
    end = expiry_date(c)
    return end is not None and day < end
