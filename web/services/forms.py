"""Server-side forms for workers, orders, enterprises and users.

Each field is a column of the interchange format (``data.formats``), so a value typed in a form
is read exactly like a spreadsheet cell; the form adds Vietnamese labels, the widget to draw,
Vietnamese-first error messages shown beside the field, and a few cross-field checks. The JSON
API uses the same forms (``Form.from_json``), so the pages and the API accept the same values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

from data.formats import (
    LIST_JOINER,
    ORDERS,
    RECRUITERS,
    WORKERS,
    Column,
    FieldError,
    clean_cell,
    format_cell,
    json_schema,
    number_text,
    parse_cell,
)
from models import LanguageCertificate
from models.identity import national_id_problem
from models.labels import COUNTRIES

_THOUSANDS_DOTS = re.compile(r"\d{1,3}(?:\.\d{3})+")
MIN_AGE, MAX_AGE = 15, 70  # the ages an order may ask for


_JSON_TYPES = {  # column type -> the JSON types the API document gives it, and their names
    "int": ((int,), "số nguyên", "an integer"),
    "float": ((int, float), "số", "a number"),
    "bool": ((bool,), "true hoặc false", "true or false"),
    "list": ((list, str), "danh sách hoặc chuỗi", "a list or a string"),
}


def _json_type_problem(column: Column, value: Any) -> tuple[str, str] | None:
    """(vi, en) when a JSON value is not of the type the document gives ``column``: the API
    takes what its document says (a number as a number), where a form takes text."""
    types, vi, en = _JSON_TYPES.get(column.type, ((str,), "chuỗi", "a string"))
    ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
    if column.type == "int" and isinstance(value, float) and value.is_integer():
        ok = True  # 3.0 is the integer 3 in JSON Schema
    if column.type == "list" and isinstance(value, list):
        ok = all(isinstance(v, str) for v in value)
    if ok:
        return None
    return f"Cần {vi}.", f"Expected {en}, got {type(value).__name__}."


def _json_number(value: int | float) -> str:
    """A JSON number as the parsers read it: plain digits, never an exponent."""
    try:
        return number_text(value)
    except ValueError:  # nan or infinity (not JSON, but Python's json reads them): refused by the parser
        return str(value)


@dataclass(frozen=True)
class Field:
    """A form field: a format column, its labels, its widget and an optional hint."""

    column: Column
    vi: str
    en: str
    widget: str = "text"  # text, textarea, date, number, select, checkbox, tel
    hint_vi: str = ""
    hint_en: str = ""
    required: bool | None = None  # None: as the column says

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def is_required(self) -> bool:
        return self.column.required if self.required is None else self.required

    @property
    def choices(self) -> tuple[str, ...]:
        return self.column.allowed


class Form:
    """Raw text per field, parsed values and errors ``{name: (vi, en)}``."""

    fields: tuple[Field, ...] = ()

    def __init__(self, data: Mapping[str, Any] | None = None, obj: Any = None):
        self.errors: dict[str, tuple[str, str]] = {}
        self.wrong_type: dict[str, tuple[str, str]] = {}  # JSON values of the wrong type (from_json)
        self.values: dict[str, Any] = {}
        self.raw: dict[str, str] = {}
        self.submitted = data is not None
        for f in self.fields:
            if data is not None:
                if f.widget == "checkbox":
                    self.raw[f.name] = "true" if data.get(f.name) not in (None, "", "false", "0", "off") else "false"
                else:
                    self.raw[f.name] = str(data.get(f.name, "") or "")
            elif obj is not None:
                self.raw[f.name] = _shown(f.column, getattr(obj, f.column.attribute, None))
            else:
                default = f.column.default
                self.raw[f.name] = "" if default is None else format_cell(f.column, default)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "Form":
        """A form filled from a JSON object: lists joined with ``;``, numbers and booleans as text."""
        data: dict[str, str] = {}
        wrong_type: dict[str, tuple[str, str]] = {}
        for f in cls.fields:
            if f.name not in body or body[f.name] is None:
                continue
            value = body[f.name]
            problem = _json_type_problem(f.column, value)
            if problem is not None:
                wrong_type[f.name] = problem
                continue
            if isinstance(value, bool):
                data[f.name] = "true" if value else "false"
            elif isinstance(value, list):
                data[f.name] = "; ".join(str(v) for v in value)
            elif isinstance(value, (int, float)):
                data[f.name] = _json_number(value)  # 1e-05 -> "0.00001": the parsers read plain digits
            else:
                data[f.name] = str(value)
        form = cls(data)
        form.wrong_type = wrong_type
        return form

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a body :meth:`from_json` turns into a valid form: each field's
        column schema (``data.formats.json_schema``) narrowed by :meth:`field_schemas`, and the
        cross-field rules of :meth:`check` as far as JSON Schema can say them
        (:meth:`cross_field_schema`). The API document publishes it."""
        props = {f.name: json_schema(f.column) for f in cls.fields}
        props.update(cls.field_schemas())
        schema: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "required": [f.name for f in cls.fields if f.is_required],
            "additionalProperties": False,
        }
        rules = cls.cross_field_schema()
        if rules:
            schema["allOf"] = rules
        return schema

    @classmethod
    def field_schemas(cls) -> dict[str, dict]:
        """Schemas of fields whose :meth:`check` narrows the column's (none by default)."""
        return {}

    @classmethod
    def cross_field_schema(cls) -> list[dict]:
        """JSON Schema clauses for :meth:`check`'s rules between fields (none by default)."""
        return []

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def error(self, name: str, vi: str, en: str) -> None:
        self.errors.setdefault(name, (vi, en))

    def validate(self) -> bool:
        self.values, self.errors = {}, {}
        for f in self.fields:
            text = clean_cell(self.raw.get(f.name, ""))
            if f.column.fmt == "money" and _THOUSANDS_DOTS.fullmatch(text.replace(" ", "")):
                text = text.replace(" ", "").replace(".", "")  # 30.000.000 as people write it
            if text == "" and f.is_required:
                self.error(f.name, "Bắt buộc nhập.", "Required.")
                continue
            try:
                self.values[f.name] = parse_cell(f.column, text, file="form")
            except FieldError as exc:
                self.error(f.name, exc.vi or "Giá trị không hợp lệ.", exc.problem or f"Expected {exc.expected}.")
        self.check()
        for name, problem in self.wrong_type.items():  # a JSON value of the wrong type
            self.errors[name] = problem
        return not self.errors

    def check(self) -> None:
        """Cross-field checks; subclasses add errors with ``self.error``."""


def _shown(column: Column, value: Any) -> str:
    """A stored value as the form shows it for editing: countries by their names ("Nhật Bản;
    Đài Loan", read back as the same codes), everything else as the interchange cell."""
    if column.fmt == "country" and value:
        codes = value if isinstance(value, list) else [value]
        return LIST_JOINER.join(COUNTRIES.typed(str(c)) for c in codes)
    return format_cell(column, value)


def _col(spec, name: str) -> Column:
    return spec.by_name[name]


# ----------------------------------------------------------------------------- workers

_PHONE = re.compile(r"\+?\d[\d .-]{7,14}\d")


class WorkerForm(Form):
    W = WORKERS
    fields = (
        Field(_col(W, "full_name"), "Họ và tên", "Full name"),
        Field(_col(W, "birth_date"), "Ngày sinh", "Date of birth", "date"),
        Field(_col(W, "gender"), "Giới tính", "Gender", "select"),
        Field(_col(W, "commune"), "Xã / phường", "Commune or ward"),
        Field(_col(W, "former_district"), "Huyện cũ (trước 01/7/2025)", "Former district (before Jul 1, 2025)"),
        Field(_col(W, "disadvantaged_commune"), "Xã đặc biệt khó khăn", "Especially disadvantaged commune", "checkbox"),
        Field(_col(W, "ethnicity"), "Dân tộc", "Ethnic group", "select"),
        Field(_col(W, "household"), "Hộ gia đình", "Household", "select"),
        Field(_col(W, "education"), "Trình độ học vấn", "Education", "select"),
        Field(_col(W, "skills"), "Kỹ năng", "Skills", "textarea", "Cách nhau bằng dấu chấm phẩy (;)", "Separated by ;"),
        Field(_col(W, "experience"), "Kinh nghiệm", "Experience", "textarea", "Ví dụ: thợ hàn: 3; xây dựng: 1.5", "e.g. welder: 3; construction: 1.5"),
        Field(_col(W, "languages"), "Chứng chỉ ngoại ngữ", "Language certificates", "text", "Ví dụ: JLPT N4 (07/2024); EPS-TOPIK 152 (2025)", "e.g. JLPT N4 (2024-07); EPS-TOPIK 152 (2025)"),
        Field(_col(W, "language_training"), "Đào tạo ngoại ngữ", "Language training", "select"),
        Field(_col(W, "preferred_countries"), "Nước mong muốn (theo thứ tự)", "Preferred countries (in order)", "text", "Tên hoặc mã nước, cách nhau bằng dấu chấm phẩy, ví dụ: Nhật Bản; Hàn Quốc; Đài Loan", "Country names or codes separated by semicolons, e.g. Japan; Korea; TW"),
        Field(_col(W, "preferred_sectors"), "Ngành mong muốn", "Preferred sectors"),
        Field(_col(W, "min_wage_vnd"), "Lương tối thiểu mong muốn (đ/tháng)", "Lowest acceptable wage (VND/month)", "number"),
        Field(_col(W, "max_fee_vnd"), "Chi phí tối đa có thể trả (đ)", "Most the worker can pay (VND)", "number"),
        Field(_col(W, "available_from"), "Sẵn sàng từ ngày", "Available from", "date"),
        Field(_col(W, "consent_share"), "Đồng ý chia sẻ hồ sơ với doanh nghiệp", "Consents to share the profile with recruiters", "checkbox"),
        Field(_col(W, "consent_scope"), "Phạm vi đồng ý", "Scope of consent"),
        Field(_col(W, "phone"), "Số điện thoại", "Phone", "tel"),
        Field(_col(W, "national_id"), "Số CCCD", "National ID"),
    )

    def check(self) -> None:
        birth = self.values.get("birth_date")
        if isinstance(birth, dt.date):
            age = (dt.date.today() - birth).days / 365.25
            if not 15 <= age <= 80:
                self.error("birth_date", "Ngày sinh không hợp lý (tuổi phải từ 15 đến 80).", "Implausible date of birth (age must be 15-80).")
        phone = self.values.get("phone")
        if phone and not _PHONE.fullmatch(phone):
            self.error("phone", "Số điện thoại không hợp lệ (9–15 chữ số).", "Not a phone number (9-15 digits).")
        nid = self.values.get("national_id")
        if nid and isinstance(birth, dt.date):
            problem = national_id_problem(nid, birth, self.values.get("gender"))
            if problem is not None:
                self.error("national_id", problem.vi[:1].upper() + problem.vi[1:] + ".", problem.en[:1].upper() + problem.en[1:] + ".")

    def check_national_id_free(self, session, worker_id: str | None) -> bool:
        """One person, one profile: the CCCĐ may not belong to another unmerged profile
        (``data.repo.national_id_holders``, the check every write path makes)."""
        from data.repo import national_id_holders

        nid = self.values.get("national_id")
        holder = national_id_holders(session, [nid]).get(nid) if nid else None
        if holder is not None and holder != worker_id:
            self.error_national_id_taken(holder)
        return not self.errors

    def error_national_id_taken(self, holder: str | None) -> None:
        who = f" {holder}" if holder else ""
        self.error("national_id",
                   f"Số CCCD này đã thuộc hồ sơ{who}: mỗi người chỉ một hồ sơ (nếu là cùng một người, hãy gộp hồ sơ).",
                   f"This CCCD already belongs to the profile{who}: one person, one profile (merge them if it is the same person).")

    def apply(self, worker, today: dt.date) -> list[str]:
        """Copy the parsed values onto ``worker``; returns the names of the fields that changed."""
        changed = []
        for f in self.fields:
            value = self.values[f.name]
            if f.name == "languages":
                old = [c.raw for c in worker.certificates]
                new = [c.raw for c in value]
                if old != new:
                    worker.certificates[:] = [LanguageCertificate.from_certificate(c, i) for i, c in enumerate(value)]
                    changed.append(f.name)
                continue
            if getattr(worker, f.column.attribute, None) != value:
                setattr(worker, f.column.attribute, value)
                changed.append(f.name)
        if "consent_share" in changed:
            worker.consent_date = today  # consent given or withdrawn today (Decree 13/2023)
        return changed




# ----------------------------------------------------------------------------- orders


class OrderForm(Form):
    O = ORDERS
    fields = (
        Field(_col(O, "title"), "Tên công việc", "Job title"),
        Field(_col(O, "description"), "Mô tả", "Description", "textarea"),
        Field(_col(O, "country"), "Nước đến", "Destination", "text", "Tên hoặc mã nước, ví dụ: Nhật Bản, Đài Loan, JP", "A country's name or code, e.g. Japan, Taiwan, JP"),
        Field(_col(O, "programme"), "Chương trình", "Programme", "select"),
        Field(_col(O, "required_skills"), "Kỹ năng yêu cầu", "Required skills", "textarea", "Cách nhau bằng dấu chấm phẩy (;)", "Separated by ;"),
        Field(_col(O, "language_requirement"), "Yêu cầu ngoại ngữ", "Language requirement", "text", "Ví dụ: JLPT N4, EPS-TOPIK 80, Goethe B2; để trống nếu không yêu cầu", "e.g. JLPT N4, EPS-TOPIK 80, Goethe B2; empty for none"),
        Field(_col(O, "min_age"), "Tuổi tối thiểu", "Minimum age", "number"),
        Field(_col(O, "max_age"), "Tuổi tối đa", "Maximum age", "number"),
        Field(_col(O, "gender"), "Giới tính", "Gender", "select"),
        Field(_col(O, "min_education"), "Học vấn tối thiểu", "Minimum education", "select"),
        Field(_col(O, "min_experience_years"), "Số năm kinh nghiệm tối thiểu", "Minimum years of experience", "number"),
        Field(_col(O, "positions"), "Số lượng tuyển", "Positions", "number"),
        Field(_col(O, "monthly_wage"), "Lương tháng", "Monthly wage", "number"),
        Field(_col(O, "wage_currency"), "Đơn vị tiền lương", "Wage currency", "text", "Ví dụ: JPY, KRW, TWD, EUR, USD", "e.g. JPY, KRW, TWD, EUR, USD"),
        Field(_col(O, "contract_months"), "Thời hạn hợp đồng (tháng)", "Contract length (months)", "number"),
        Field(_col(O, "service_fee_vnd"), "Tiền dịch vụ người lao động trả (đ)", "Service fee paid by the worker (VND)", "number"),
        Field(_col(O, "brokerage_fee_vnd"), "Tiền môi giới (đ) — pháp luật cấm thu", "Brokerage fee (VND) — prohibited by law", "number"),
        Field(_col(O, "deposit_vnd"), "Tiền ký quỹ (đ)", "Deposit (VND)", "number"),
        Field(_col(O, "approval_no"), "Số văn bản chấp thuận hợp đồng cung ứng", "Approval number of the supply contract"),
        Field(_col(O, "approval_date"), "Ngày chấp thuận", "Approval date", "date"),
        Field(_col(O, "deadline"), "Hạn nhận hồ sơ", "Application deadline", "date"),
        Field(_col(O, "departure_date"), "Ngày xuất cảnh dự kiến", "Expected departure", "date"),
    )

    def check(self) -> None:
        lo, hi = self.values.get("min_age"), self.values.get("max_age")
        if lo is not None and hi is not None and lo > hi:
            self.error("max_age", "Tuổi tối đa phải lớn hơn hoặc bằng tuổi tối thiểu.", "The maximum age must not be below the minimum.")
        for name in ("min_age", "max_age"):
            v = self.values.get(name)
            if v is not None and not MIN_AGE <= v <= MAX_AGE:
                self.error(name, f"Tuổi phải từ {MIN_AGE} đến {MAX_AGE}.", f"Ages must be between {MIN_AGE} and {MAX_AGE}.")
        if self.values.get("positions") is not None and self.values["positions"] < 1:
            self.error("positions", "Cần ít nhất 1 người.", "At least 1 position.")
        if self.values.get("monthly_wage") and not self.values.get("wage_currency"):
            self.error("wage_currency", "Hãy ghi đơn vị tiền của mức lương.", "Give the currency of the wage.")
        requirement = self.values.get("language_requirement")
        if requirement:
            from models.languages import CertificateError, parse_requirement

            try:
                parse_requirement(requirement)
            except CertificateError as exc:
                self.error(
                    "language_requirement",
                    "Không đọc được yêu cầu ngoại ngữ; ví dụ «JLPT N4», «EPS-TOPIK 80», «Goethe B2».",
                    str(exc),
                )
        if self.values.get("approval_no") and not self.values.get("approval_date"):
            self.error("approval_date", "Có số chấp thuận thì cần ngày chấp thuận.", "An approval number needs its date.")

    # The same rules as check(), for the API document: a body valid against this schema is a
    # valid form (tests/web/test_schemathesis.py fuzzes it; tests/web/test_order_schema.py
    # checks each clause against check()).
    @classmethod
    def field_schemas(cls) -> dict[str, dict]:
        from models.languages import REQUIREMENT_PATTERN

        age = {"anyOf": [{"type": "integer", "minimum": MIN_AGE, "maximum": MAX_AGE}, {"type": "null"}]}
        return {
            "min_age": age,
            "max_age": age,
            "positions": {**json_schema(_col(ORDERS, "positions")), "minimum": 1},  # the column's, from 1
            "language_requirement": {
                "anyOf": [{"type": "string", "pattern": REQUIREMENT_PATTERN}, {"type": "null"}, {"const": ""}],
                "description": "e.g. 'JLPT N4', 'EPS-TOPIK 80', 'Goethe B2', 'CEFR B1 de' (looser spellings are also read)",
            },
        }

    @classmethod
    def cross_field_schema(cls) -> list[dict]:
        def present(name: str, schema: dict) -> dict:
            return {"properties": {name: schema}, "required": [name]}

        # max_age >= min_age. JSON Schema compares no two fields, so: some age k lies between them
        # (min_age <= k <= max_age), one branch per k. The generators that read the document
        # (schemathesis) take about 40 branches in one anyOf, so the ages are cut in two halves,
        # each a clause that holds at once when min_age is outside its half.
        def between(k: int) -> dict:
            return {"properties": {"min_age": {"type": "integer", "maximum": k}, "max_age": {"type": "integer", "minimum": k}},
                    "required": ["min_age", "max_age"]}

        unset = [{"not": {"required": [n]}} for n in ("min_age", "max_age")] + \
                [{"properties": {n: {"type": "null"}}} for n in ("min_age", "max_age")]
        middle = (MIN_AGE + MAX_AGE) // 2
        ages = []
        for lo, hi in ((MIN_AGE, middle), (middle + 1, MAX_AGE)):
            elsewhere = [{"properties": {"min_age": {"type": "integer", "maximum": lo - 1}}},
                         {"properties": {"min_age": {"type": "integer", "minimum": hi + 1}}}]
            ages.append({"anyOf": [*elsewhere, *unset, *(between(k) for k in range(lo, hi + 1))]})
        return [
            *ages,
            {"if": present("monthly_wage", {"type": "number", "not": {"const": 0}}),
             "then": present("wage_currency", {"type": "string", "minLength": 1})},
            {"if": present("approval_no", {"type": "string", "pattern": "\\S"}),
             "then": present("approval_date", {"type": "string", "minLength": 1})},
        ]

    def apply(self, order) -> list[str]:
        changed = []
        for f in self.fields:
            value = self.values[f.name]
            if getattr(order, f.column.attribute, None) != value:
                setattr(order, f.column.attribute, value)
                changed.append(f.name)
        return changed


# ----------------------------------------------------------------------------- enterprises


class RecruiterForm(Form):
    R = RECRUITERS
    fields = (
        Field(_col(R, "recruiter_id"), "Mã doanh nghiệp", "Enterprise id"),
        Field(_col(R, "name"), "Tên doanh nghiệp", "Name"),
        Field(_col(R, "licence_no"), "Số giấy phép", "Licence number", "text", "Ví dụ: 123/LĐTBXH-GP", "e.g. 123/LDTBXH-GP"),
        Field(_col(R, "licence_date"), "Ngày cấp giấy phép", "Licence date", "date"),
        Field(_col(R, "markets"), "Thị trường", "Markets", "text", "Tên hoặc mã nước, ví dụ: Nhật Bản; Hàn Quốc", "Country names or codes, e.g. Japan; Korea"),
        Field(_col(R, "website"), "Trang web", "Website"),
        Field(_col(R, "phone"), "Điện thoại", "Phone", "tel"),
        Field(_col(R, "recruiter_type"), "Loại đơn vị", "Kind", "select"),
    )

    def check(self) -> None:
        rid = self.values.get("recruiter_id")
        if rid and not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", rid):
            self.error("recruiter_id", "Chỉ dùng chữ không dấu, số, dấu gạch.", "Letters, digits, '-', '_' and '.' only.")
