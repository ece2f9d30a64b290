"""Vietnamese first, English as a switch; dates and money the Vietnamese way.

The language comes from ``?lang=vi|en`` (remembered in the session), default Vietnamese.
Templates call ``t("tiếng Việt", "English")``; ``bi(vi, en)`` renders Vietnamese with the
English in a smaller second line, used for reasons and labels where both help.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g, request, session
from markupsafe import Markup

from models import formatting
from models.ethnicities import ETHNICITIES
from models.reference import LANGUAGE_NAMES

LANGS = ("vi", "en")


def current_lang() -> str:
    return getattr(g, "lang", "vi")


def t(vi: str, en: str) -> str:
    return en if current_lang() == "en" else vi


def bi(vi: str | None, en: str | None) -> Markup:
    """Primary text in the chosen language, the other language in a small second line."""
    vi = vi or ""
    en = en or ""
    first, second = (en, vi) if current_lang() == "en" else (vi, en)
    if not second or second == first:
        return Markup("{}").format(first)
    return Markup('{}<br><small class="second" lang="{}">{}</small>').format(
        first, "vi" if current_lang() == "en" else "en", second
    )


def fmt_date(value: dt.date | dt.datetime | None) -> str:
    """A date in the UI language; datetimes (stored UTC) in Vietnam time. See models.formatting."""
    return formatting.format_date(value, current_lang())


def fmt_datetime(value: dt.datetime | None) -> str:
    """A stored UTC timestamp with its time, in Vietnam time (models.formatting)."""
    return formatting.format_datetime(value, current_lang())


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    return formatting.format_number(value, decimals, current_lang())


def fmt_money(value: float | int | None, currency: str | None = "VND") -> str:
    return formatting.format_money(value, currency, current_lang())


def fmt_percent(value: float | None, decimals: int = 0) -> str:
    return formatting.format_percent(value, decimals, current_lang())


def mask(value: str | None, keep: int = 3) -> str:
    """Mask a phone number or national ID, keeping only the last ``keep`` characters."""
    if not value:
        return ""
    text = str(value).strip()
    if len(text) <= keep:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


# Labels of closed vocabularies (models.enums), Vietnamese then English.
LABELS: dict[str, tuple[str, str]] = {
    # roles
    "admin": ("Quản trị viên", "Administrator"),
    "counsellor": ("Tư vấn viên", "Counsellor"),
    "recruiter": ("Doanh nghiệp", "Recruiter"),
    # licence statuses
    "active": ("Đang hoạt động", "Active"),
    "suspended": ("Bị đình chỉ", "Suspended"),
    "revoked": ("Bị thu hồi", "Revoked"),
    "unlicensed": ("Chưa có giấy phép", "Unlicensed"),
    # order statuses
    "open": ("Đang tuyển", "Open"),
    "draft": ("Nháp / bị chặn", "Draft / blocked"),
    "closed": ("Đã đóng", "Closed"),
    # stages
    "suggested": ("Được gợi ý", "Suggested"),
    "shortlisted": ("Trong danh sách ngắn", "Shortlisted"),
    "sent": ("Đã giới thiệu cho doanh nghiệp", "Sent to recruiter"),
    "interviewed": ("Đã phỏng vấn", "Interviewed"),
    "selected": ("Trúng tuyển", "Selected"),
    "departed": ("Đã xuất cảnh", "Departed"),
    "rejected": ("Không đạt", "Rejected"),
    "withdrawn": ("Rút hồ sơ", "Withdrew"),
    # genders
    "male": ("Nam", "Male"),
    "female": ("Nữ", "Female"),
    "other": ("Khác", "Other"),
    "any": ("Không yêu cầu", "Any"),
    # education
    "none": ("Không", "None"),
    "primary": ("Tiểu học", "Primary"),
    "lower_secondary": ("THCS", "Lower secondary"),
    "upper_secondary": ("THPT", "Upper secondary"),
    "vocational": ("Trung cấp nghề", "Vocational"),
    "college": ("Cao đẳng", "College"),
    "university": ("Đại học", "University"),
    # households
    "poor": ("Hộ nghèo", "Poor household"),
    "near_poor": ("Hộ cận nghèo", "Near-poor household"),
    # language training
    "basic": ("Cơ bản", "Basic"),
    "advanced": ("Nâng cao", "Advanced"),
    # documents (web.documents)
    "passport": ("Hộ chiếu", "Passport"),
    "language_certificate": ("Chứng chỉ ngoại ngữ", "Language certificate"),
    "health_check": ("Giấy khám sức khỏe", "Health check"),
    "criminal_record": ("Phiếu lý lịch tư pháp", "Criminal-record extract"),
    "contract": ("Hợp đồng", "Contract"),
    # after departure (web.aftercare)
    "at_term": ("Về đúng hạn", "At term"),
    "early": ("Về trước hạn", "Early"),
    "ill_treatment": ("Bị ngược đãi", "Ill-treatment"),
    "unpaid_wages": ("Không được trả lương", "Unpaid wages"),
    "health": ("Sức khỏe", "Health"),
    "family": ("Gia đình", "Family"),
    "absconded": ("Bỏ trốn", "Absconded"),
    # training records (web.training)
    "language": ("Ngoại ngữ", "Language"),
    "skill": ("Kỹ năng nghề", "Trade skill"),
    "enrolled": ("Đang học", "Enrolled"),
    "completed": ("Hoàn thành", "Completed"),
    "failed": ("Không đạt", "Failed"),
    "dropped": ("Bỏ học", "Dropped"),
    # programmes
    "titp": ("Thực tập sinh kỹ năng (TITP)", "Technical intern (TITP)"),
    "ssw": ("Kỹ năng đặc định (SSW)", "Specified skilled worker (SSW)"),
    "esd": ("Phát triển kỹ năng (ESD)", "Employment for skill development (ESD)"),
    "eps": ("Chương trình EPS", "EPS (E-9)"),
    "seasonal": ("Lao động thời vụ", "Seasonal work"),
    "nursing": ("Điều dưỡng", "Nursing"),
    "general": ("Chung", "General"),
    # recruiter kinds
    "enterprise": ("Doanh nghiệp", "Enterprise"),
    "local_government": ("Chính quyền địa phương", "Local government"),
    "public_agency": ("Đơn vị sự nghiệp công", "Public agency"),
}

COUNTRIES: dict[str, tuple[str, str]] = {
    "JP": ("Nhật Bản", "Japan"),
    "KR": ("Hàn Quốc", "Korea"),
    "TW": ("Đài Loan", "Taiwan"),
    "DE": ("Đức", "Germany"),
    "RO": ("Romania", "Romania"),
    "HU": ("Hungary", "Hungary"),
    "PL": ("Ba Lan", "Poland"),
    "SA": ("Ả Rập Xê Út", "Saudi Arabia"),
    "AE": ("UAE", "UAE"),
    "QA": ("Qatar", "Qatar"),
    "AU": ("Úc", "Australia"),
    "CZ": ("Séc", "Czechia"),
    "SK": ("Slovakia", "Slovakia"),
    "BG": ("Bulgaria", "Bulgaria"),
    "RU": ("Nga", "Russia"),
    "SG": ("Singapore", "Singapore"),
    "MY": ("Malaysia", "Malaysia"),
    "KW": ("Kuwait", "Kuwait"),
}


# language codes (course languages): the names matcher.insights gives them
LABELS.update({code: names for code, names in LANGUAGE_NAMES.items() if code not in LABELS})

# the 54 ethnic groups: the official Vietnamese name is the value, English its label in English
LABELS.update({e.vi: (e.vi, e.en) for e in ETHNICITIES if e.vi not in LABELS})


def label(value: Any) -> str:
    if value is None or value == "":
        return ""
    pair = LABELS.get(str(value))
    return t(*pair) if pair else str(value)


def country(code: str | None) -> str:
    if not code:
        return ""
    pair = COUNTRIES.get(code.upper())
    return t(*pair) if pair else code


def init_app(app: Flask) -> None:
    @app.before_request
    def _pick_language():
        asked = request.args.get("lang")
        if asked in LANGS:
            session["lang"] = asked
        g.lang = session.get("lang", "vi") if asked not in LANGS else asked

    app.jinja_env.globals.update(t=t, bi=bi, label=label, country=country, mask=mask, current_lang=current_lang)
    app.jinja_env.filters.update(
        date=fmt_date, datetime=fmt_datetime, number=fmt_number, money=fmt_money, percent=fmt_percent, mask=mask
    )
