"""The names people read for the codes of the closed vocabularies, and the one reader of what
people type back.

FORMAT.md's codes (``JP``, ``female``, ``upper_secondary``, ``titp``, ``view_candidates``...)
are what is stored and exported; a person reads a name instead, Vietnamese first, English
second. Each vocabulary is one :class:`Vocabulary` here, used by the web pages (``web.views.i18n``),
the engine's sentences (``matcher``), the workbooks and the importers (``data.formats``), so a
name is written once.

:meth:`Vocabulary.read` maps what a person types in a spreadsheet or a form to the code: the
code itself, the Vietnamese or English name or a listed variant, with or without diacritics,
in any case, with spaces, hyphens or underscores ("Nữ", "nu", "F"; "THPT", "Trung cấp";
"Nhật Bản", "Nhat", "Japan"). Country names come from the CLDR territory names (Babel), with
the few names the centre writes otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from babel import Locale

from models import enums
from models.text import fold

_CODE_SPACING = re.compile(r"[\s\-]+")

__all__ = [
    "ALLOCATION_METHODS",
    "AUDIT_ACTIONS",
    "AUDIT_ENTITIES",
    "COUNTRIES",
    "COURSE_KINDS",
    "DOCUMENT_KINDS",
    "EARLY_RETURN_REASONS",
    "EDUCATION",
    "ENROLMENT_STATUSES",
    "GENDERS",
    "HOUSEHOLDS",
    "LANGUAGE_TRAINING",
    "LICENCE_STATUSES",
    "NOTE_KINDS",
    "ORDER_STATUSES",
    "PROGRAMMES",
    "RECRUITER_KINDS",
    "ROLES",
    "RETURN_KINDS",
    "ROUTES",
    "STAGES",
    "VOCABULARIES",
    "Vocabulary",
    "key",
]


def key(text: str | None) -> str:
    """How typed text is compared: folded (no diacritics, case, punctuation), spaces dropped,
    so "Trung cấp", "trung-cap" and "TRUNG_CAP" are one key."""
    return fold(text or "").replace(" ", "")


@dataclass(frozen=True)
class Vocabulary:
    """One closed vocabulary: code -> (Vietnamese, English) and the spellings accepted.

    ``common_noun``: its names are ordinary words, written in lower case inside a sentence
    ("trình độ trung cấp nghề"); names of countries or abbreviations keep their capitals.
    """

    name: str
    names: Mapping[str, tuple[str, str]]
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    common_noun: bool = False
    _keys: dict[str, str] = field(init=False, repr=False, compare=False)
    ambiguous: frozenset[str] = field(init=False, repr=False, compare=False)  # keys of two codes

    def __post_init__(self):
        keys: dict[str, str] = {}
        ambiguous: set[str] = set()
        for code, spellings in self._spellings():
            for spelling in spellings:
                k = key(spelling)
                if not k:
                    continue
                if keys.get(k, code) != code:
                    ambiguous.add(k)  # two codes fold alike ("Guinea"...): neither is read by name
                keys[k] = code
        for k in ambiguous:
            del keys[k]
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "ambiguous", frozenset(ambiguous))

    def _spellings(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        for code, (vi, en) in self.names.items():
            yield code, (vi, en, *self.variants.get(code, ()))

    def __contains__(self, code: object) -> bool:
        return code in self.names

    def pair(self, code: str | None) -> tuple[str, str]:
        """(Vietnamese, English) for ``code``; an unknown code is shown as itself."""
        if code is None or code == "":
            return "", ""
        return self.names.get(code) or self.names.get(str(code).strip()) or (str(code), str(code))

    def label(self, code: str | None, lang: str = "vi") -> str:
        """The name of ``code`` in ``lang`` ("vi" or "en")."""
        vi, en = self.pair(code)
        return en if lang == "en" else vi

    def phrase(self, code: str | None, lang: str = "vi") -> str:
        """The name as written inside a sentence: lower case for a common noun, unless its
        first word is an abbreviation ("THPT")."""
        text = self.label(code, lang)
        first = text.split(" ", 1)[0]
        if self.common_noun and text and code in self.names and not (first.isupper() and len(first) > 1):
            return text[0].lower() + text[1:]
        return text

    def read(self, text: str | None) -> str | None:
        """The code for what a person typed, or ``None``: the code itself in any case, with
        spaces or hyphens for underscores ("JP", "jp", "upper secondary"), else a name or
        variant, folded ("Mỹ" is the United States although it folds like the code "MY")."""
        if not text or not text.strip():
            return None
        code = _CODE_SPACING.sub("_", text.strip())
        for candidate in (code, code.lower(), code.upper()):
            if candidate in self.names:
                return candidate
        return self._keys.get(key(text))

    def typed(self, code: str, lang: str = "vi") -> str:
        """What to put in a field a person edits: the name when it reads back as ``code``
        (:meth:`read`), else the code."""
        name = self.label(code, lang)
        return name if self.read(name) == code else code

    def accepted(self, codes: Iterable[str] | None = None, lang: str = "vi") -> str:
        """The names a person may type, for a message: "Nam, Nữ, Khác"."""
        return ", ".join(self.label(c, lang) for c in (codes if codes is not None else self.names))


def _vocab(name: str, codes: Iterable[str], names: Mapping[str, tuple[str, str]],
           variants: Mapping[str, tuple[str, ...]] | None = None, common_noun: bool = False) -> Vocabulary:
    """A vocabulary over ``codes`` (models.enums) with a name for every code, in that order."""
    codes = tuple(codes)
    missing = [c for c in codes if c not in names]
    if missing:  # pragma: no cover - a table error, caught at import and by the tests
        raise ValueError(f"vocabulary {name!r} has no name for {missing}")
    ordered = {c: names[c] for c in codes}
    ordered.update({c: v for c, v in names.items() if c not in ordered})
    return Vocabulary(name, MappingProxyType(ordered), MappingProxyType(dict(variants or {})), common_noun)


ROLES = _vocab("role", enums.ROLES, {
    "admin": ("Quản trị viên", "Administrator"),
    "counsellor": ("Tư vấn viên", "Counsellor"),
    "recruiter": ("Doanh nghiệp", "Recruiter"),
})

LICENCE_STATUSES = _vocab("licence_status", enums.LICENCE_STATUSES, {
    "active": ("Đang hoạt động", "Active"),
    "suspended": ("Bị đình chỉ", "Suspended"),
    "revoked": ("Bị thu hồi", "Revoked"),
    "unlicensed": ("Chưa có giấy phép", "Unlicensed"),  # a status on a day, never stored
}, {"active": ("hoạt động", "hoat dong"), "suspended": ("đình chỉ",), "revoked": ("thu hồi",)})

ORDER_STATUSES = _vocab("order_status", enums.ORDER_STATUSES, {
    "open": ("Đang tuyển", "Open"),
    "draft": ("Nháp / bị chặn", "Draft / blocked"),
    "closed": ("Đã đóng", "Closed"),
}, {"open": ("mở", "mở tuyển"), "draft": ("nháp", "bản nháp"), "closed": ("đóng",)})

STAGES = _vocab("stage", enums.STAGES, {
    "suggested": ("Được gợi ý", "Suggested"),
    "shortlisted": ("Trong danh sách ngắn", "Shortlisted"),
    "sent": ("Đã giới thiệu cho doanh nghiệp", "Sent to recruiter"),
    "interviewed": ("Đã phỏng vấn", "Interviewed"),
    "selected": ("Trúng tuyển", "Selected"),
    "departed": ("Đã xuất cảnh", "Departed"),
    "rejected": ("Không đạt", "Rejected"),
    "withdrawn": ("Rút hồ sơ", "Withdrew"),
}, common_noun=True)

# One vocabulary for a worker's gender and an order's wish ("any" only on orders).
GENDERS = _vocab("gender", (*enums.GENDERS, "any"), {
    "male": ("Nam", "Male"),
    "female": ("Nữ", "Female"),
    "other": ("Khác", "Other"),
    "any": ("Không yêu cầu", "Any"),
}, {
    "male": ("M", "nam giới"),
    "female": ("F", "nữ giới"),
    "any": ("bất kỳ", "nam nữ", "nam/nữ", "cả hai", "both"),
}, common_noun=True)

EDUCATION = _vocab("education", enums.EDUCATION_LEVELS, {
    "none": ("Không", "None"),
    "primary": ("Tiểu học", "Primary"),
    "lower_secondary": ("THCS", "Lower secondary"),
    "upper_secondary": ("THPT", "Upper secondary"),
    "vocational": ("Trung cấp nghề", "Vocational"),
    "college": ("Cao đẳng", "College"),
    "university": ("Đại học", "University"),
}, {
    "none": ("không yêu cầu", "chưa đi học"),
    "primary": ("cấp 1", "cấp I"),
    "lower_secondary": ("trung học cơ sở", "cấp 2", "cấp II"),
    "upper_secondary": ("trung học phổ thông", "cấp 3", "cấp III", "12/12", "high school"),
    "vocational": ("Trung cấp", "trung cấp chuyên nghiệp", "TCN"),
    "college": ("CĐ",),
    "university": ("ĐH", "cử nhân", "bachelor"),
}, common_noun=True)

HOUSEHOLDS = _vocab("household", enums.HOUSEHOLDS, {
    "poor": ("Hộ nghèo", "Poor household"),
    "near_poor": ("Hộ cận nghèo", "Near-poor household"),
}, {"poor": ("nghèo", "poor"), "near_poor": ("cận nghèo", "near poor")})

LANGUAGE_TRAINING = _vocab("language_training", enums.LANGUAGE_TRAINING, {
    "none": ("Chưa học", "None"),
    "basic": ("Cơ bản", "Basic"),
    "advanced": ("Nâng cao", "Advanced"),
}, {"none": ("không",)}, common_noun=True)

PROGRAMMES = _vocab("programme", enums.PROGRAMMES, {
    "titp": ("Thực tập sinh kỹ năng (TITP)", "Technical intern (TITP)"),
    "ssw": ("Kỹ năng đặc định (SSW)", "Specified skilled worker (SSW)"),
    "esd": ("Phát triển kỹ năng (ESD)", "Employment for skill development (ESD)"),
    "eps": ("Chương trình EPS", "EPS (E-9)"),
    "seasonal": ("Lao động thời vụ", "Seasonal work"),
    "nursing": ("Điều dưỡng", "Nursing"),
    "general": ("Chung", "General"),
}, {
    "titp": ("thực tập sinh", "thực tập sinh kỹ năng", "TTS", "technical intern"),
    "ssw": ("kỹ năng đặc định", "tokutei", "specified skilled worker"),
    "esd": ("phát triển kỹ năng",),
    "eps": ("E-9", "E9"),
    "seasonal": ("thời vụ", "E-8", "E8"),
}, common_noun=True)

ROUTES = _vocab("route", enums.ROUTES, {
    "returned_trainee": ("Thực tập sinh đã về nước", "Returned trainee"),
    "titp_stage3": ("Thực tập sinh số 3", "Technical intern stage 3"),
    "high_skill": ("Lao động tay nghề cao", "High-skill worker"),
}, {"returned_trainee": ("TTS đã về nước",), "titp_stage3": ("TTS số 3",)}, common_noun=True)

RECRUITER_KINDS = _vocab("recruiter_kind", enums.RECRUITER_KINDS, {
    "enterprise": ("Doanh nghiệp", "Enterprise"),
    "local_government": ("Chính quyền địa phương", "Local government"),
    "public_agency": ("Đơn vị sự nghiệp công", "Public agency"),
})

# a worker's documents (models.WorkerDocument)
DOCUMENT_KINDS = _vocab("document_kind", enums.DOCUMENT_KINDS, {
    "passport": ("Hộ chiếu", "Passport"),
    "language_certificate": ("Chứng chỉ ngoại ngữ", "Language certificate"),
    "health_check": ("Giấy khám sức khỏe", "Health check"),
    "criminal_record": ("Phiếu lý lịch tư pháp", "Criminal-record extract"),
    "contract": ("Hợp đồng", "Contract"),
    "other": ("Giấy tờ khác", "Other document"),
})

# after departure (models.AfterDeparture): how a worker came home, and why early
RETURN_KINDS = _vocab("return_kind", enums.RETURN_KINDS, {
    "at_term": ("Về đúng hạn", "At term"),
    "early": ("Về trước hạn", "Early"),
})

EARLY_RETURN_REASONS = _vocab("early_return_reason", enums.EARLY_RETURN_REASONS, {
    "ill_treatment": ("Bị ngược đãi", "Ill-treatment"),
    "unpaid_wages": ("Không được trả lương", "Unpaid wages"),
    "health": ("Sức khỏe", "Health"),
    "family": ("Gia đình", "Family"),
    "absconded": ("Bỏ trốn", "Absconded"),
    "other": ("Lý do khác", "Other reason"),
}, common_noun=True)

# training records (models.TrainingCourse, models.Enrolment)
COURSE_KINDS = _vocab("course_kind", enums.COURSE_KINDS, {
    "language": ("Ngoại ngữ", "Language"),
    "skill": ("Kỹ năng nghề", "Trade skill"),
})

ENROLMENT_STATUSES = _vocab("enrolment_status", enums.ENROLMENT_STATUSES, {
    "enrolled": ("Đang học", "Enrolled"),
    "completed": ("Hoàn thành", "Completed"),
    "failed": ("Không đạt", "Failed"),
    "dropped": ("Bỏ học", "Dropped"),
}, common_noun=True)

NOTE_KINDS = _vocab("note_kind", enums.NOTE_KINDS, {
    "note": ("Ghi chú", "Note"),
    "call": ("Gọi điện", "Phone call"),
    "visit": ("Đến thăm", "Visit"),
    "zalo": ("Tin nhắn Zalo", "Zalo message"),
    "other": ("Liên hệ khác", "Other contact"),
})

# Every action written to the audit log (web.views.audit.record, data.repo.audit, the importer).
AUDIT_ACTIONS = _vocab("audit_action", (), {
    "login": ("Đăng nhập", "Signed in"),
    "login_failed": ("Đăng nhập không thành công", "Failed sign-in"),
    "logout": ("Đăng xuất", "Signed out"),
    "lock": ("Khóa tài khoản tạm thời", "Account locked for a while"),
    "password_change": ("Đổi mật khẩu", "Password changed"),
    "password_change_refused": ("Đổi mật khẩu không thành công", "Password change refused"),
    "password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "activate": ("Kích hoạt tài khoản", "Account enabled"),
    "deactivate": ("Vô hiệu hóa tài khoản", "Account disabled"),
    "token": ("Cấp mã truy cập API", "API token issued"),
    "create": ("Tạo mới", "Created"),
    "update": ("Sửa", "Edited"),
    "import": ("Nhập tệp dữ liệu", "File imported"),
    "export": ("Xuất dữ liệu", "Data exported"),
    "view": ("Xem", "Viewed"),
    "view_list": ("Xem danh sách", "List viewed"),
    "view_candidates": ("Xem ứng viên của đơn hàng", "Order's candidates viewed"),
    "note": ("Ghi vào dòng thời gian", "Timeline note added"),
    "shortlist": ("Đưa vào danh sách ngắn", "Shortlisted"),
    "stage": ("Chuyển giai đoạn hồ sơ", "Application stage changed"),
    "reopen": ("Mở lại", "Reopened"),  # an application or an order: the record says which
    "close": ("Đóng đơn hàng", "Order closed"),
    "allocation_accept": ("Chấp nhận phương án phân bổ", "Allocation accepted"),
    "document_upload": ("Tải lên giấy tờ", "Document uploaded"),
    "document_view": ("Xem giấy tờ", "Document viewed"),
    "document_delete": ("Xóa giấy tờ", "Document deleted"),
    "after_departure": ("Ghi nhận sau xuất cảnh (về nước, tái hòa nhập)", "After departure recorded (return, reintegration)"),
    "licence_status": ("Thay đổi trạng thái giấy phép", "Licence status changed"),
    "licence_verified": ("Xác minh giấy phép", "Licence verified"),
    "licence_register_check": ("Đối chiếu danh sách giấy phép của cơ quan quản lý", "Licence register checked"),
    "enrol": ("Ghi danh vào lớp đào tạo", "Enrolled in a course"),
    "self_register": ("Tự đăng ký trực tuyến", "Self-registration"),
    "accept": ("Chấp nhận đăng ký", "Registration accepted"),
    "reject": ("Từ chối đăng ký", "Registration declined"),
    "training_result": ("Ghi kết quả đào tạo", "Training result recorded"),
    "consent_grant": ("Ghi nhận đồng ý chia sẻ hồ sơ", "Consent recorded"),
    "consent_revoke": ("Ghi nhận rút lại sự đồng ý", "Consent withdrawn"),
    "erase": ("Xóa vĩnh viễn hồ sơ", "Profile erased"),
    "merge": ("Gộp hồ sơ trùng", "Duplicate merged"),
    "merged_into": ("Được gộp vào hồ sơ khác", "Merged into another profile"),
    "weights_use": ("Đổi phiên bản trọng số xếp hạng", "Scoring weights version switched"),
}, common_noun=True)

# Background jobs (web.services.jobs): their kinds and statuses.
JOB_KINDS = _vocab("job_kind", (), {
    "period_report": ("Bảng tính báo cáo định kỳ", "Period report workbook"),
    "training_needs": ("Bảng tính nhu cầu đào tạo", "Training needs workbook"),
    "import": ("Nhập tệp dữ liệu lớn", "Large file import"),
    "engine_index": ("Dựng lại chỉ mục ghép nối", "Match index rebuild"),
})

JOB_STATUSES = _vocab("job_status", (), {
    "queued": ("Đang chờ", "Queued"),
    "running": ("Đang chạy", "Running"),
    "done": ("Đã xong", "Done"),
    "failed": ("Bị lỗi", "Failed"),
}, common_noun=True)

# The kinds of record the audit log names.
AUDIT_ENTITIES = _vocab("audit_entity", (), {
    "worker": ("Người lao động", "Worker"),
    "order": ("Đơn hàng", "Order"),
    "recruiter": ("Doanh nghiệp", "Enterprise"),
    "user": ("Người dùng", "User"),
    "application": ("Hồ sơ ứng tuyển", "Application"),
    "allocation": ("Phân bổ", "Allocation"),
    "training_need": ("Nhu cầu đào tạo", "Training need"),
    "training_needs": ("Bảng nhu cầu đào tạo", "Training needs table"),
    "period_report": ("Báo cáo định kỳ", "Periodic report"),
    "worker_list": ("Danh sách người lao động", "Worker list"),
    "training_course": ("Lớp đào tạo", "Training course"),
    "registration": ("Đăng ký trực tuyến", "Online registration"),
    "registration_queue": ("Danh sách chờ duyệt đăng ký", "Registration queue"),
    "enrolment": ("Ghi danh đào tạo", "Enrolment"),
    "scoring_weights": ("Trọng số xếp hạng", "Scoring weights"),
    "job": ("Tác vụ nền", "Background job"),
})


# How an allocation was computed (matcher.allocate.Allocation.method).
ALLOCATION_METHODS = _vocab("allocation_method", (), {
    "exact-lp (totally unimodular)": ("Tối ưu chính xác (quy hoạch tuyến tính)",
                                      "Exact optimum (linear programme)"),
    "exact-milp (priority share)": ("Tối ưu chính xác có tỷ lệ tối thiểu người thuộc diện ưu tiên (quy hoạch nguyên)",
                                    "Exact optimum with a minimum share of priority workers (integer programme)"),
    "lagrangian (priority share)": ("Tối ưu có tỷ lệ tối thiểu người thuộc diện ưu tiên (điểm cộng cho người ưu "
                                    "tiên, tìm theo đối ngẫu Lagrange; sai số tối đa ghi bên cạnh)",
                                    "Optimum with a minimum share of priority workers (a bonus for priority "
                                    "workers found by Lagrangian duality; the largest possible gap shown beside it)"),
})


# ---------------------------------------------------------------------------------------------
# Countries: CLDR territory names (Babel), the centre's own spelling where it differs.

_COUNTRY_OVERRIDES: dict[str, tuple[str, str]] = {
    "KR": ("Hàn Quốc", "Korea"),
    "SA": ("Ả Rập Xê Út", "Saudi Arabia"),
    "AE": ("UAE", "UAE"),
    "AU": ("Úc", "Australia"),
    "US": ("Hoa Kỳ", "United States"),
    "MO": ("Ma Cao", "Macau"),
    "HK": ("Hồng Kông", "Hong Kong"),
}
_COUNTRY_VARIANTS: dict[str, tuple[str, ...]] = {
    "JP": ("Nhật",),
    "KR": ("Hàn", "Nam Hàn", "Đại Hàn", "South Korea"),
    "TW": ("Đài", "Trung Hoa Đài Bắc"),
    "DE": ("CHLB Đức", "Cộng hòa Liên bang Đức"),
    "CZ": ("Cộng hòa Séc", "Czech Republic", "Czech"),
    "AE": ("Các Tiểu Vương quốc Ả Rập Thống nhất", "United Arab Emirates", "Dubai"),
    "AU": ("Australia", "Ốt-xtrây-li-a"),
    "SA": ("Ả Rập Saudi", "Saudi"),
    "RU": ("Liên bang Nga",),
    "US": ("Mỹ", "USA"),
    "GB": ("Anh", "UK"),
    "MY": ("Mã Lai",),
    "IT": ("Ý", "Italia"),
}


def _countries() -> dict[str, tuple[str, str]]:
    vi, en = Locale("vi").territories, Locale("en").territories
    out: dict[str, tuple[str, str]] = {}
    for code in sorted(vi):
        if len(code) == 2 and code.isalpha() and code.isupper() and code in en and code not in ("ZZ", "EU", "UN", "EZ", "QO", "XA", "XB"):
            out[code] = (vi[code], en[code])
    out.update(_COUNTRY_OVERRIDES)
    return out


COUNTRIES = Vocabulary("country", MappingProxyType(_countries()), MappingProxyType(_COUNTRY_VARIANTS))

VOCABULARIES: Mapping[str, Vocabulary] = MappingProxyType({
    v.name: v
    for v in (ROLES, LICENCE_STATUSES, ORDER_STATUSES, STAGES, GENDERS, EDUCATION, HOUSEHOLDS,
              LANGUAGE_TRAINING, PROGRAMMES, ROUTES, RECRUITER_KINDS, DOCUMENT_KINDS, RETURN_KINDS,
              EARLY_RETURN_REASONS,
              COURSE_KINDS, ENROLMENT_STATUSES,
              NOTE_KINDS, AUDIT_ACTIONS,
              AUDIT_ENTITIES, ALLOCATION_METHODS, JOB_KINDS, JOB_STATUSES, COUNTRIES)
})
