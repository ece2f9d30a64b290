"""Column specifications of the interchange files (FORMAT.md) and cell conversions.

One :class:`TableSpec` per file kind (``recruiters``, ``orders`` = ``job_orders.csv``,
``workers``) lists its columns in FORMAT.md order with their type, whether they are
required and the values allowed. :func:`parse_cell` turns a cell's text into a Python value
and :func:`format_cell` turns it back; together they are lossless on every value the
parser accepts (``format_cell(parse_cell(t))`` parses back to the same value).

Conventions
-----------
* **Row numbers** in :class:`FieldError` are what a spreadsheet user sees: the header is
  row 1 and the first data row is row 2 (for an .xlsx sheet, the sheet's own row number).
* All text is NFC-normalised and stripped of surrounding whitespace; line breaks inside a
  cell are stored as ``\n`` (CR LF and lone CR become LF).
* **Formula injection.** A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is executed as a formula by spreadsheet programs. Exports therefore
  prefix such a cell with one single quote (:func:`escape_formula`), and imports remove
  exactly that one quote again (:func:`unescape_formula`) when it is followed by one of
  those characters (possibly after further quotes). The pair is a bijection, so
  import -> export -> import is lossless; a cell that really starts with ``'=`` is written
  as ``''=``.
* Numbers are plain: ``170000`` or ``170000.5`` (surrounding spaces tolerated); no
  thousands separators. In money columns ``170.000`` (the Vietnamese way of writing
  170 thousand) is refused rather than silently read as 170; the exporter never writes
  a number in that shape (``170.123`` is written ``170.1230``).
* **Names for codes.** Enum columns and country columns store FORMAT.md's codes but also
  read the names people type (``models.labels``): gender "Nữ", "nu", "F"; education "THPT",
  "Trung cấp", "Cao đẳng", "Đại học"; countries "Nhật Bản", "Hàn Quốc", "Đài Loan", "Đức"
  or "Japan", with or without diacritics, in any case. Exports write the codes.
* ``workers.ethnicity`` is one of the 54 official names (``models.ethnicities``); unaccented
  and variant spellings ("Tay", "H'Mong") are read as the official name, anything else is
  refused. ``workers.national_id`` (CCCĐ) is checked by ``models.identity`` (12 digits,
  province code; century, gender and birth year against the row's ``birth_date`` and
  ``gender``); spaces and dots between digit groups are dropped.
* Optional extension columns (``recruiter_type``; ``consent_date``, ``consent_scope``)
  are attributes of the models that FORMAT.md does not list: they are
  read when present and exported only when some row has a value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from models import JobOrder, Recruiter, Worker, formatting, labels
from models.ethnicities import OFFICIAL_NAMES, official_ethnicity
from models.identity import national_id_problem, normalise_national_id
from models.labels import Vocabulary
from models.enums import (
    EDUCATION_LEVELS,
    GENDERS,
    GENDERS_REQUIRED,
    HOUSEHOLDS,
    LANGUAGE_TRAINING,
    LICENCE_STATUSES,
    ORDER_STATUSES,
    PROGRAMMES,
    RECRUITER_KINDS,
    ROUTES,
)

TYPES = ("str", "int", "float", "date", "bool", "enum", "list", "experience", "certificates")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
LIST_JOINER = "; "
TRUE_WORDS = frozenset({"true", "1", "yes", "có", "co", "y", "x"})
FALSE_WORDS = frozenset({"false", "0", "no", "không", "khong", "n"})

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MONEY_MAX = 10**15  # no wage, fee or deposit comes near a million billion (in any currency)
MAX_YEARS = 80  # years of experience an order may ask for
_INT_RE = re.compile(r"[+-]?\d+(?:\.0*)?")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_ESCAPED_RE = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_ESCAPE_RE = re.compile(r"'*[=+\-@\t\r]")


class FieldError(ValueError):
    """A value (or a whole file) that does not follow FORMAT.md.

    Attributes: ``file`` (name as the user knows it), ``row`` (spreadsheet row number:
    header = row 1, first data row = row 2; ``None`` for a file-level problem), ``column``
    (``None`` for a row- or file-level problem), ``value`` (the cell text as read),
    ``expected`` (what would have been accepted), ``vi`` (the problem in Vietnamese, when
    known: it then comes first). ``str(err)`` reads e.g.
    ``workers.csv row 17, birth_date: '31/02/1999' is not a date (dd/mm/yyyy or YYYY-MM-DD)``.
    """

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        value: Any,
        expected: str,
        problem: str | None = None,
        vi: str | None = None,
    ):
        self.vi = vi
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        self.problem = problem
        super().__init__(self.message)

    @property
    def location(self) -> str:
        where = self.file or "input"
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", {self.column}"
        return where

    @property
    def message(self) -> str:
        if self.problem is not None:
            detail = self.problem
        else:
            detail = f"{_show(self.value)} is not {self.expected}"
        if self.vi:
            detail = f"{self.vi} / {detail}"
        return f"{self.location}: {detail}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable despite the keyword-rich constructor
        return (
            type(self),
            (self.file, self.row, self.column, self.value, self.expected, self.problem, self.vi),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "vi": self.vi,
            "message": self.message,
        }


def _show(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


# --------------------------------------------------------------------------------------
# Column specifications


@dataclass(frozen=True)
class Column:
    """One column of an interchange file.

    ``type`` is one of :data:`TYPES`; ``fmt`` refines it (``country``, ``currency``,
    ``money``); ``attr`` is the model attribute when it differs from ``name``;
    ``default`` is the value of an empty optional cell; ``extension`` marks a column the
    models have but FORMAT.md does not list; ``names`` is the vocabulary whose names an
    enum column also reads ("Nữ" for ``female``).
    """

    name: str
    type: str = "str"
    required: bool = False
    allowed: tuple[str, ...] = ()
    fmt: str | None = None
    attr: str | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    extension: bool = False
    names: Vocabulary | None = None  # the names people type for the codes (models.labels)

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"Column {self.name!r}: type must be one of {TYPES}; got {self.type!r}")

    @property
    def attribute(self) -> str:
        return self.attr or self.name

    def empty_value(self) -> Any:
        """The value an empty (optional) cell stands for."""
        if self.type in ("list", "experience", "certificates"):
            return []
        return self.default


@dataclass(frozen=True)
class TableSpec:
    kind: str  # "recruiters", "orders", "workers"
    filename: str  # the file name FORMAT.md uses
    entity: type
    id_column: str
    label: str  # singular entity name used in messages and audit events
    columns: tuple[Column, ...]
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def format_columns(self) -> list[Column]:
        """The columns FORMAT.md lists, in its order."""
        return [c for c in self.columns if not c.extension]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _with_lengths(entity: type, columns: list[Column]) -> tuple[Column, ...]:
    """Fill ``max_length`` from the mapped String(n) columns, so PostgreSQL never refuses."""
    table = entity.__table__
    out = []
    for c in columns:
        length = None
        if c.type in ("str", "enum") and c.attribute in table.c:
            length = getattr(table.c[c.attribute].type, "length", None)
        if c.type == "certificates":
            length = 100  # LanguageCertificate.raw, per certificate
        if length and c.max_length is None:
            c = Column(**{**c.__dict__, "max_length": length})
        out.append(c)
    return tuple(out)


RECRUITERS = TableSpec(
    kind="recruiters",
    filename="recruiters.csv",
    entity=Recruiter,
    id_column="recruiter_id",
    label="recruiter",
    columns=_with_lengths(
        Recruiter,
        [
            Column("recruiter_id", required=True),
            Column("name", required=True),
            Column("licence_no", required=True),
            Column("licence_date", "date"),
            Column("status", "enum", required=True, allowed=LICENCE_STATUSES, names=labels.LICENCE_STATUSES),
            Column("status_date", "date"),
            Column("markets", "list", fmt="country"),
            Column("website"),
            Column("phone"),
            Column("licence_verified_on", "date"),
            Column("recruiter_type", "enum", allowed=RECRUITER_KINDS, extension=True, names=labels.RECRUITER_KINDS),
        ],
    ),
)

ORDERS = TableSpec(
    kind="orders",
    filename="job_orders.csv",
    entity=JobOrder,
    id_column="order_id",
    label="order",
    columns=_with_lengths(
        JobOrder,
        [
            Column("order_id", required=True),
            Column("recruiter_id", required=True),
            Column("title", required=True),
            Column("description"),
            Column("country", required=True, fmt="country"),
            Column("programme", "enum", allowed=PROGRAMMES, names=labels.PROGRAMMES),
            Column("route", "enum", allowed=ROUTES, names=labels.ROUTES),
            Column("required_skills", "list"),
            Column("language_requirement"),
            Column("min_age", "int", minimum=0),
            Column("max_age", "int", minimum=0),
            Column("gender", "enum", allowed=GENDERS_REQUIRED, names=labels.GENDERS),
            Column("min_education", "enum", allowed=EDUCATION_LEVELS, names=labels.EDUCATION),
            Column("min_experience_years", "float", minimum=0, maximum=MAX_YEARS),
            Column("positions", "int", required=True, minimum=0),
            Column("monthly_wage", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("wage_currency", fmt="currency"),
            Column("contract_months", "int", minimum=0),
            Column("service_fee_vnd", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("brokerage_fee_vnd", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("deposit_vnd", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("approval_no"),
            Column("approval_date", "date"),
            Column("deadline", "date"),
            Column("departure_date", "date"),
            Column("status", "enum", allowed=ORDER_STATUSES, default="open", names=labels.ORDER_STATUSES),
        ],
    ),
)

WORKERS = TableSpec(
    kind="workers",
    filename="workers.csv",
    entity=Worker,
    id_column="worker_id",
    label="worker",
    columns=_with_lengths(
        Worker,
        [
            Column("worker_id", required=True),
            Column("full_name", required=True),
            Column("birth_date", "date", required=True),
            Column("gender", "enum", allowed=GENDERS, names=labels.GENDERS),
            Column("commune"),
            Column("former_district"),
            Column("disadvantaged_commune", "bool"),
            Column("ethnicity", fmt="ethnicity", allowed=OFFICIAL_NAMES),
            Column("household", "enum", allowed=HOUSEHOLDS, names=labels.HOUSEHOLDS),
            Column("education", "enum", allowed=EDUCATION_LEVELS, names=labels.EDUCATION),
            Column("skills", "list"),
            Column("experience", "experience"),
            Column("languages", "certificates", attr="certificates"),
            Column("language_training", "enum", allowed=LANGUAGE_TRAINING, names=labels.LANGUAGE_TRAINING),
            Column("preferred_countries", "list", fmt="country"),
            Column("preferred_sectors", "list"),
            Column("min_wage_vnd", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("max_fee_vnd", "float", fmt="money", minimum=0, maximum=MONEY_MAX),
            Column("available_from", "date"),
            Column("consent_share", "bool", default=False),
            Column("phone"),
            Column("national_id", fmt="national_id"),
            Column("consent_date", "date", extension=True),
            Column("consent_scope", extension=True),
        ],
    ),
)

SPECS: dict[str, TableSpec] = {"recruiters": RECRUITERS, "orders": ORDERS, "workers": WORKERS}
KIND_ALIASES = {
    "recruiter": "recruiters",
    "recruiters": "recruiters",
    "order": "orders",
    "orders": "orders",
    "job_orders": "orders",
    "job-orders": "orders",
    "worker": "workers",
    "workers": "workers",
}
# Import order inside a batch: orders reference recruiters.
KIND_ORDER = ("recruiters", "orders", "workers")


def get_spec(kind: str) -> TableSpec:
    """The spec for ``kind`` (``recruiters``, ``orders``/``job_orders``, ``workers``)."""
    try:
        return SPECS[KIND_ALIASES[kind.strip().lower()]]
    except KeyError:
        raise ValueError(
            f"unknown kind {kind!r}: expected one of recruiters, orders (job_orders), workers"
        ) from None


def header_key(name: str) -> str:
    """How a header cell is matched to a column name: NFC, trimmed, case- and spacing-blind."""
    text = unicodedata.normalize("NFC", name).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


# --------------------------------------------------------------------------------------
# Text helpers


def normalise_text(text: str) -> str:
    """NFC-normalise, write line breaks inside a cell as ``\\n`` (a workbook cannot keep a
    lone CR), and strip surrounding whitespace."""
    text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def escape_formula(text: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula by prefixing one quote."""
    if _NEEDS_ESCAPE_RE.match(text):
        return "'" + text
    return text


def is_escaped(text: str) -> bool:
    """True when ``text`` was already neutralised by :func:`escape_formula`."""
    return bool(_ESCAPED_RE.match(text))


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula`: drop exactly one leading quote before a formula start."""
    if _ESCAPED_RE.match(text):
        return text[1:]
    return text


def clean_cell(raw: str | None) -> str:
    """Cell text as read -> the text the parsers see (NFC, stripped, formula quote removed)."""
    if raw is None:
        return ""
    return unescape_formula(normalise_text(raw))


_CONTROL_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # Cc and Cs but tab, LF, CR


def _control_char(text: str) -> str | None:
    m = _CONTROL_CHAR.search(text)
    return m.group() if m else None


def number_text(value: float | int) -> str:
    """A number in the plain notation FORMAT.md uses: ``3``, ``1.5``, ``170000``.

    Whole floats lose their ``.0``; no exponent is ever written; a value that would read
    like a thousands-separated number (``170.123``) gets one trailing zero.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"cannot write {value!r} as a plain number")
    if float(value).is_integer():
        return str(int(value))
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if re.fullmatch(r"-?\d{1,3}\.\d{3}", text):
        text += "0"
    return text


# --------------------------------------------------------------------------------------
# Parsing: cell text -> value


# Vietnamese message for each way a cell can be wrong, when the parser gives none (the English
# one is FieldError's): the same text beside a form field and in an import's error list.
VI_BY_TYPE = {
    "date": "Cần một ngày dạng NN/TT/NNNN hoặc NNNN-TT-NN, ví dụ 01/07/2025.",
    "int": "Cần một số nguyên, ví dụ 12.",
    "float": "Cần một số (chỉ chữ số, ví dụ 170000 hoặc 1.5).",
    "enum": "Hãy chọn một giá trị trong danh sách.",
    "bool": "Chỉ được là có hoặc không (có/không, true/false, 1/0).",
    "experience": "Viết dạng «nghề: số năm», cách nhau bằng dấu chấm phẩy, ví dụ «thợ hàn: 3; xây dựng: 1.5».",
    "certificates": "Không đọc được chứng chỉ; ví dụ «JLPT N4 (07/2024)», «EPS-TOPIK 152 (2025)», «TOPIK 2».",
    "list": "Danh sách cách nhau bằng dấu chấm phẩy (;).",
    "str": "Giá trị không hợp lệ.",
}
VI_BY_FMT = {
    "country": "Cần tên hoặc mã nước, ví dụ Nhật Bản, Hàn Quốc, TW, DE.",
    "currency": "Cần mã tiền tệ 3 chữ cái, ví dụ JPY, KRW, TWD, EUR, USD.",
}

def vi_problem(column: Column, exc: FieldError) -> str:
    """The Vietnamese message of a cell error that carries none of its own."""
    if exc.problem and "required" in exc.problem:
        return "Bắt buộc nhập."
    if exc.expected.startswith("a number of at least"):
        return "Không được là số âm."
    if exc.expected.startswith("a number of at most") and column.maximum is not None:
        return f"Số quá lớn (tối đa {formatting.format_number(column.maximum)})."
    if exc.expected.startswith("text of at most") or "too long" in (exc.problem or ""):
        return f"Quá dài (tối đa {column.max_length} ký tự)."
    if "control character" in (exc.expected or ""):
        return "Có ký tự điều khiển không hợp lệ."
    if column.fmt == "money" and exc.expected == "a plain number":
        return "Chỉ viết chữ số, không dùng dấu phân cách nghìn."
    return VI_BY_FMT.get(column.fmt or "", VI_BY_TYPE.get(column.type, VI_BY_TYPE["str"]))


def parse_cell(column: Column, text: str, *, file: str = "", row: int | None = None) -> Any:
    """Convert one cleaned cell (see :func:`clean_cell`) into the column's Python value.

    Raises:
        FieldError: the text does not fit the column (message names file, row, column).
    """

    def fail(expected: str, problem: str | None = None, value: Any = text, vi: str | None = None) -> FieldError:
        err = FieldError(file, row, column.name, value, expected, problem, vi)
        if vi is None:
            err.vi = vi_problem(column, err)  # Vietnamese first, in imports as in forms
        return err

    bad = _control_char(text)
    if bad is not None:
        raise fail(
            "text without control characters",
            f"{_show(text)} contains the control character U+{ord(bad):04X}; remove it",
        )
    if text == "":
        if column.required:
            raise fail("a value", "is required but the cell is empty")
        return column.empty_value()

    kind = column.type
    if kind == "str":
        value = _parse_str(column, text, fail)
    elif kind == "int":
        value = _parse_int(column, text, fail)
    elif kind == "float":
        value = _parse_float(column, text, fail)
    elif kind == "date":
        value = _parse_date(text, fail)
    elif kind == "bool":
        value = _parse_bool(text, fail)
    elif kind == "enum":
        value = _parse_enum(column, text, fail)
    elif kind == "list":
        value = [_parse_str(column, item, fail, whole=text) for item in split_list(text)]
    elif kind == "experience":
        value = _parse_experience(text, fail)
    elif kind == "certificates":
        value = _parse_certificates(column, text, fail)
    else:  # pragma: no cover - guarded by Column.__post_init__
        raise AssertionError(kind)
    if column.minimum is not None and isinstance(value, (int, float)) and value < column.minimum:
        raise fail(f"a number of at least {number_text(column.minimum)}")
    if column.maximum is not None and isinstance(value, (int, float)) and value > column.maximum:
        raise fail(f"a number of at most {number_text(column.maximum)}")
    return value


# Characters a cell may not hold (control characters other than tab and line breaks): the set
# ``_control_char`` refuses, as a JSON Schema character class. Lone surrogates, which it refuses
# too, are left out: no UTF-8 JSON text carries one, and regex engines that work on code points
# (Rust's, which schema tools use) cannot name them.
_REFUSED_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
TEXT_PATTERN = f"^[^{_REFUSED_CHARS}]*$"
NON_BLANK_TEXT_PATTERN = f"^[^{_REFUSED_CHARS}]*[^\\s{_REFUSED_CHARS}][^{_REFUSED_CHARS}]*$"
ISO_DATE_SCHEMA = {"type": "string", "format": "date"}


def json_schema(column: Column) -> dict[str, Any]:
    """The JSON Schema of a JSON value that :func:`parse_cell` accepts for ``column`` once a JSON
    body is read like a form (``web.services.forms.Form.from_json``): the API document is built
    from it, so what the schema calls valid is what the parser takes.

    The schema names the canonical forms (codes, ISO dates, plain numbers); the parser also reads
    what people type (a country's name, "Nữ", "28/02/1999"), which the descriptions say."""
    kind = column.type
    if kind == "int":
        lo = INT_MIN if column.minimum is None else max(INT_MIN, int(math.ceil(column.minimum)))
        hi = INT_MAX if column.maximum is None else min(INT_MAX, int(column.maximum))
        schema: dict[str, Any] = {"type": "integer", "minimum": lo, "maximum": hi}
    elif kind == "float":
        schema = {"type": "number"}
        if column.minimum is not None:
            schema["minimum"] = column.minimum
        if column.maximum is not None:
            schema["maximum"] = column.maximum
    elif kind == "date":
        schema = {**ISO_DATE_SCHEMA, "description": "YYYY-MM-DD (dd/mm/yyyy is also read)"}
    elif kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "enum":
        schema = {"type": "string", "enum": list(column.allowed)}
    elif kind == "list":
        item = {"type": "string", "pattern": TEXT_PATTERN}
        schema = {"anyOf": [{"type": "array", "items": item}, item],
                  "description": "a list, or one text with the items separated by ';'"}
    elif column.fmt == "country":
        schema = {"type": "string", "enum": sorted(labels.COUNTRIES.names),
                  "description": "ISO 3166 alpha-2 code (a country's name is also read)"}
    elif column.fmt == "currency":
        schema = {"type": "string", "pattern": "^[A-Za-z]{3}$", "description": "ISO 4217 code"}
    elif kind == "str":
        schema = {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN if column.required else TEXT_PATTERN}
        if column.max_length is not None:
            schema["maxLength"] = column.max_length
    else:  # experience, certificates: the parsers' own notations, checked by the server
        schema = {"type": "string", "pattern": TEXT_PATTERN}
    if not column.required:
        # null, or an empty string for a text-typed field: both leave the field unset
        unset = [{"type": "null"}]
        if schema.get("type") == "string" and not _matches_empty(schema):
            unset.append({"const": ""})
        return {"anyOf": [schema, *unset]}
    return schema


def _matches_empty(schema: dict[str, Any]) -> bool:
    pattern = schema.get("pattern")
    return "enum" not in schema and "format" not in schema and (pattern is None or re.search(pattern, "") is not None)


def split_list(text: str) -> list[str]:
    """Items of a ``;``-separated list cell, trimmed, empty items dropped."""
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def _parse_str(column: Column, text: str, fail, whole: str | None = None) -> str:
    if column.fmt == "country":
        code = labels.COUNTRIES.read(text)  # a known code in any case, or a name
        if code is None:
            raise fail(
                "a country code (ISO 3166 alpha-2, e.g. JP, KR, TW, DE) or a country's name (e.g. Japan, Nhật Bản)",
                vi=f"{_show(text)} không phải mã hay tên một nước (ví dụ JP, Nhật Bản, Hàn Quốc, Đài Loan, Đức; "
                "có dấu hay không dấu đều được)",
                value=text,
            )
        return code
    if column.fmt == "national_id":
        nid = normalise_national_id(text)
        problem = national_id_problem(nid)
        if problem is not None:
            raise fail("a 12-digit CCCĐ number", problem.en, vi=problem.vi)
        return nid
    if column.fmt == "ethnicity":
        name = official_ethnicity(text)
        if name is None:
            raise fail(
                "one of Vietnam's 54 ethnic groups",
                f"{_show(text)} is not one of Vietnam's 54 recognised ethnic groups (e.g. Tày, Nùng, Mông, "
                "Dao, Kinh, Sán Chay, Lô Lô; written with or without diacritics)",
                vi=f"{_show(text)} không phải tên một trong 54 dân tộc Việt Nam (ví dụ Tày, Nùng, Mông, Dao, "
                "Kinh, Sán Chay, Lô Lô; viết có dấu hay không dấu đều được)",
            )
        return name
    if column.fmt == "currency":
        code = text.upper()
        if not _CURRENCY_RE.fullmatch(code):
            raise fail("a currency code (ISO 4217, e.g. JPY, KRW, TWD, EUR)")
        return code
    if column.max_length is not None and len(text) > column.max_length:
        raise fail(
            f"text of at most {column.max_length} characters",
            f"{_show(whole or text)} is too long ({len(text)} characters; at most "
            f"{column.max_length})",
        )
    return text


def _parse_int(column: Column, text: str, fail) -> int:
    if not _INT_RE.fullmatch(text):
        if _FLOAT_RE.fullmatch(text):
            raise fail("a whole number")
        raise fail("a whole number (plain digits, e.g. 12)")
    value = int(text.split(".", 1)[0])
    if not INT_MIN <= value <= INT_MAX:  # the database column is a 32-bit INTEGER
        raise fail(f"a whole number between {INT_MIN} and {INT_MAX}")
    return value


def _parse_float(column: Column, text: str, fail) -> float:
    money = column.fmt == "money"
    if money and _THOUSANDS_RE.fullmatch(text):
        raise fail(
            "a plain number",
            f"{_show(text)} looks like a number with thousands separators; write plain "
            f"digits, e.g. {text.replace('.', '').replace(',', '')}",
        )
    if not _FLOAT_RE.fullmatch(text):
        raise fail("a number (plain digits, e.g. 170000 or 1.5)")
    value = float(text)
    if not math.isfinite(value):  # 400 nines read as inf, which no export can write back
        raise fail("a number (plain digits, e.g. 170000 or 1.5)", f"{_show(text)} is too large a number")
    return value


def _parse_date(text: str, fail) -> dt.date:
    m = _DATE_RE.fullmatch(text)
    try:
        # ISO (what exports write) or the dd/mm/yyyy people type; one parser in models.formatting.
        value = formatting.parse_date(m.group(1) if m else text)
    except ValueError:
        value = None
    if value is None:
        raise fail("a date (dd/mm/yyyy or YYYY-MM-DD)")
    return value


def _parse_bool(text: str, fail) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise fail("true or false (also accepted: 1/0, yes/no, có/không)")


def _parse_enum(column: Column, text: str, fail) -> str:
    """The code, or the name people write for it (``column.names``: "Nữ", "nu", "F" for
    ``female``; "THPT" for ``upper_secondary``), with or without diacritics, in any case."""
    word = re.sub(r"[\s\-]+", "_", text.lower())
    if word in column.allowed:
        return word
    code = column.names.read(text) if column.names is not None else None
    if code in column.allowed:
        return code
    codes = ", ".join(column.allowed)
    if column.names is None:
        raise fail("one of " + codes)
    raise fail(
        f"one of {codes} (or {column.names.accepted(column.allowed, 'en')})",
        vi=f"{_show(text)} không hợp lệ; hãy ghi một trong: {column.names.accepted(column.allowed)} "
        f"(hoặc mã {codes})",
    )


def _parse_experience(text: str, fail) -> list[dict[str, Any]]:
    out = []
    for item in split_list(text):
        occupation, sep, years_text = item.rpartition(":")
        occupation = occupation.strip()
        years_text = years_text.strip()
        if not sep or not occupation or not _FLOAT_RE.fullmatch(years_text):
            raise fail(
                "a list of 'occupation: years' (e.g. 'tho han: 3; xay dung: 1.5')",
                f"item {_show(item)} is not 'occupation: years' (e.g. 'tho han: 3; xay dung: 1.5')",
            )
        years = float(years_text)
        if years < 0:
            raise fail("a list of 'occupation: years' with years >= 0")
        out.append({"occupation": occupation, "years": years})
    return out


def _parse_certificates(column: Column, text: str, fail) -> list[Any]:
    from models.languages import CertificateError, parse_certificate

    out = []
    for item in split_list(text):
        if column.max_length is not None and len(item) > column.max_length:
            raise fail(
                f"certificates of at most {column.max_length} characters each",
                f"certificate {_show(item)} is too long (at most {column.max_length} characters)",
            )
        try:
            out.append(parse_certificate(item))
        except CertificateError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise fail(
                "a list of certificates such as 'JLPT N4 (2024-07)' or 'EPS-TOPIK 152 (2025)'",
                f"certificate {_show(item)} not understood: {problem} (write e.g. "
                f"'JLPT N4 (2024-07)', 'EPS-TOPIK 152 (2025)', 'TOPIK 2', 'CEFR B1')",
            ) from None
    return out


# --------------------------------------------------------------------------------------
# Formatting: value -> cell text


def format_cell(column: Column, value: Any) -> str:
    """Convert a model value into the cell text the importer reads back unchanged.

    The text is not yet formula-escaped; the exporter applies :func:`escape_formula`.
    """
    if value is None:
        return ""
    kind = column.type
    if kind in ("str", "enum"):
        return str(value)
    if kind in ("int", "float"):
        return number_text(value)
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.isoformat()
    if kind == "bool":
        return "true" if value else "false"
    if kind == "list":
        return LIST_JOINER.join(str(v) for v in value or [])
    if kind == "experience":
        return LIST_JOINER.join(
            f"{item['occupation']}: {number_text(item['years'])}" for item in value or []
        )
    if kind == "certificates":
        return LIST_JOINER.join(c.raw for c in value or [])
    raise AssertionError(kind)  # pragma: no cover
