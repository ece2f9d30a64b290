"""Self-registration (issue 17): a public page where a worker registers interest, and the
counsellors' review queue that turns a registration into a profile.

The public page works on a phone without JavaScript, asks only what a first contact needs (name,
birth date, gender, commune, phone, optional CCCD, preferred markets, skills) and the consent to
the centre keeping the data (the text's version is stored), with a separate, optional consent to
share the profile with licensed enterprises. It is CSRF-protected and rate-limited per address
(``registration_rate_limit``). It never says whether the person is already known: possible
duplicates (the same CCCD or phone as a profile or another pending registration) are shown to
the counsellor in the queue instead. A registration becomes a profile only when a counsellor
accepts it (audited); a rejected one keeps no personal data.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from models import Registration, Worker
from models.enums import GENDERS
from models.formatting import parse_date
from models.identity import national_id_problem, normalise_national_id
from web.views.audit import record
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.views.engine import get_engine
from web.services.errors import Conflict, NotFound
from web.services.names import COUNTRIES
from web.views.i18n import t
from web.views.params import page_of

bp = Blueprint("registration", __name__)
STAFF = ("counsellor", "admin")
PAGE = 50
CONSENT_VERSION = "DK-2026-1"
CONSENT_TEXT = (
    "Tôi đồng ý để Trung tâm Dịch vụ việc làm tỉnh Cao Bằng lưu giữ và xử lý các thông tin trên để tư vấn, "
    "giới thiệu việc làm ở nước ngoài theo hợp đồng hợp pháp (Nghị định 13/2023/NĐ-CP). Tôi có thể yêu cầu "
    "xem, sửa hoặc xóa thông tin bất cứ lúc nào.",
    "I agree that the Cao Bằng Employment Service Centre keeps and processes the information above to advise me "
    "and refer me to legal jobs abroad (Decree 13/2023/ND-CP). I may ask to see, correct or erase it at any time.",
)
SHARE_TEXT = (
    "Tôi đồng ý để Trung tâm giới thiệu hồ sơ của tôi cho các doanh nghiệp được cấp phép đưa người lao động "
    "đi làm việc ở nước ngoài.",
    "I agree that the centre shows my profile to enterprises licensed to send workers abroad.",
)
MARKETS = ("JP", "KR", "TW", "DE", "SA", "AE", "QA", "RO", "HU", "PL")
_PHONE = re.compile(r"^(?:\+?84|0)\d{9,10}$")


def phone_key(phone: str | None) -> str:
    """A phone number in one comparable form: digits only, +84 written as 0."""
    digits = re.sub(r"\D", "", phone or "")
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def _parse(form) -> tuple[dict, dict[str, tuple[str, str]]]:
    values: dict = {}
    errors: dict[str, tuple[str, str]] = {}
    name = " ".join((form.get("full_name") or "").split())[:200]
    if len(name) < 2:
        errors["full_name"] = ("Hãy nhập họ và tên.", "Enter your full name.")
    values["full_name"] = name
    raw = (form.get("birth_date") or "").strip()
    try:
        birth = parse_date(raw)
    except ValueError:
        birth = None
        errors["birth_date"] = ("Ngày sinh dạng NN/TT/NNNN, ví dụ 15/08/2001.", "A date of birth as dd/mm/yyyy, e.g. 15/08/2001.")
    if birth is None and "birth_date" not in errors:
        errors["birth_date"] = ("Hãy nhập ngày sinh.", "Enter your date of birth.")
    elif birth is not None:
        age = (today() - birth).days / 365.25
        if not 16 <= age <= 65:
            errors["birth_date"] = ("Ngày sinh không hợp lệ (từ 16 đến 65 tuổi).", "The date of birth must give an age of 16 to 65.")
    values["birth_date"] = birth
    gender = form.get("gender") or ""
    if gender not in GENDERS:
        errors["gender"] = ("Hãy chọn giới tính.", "Choose your gender.")
    values["gender"] = gender or None
    values["commune"] = " ".join((form.get("commune") or "").split())[:200] or None
    if not values["commune"]:
        errors["commune"] = ("Hãy nhập xã / phường nơi ở.", "Enter your commune or ward.")
    phone = (form.get("phone") or "").strip()[:40]
    if not _PHONE.match(phone_key(phone)) and not _PHONE.match(re.sub(r"\D", "", phone)):
        errors["phone"] = ("Số điện thoại gồm 10 chữ số, ví dụ 0912 345 678.", "A 10-digit phone number, e.g. 0912 345 678.")
    values["phone"] = phone
    nid = normalise_national_id((form.get("national_id") or "").strip())[:20]
    if nid:
        problem = national_id_problem(nid, birth, gender or None)
        if problem:
            errors["national_id"] = (problem.vi, problem.en)
    values["national_id"] = nid or None
    countries = [c for c in form.getlist("preferred_countries") if c in MARKETS]
    values["preferred_countries"] = countries
    values["skills"] = (form.get("skills") or "").strip()[:1000] or None
    if form.get("consent") != "yes":
        errors["consent"] = ("Cần đồng ý để Trung tâm lưu hồ sơ của bạn.", "Your consent is needed for the centre to keep your data.")
    values["share_consent"] = form.get("share") == "yes"
    return values, errors


def _form_page(values, errors, status=200):
    return render_template("registration/form.html", v=values, errors=errors, markets=MARKETS, countries=COUNTRIES,
                           consent=CONSENT_TEXT, share=SHARE_TEXT, genders=GENDERS), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return _form_page({"preferred_countries": []}, {})
    from web.views import throttle

    throttle.hit("register")
    values, errors = _parse(request.form)
    if errors:
        return _form_page(values, errors, 422)
    s = get_session()
    reg = Registration(**values, consent_version=CONSENT_VERSION)
    s.add(reg)
    s.flush()
    record("self_register", "registration", reg.id, by="public", share_consent=reg.share_consent)
    s.commit()
    return render_template("registration/thanks.html"), 201


# ----------------------------------------------------------------------------- review queue


def duplicate_finder(s):
    """A function giving, for a registration, the (kind, id) of the profiles and the other pending
    registrations with the same CCCD or phone (the indexes are built once per page)."""
    by_phone: dict[str, list[tuple[str, str]]] = {}
    by_nid: dict[str, list[tuple[str, str]]] = {}
    for wid, phone, nid in s.execute(select(Worker.worker_id, Worker.phone, Worker.national_id)):
        if phone_key(phone):
            by_phone.setdefault(phone_key(phone), []).append(("worker", wid))
        if nid:
            by_nid.setdefault(nid, []).append(("worker", wid))
    for rid, phone, nid in s.execute(select(Registration.id, Registration.phone, Registration.national_id)
                                     .where(Registration.status == "pending")):
        if phone_key(phone):
            by_phone.setdefault(phone_key(phone), []).append(("registration", str(rid)))
        if nid:
            by_nid.setdefault(nid, []).append(("registration", str(rid)))

    def find(reg: Registration) -> list[tuple[str, str]]:
        hits = by_nid.get(reg.national_id or "", []) + by_phone.get(phone_key(reg.phone), [])
        out: list[tuple[str, str]] = []
        for hit in hits:
            if hit != ("registration", str(reg.id)) and hit not in out:
                out.append(hit)
        return out

    return find


@bp.route("/counsellor/registrations")
@role_required(*STAFF)
def queue():
    s = get_session()
    pending = s.scalars(select(Registration).where(Registration.status == "pending").order_by(Registration.submitted_at)).all()
    page, pages = page_of(len(pending), PAGE)
    shown = pending[(page - 1) * PAGE: page * PAGE]
    find = duplicate_finder(s)
    dups = {r.id: find(r) for r in shown}
    record("view", "registration_queue", None, count=len(shown), page=page)
    s.commit()
    from urllib.parse import urlencode

    return render_template("registration/queue.html", registrations=shown, dups=dups, total=len(pending), page=page,
                           pages=pages, page_args=lambda p: urlencode({"page": p}), countries=COUNTRIES)


def _pending(rid: int) -> Registration:
    reg = get_session().get(Registration, rid)
    if reg is None:
        raise NotFound("Không tìm thấy đăng ký.", "No such registration.")
    if reg.status != "pending":
        raise Conflict("Đăng ký này đã được xử lý.", "This registration has already been decided.")
    return reg


@bp.route("/counsellor/registrations/<int:reg_id>/accept", methods=["POST"])
@role_required(*STAFF)
def accept(reg_id: int):
    """Make the registration a profile (the counsellor completes it next); a CCCD already held
    by an active profile is refused: merge or reject instead."""
    from web.views.counsellor import new_worker_id
    from web.services.privacy import record_consent

    s = get_session()
    reg = _pending(reg_id)
    if reg.national_id and s.scalar(select(Worker.worker_id).where(Worker.national_id == reg.national_id,
                                                                   Worker.active.is_not(False))):
        raise Conflict("Số CCCD này đã thuộc một hồ sơ: hãy từ chối đăng ký trùng hoặc cập nhật hồ sơ đó.",
                       "This CCCD already belongs to a profile: reject the duplicate registration or update that profile.")
    by = current_user().username
    w = Worker(worker_id=new_worker_id(), full_name=reg.full_name, birth_date=reg.birth_date, gender=reg.gender,
               commune=reg.commune, phone=reg.phone, national_id=reg.national_id,
               skills=[x.strip() for x in re.split(r"[;,\n]", reg.skills or "") if x.strip()],
               preferred_countries=list(reg.preferred_countries or []), active=True,
               extra={"registration": reg.id, "consent_version": reg.consent_version})
    s.add(w)
    s.flush()
    if reg.share_consent:
        record_consent(s, w, "grant", by, scope=f"Chia sẻ với doanh nghiệp được cấp phép (đăng ký trực tuyến, {reg.consent_version})",
                       day=reg.submitted_at.date(), note=f"registration {reg.id}")
    reg.status, reg.reviewed_by, reg.reviewed_at, reg.worker_id = "accepted", by, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), w.worker_id
    record("accept", "registration", reg.id, worker_id=w.worker_id)
    record("create", "worker", w.worker_id, source="registration", registration=reg.id)
    s.commit()
    get_engine().worker_changed(s, w)
    flash(t("Đã tạo hồ sơ từ đăng ký; hãy bổ sung học vấn, kinh nghiệm và ngoại ngữ.",
            "Profile created from the registration; complete education, experience and languages."))
    return redirect(url_for("counsellor.edit_worker", wid=w.worker_id))


@bp.route("/counsellor/registrations/<int:reg_id>/reject", methods=["POST"])
@role_required(*STAFF)
def reject(reg_id: int):
    """Decline a registration (a duplicate, not reachable, not eligible): its personal data is
    cleared; the decision and its reason stay."""
    s = get_session()
    reg = _pending(reg_id)
    reason = (request.form.get("note") or "").strip()[:500] or None
    reg.status, reg.reviewed_by = "rejected", current_user().username
    reg.reviewed_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    reg.note = reason
    reg.full_name, reg.birth_date, reg.phone, reg.national_id, reg.commune, reg.skills = "—", None, None, None, None, None
    record("reject", "registration", reg.id, reason=reason)
    s.commit()
    flash(t("Đã từ chối đăng ký và xóa thông tin cá nhân của đăng ký.", "Registration declined; its personal data was cleared."))
    return redirect(url_for("registration.queue"))
