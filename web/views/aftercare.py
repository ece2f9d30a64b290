"""After departure (issue 17): the counsellor records, for a departed application, the arrival,
the contract's end, the return (at term, or early with a reason from a closed list) and the
referral to a job at home. A worker recorded back home re-enters the pool (``data.repo.
pair_outcomes``); early returns form the enterprise's record, which warns on its orders
(``matcher.outcomes.Outcomes.recruiter_signs``); contract ends feed the forecast page and early
returns the period report (the figures are in ``web.services.stats``)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, request, url_for

from models import AfterDeparture, Application
from models.entities import utcnow
from models.enums import EARLY_RETURN_REASONS, RETURN_KINDS
from web.services import pipeline
from web.views.audit import record
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.services.errors import Conflict
from web.views.i18n import t
from web.views.params import form_dates

bp = Blueprint("aftercare", __name__, url_prefix="/counsellor")
STAFF = ("counsellor", "admin")
FIELDS = ("arrived_on", "contract_end", "returned_on", "return_kind", "early_reason", "note", "reintegration")


def parse_after(form, departed_on: dt.date | None, day: dt.date) -> tuple[dict, dict[str, tuple[str, str]]]:
    """The after-departure values of a form and the errors by field (Vietnamese, English)."""
    values: dict = {}
    errors: dict[str, tuple[str, str]] = {}
    form_dates(form, ("arrived_on", "contract_end", "returned_on"), values, errors)
    for name in ("arrived_on", "returned_on"):
        if values.get(name) and values[name] > day:
            errors[name] = ("Không được là ngày trong tương lai.", "Cannot be in the future.")
        if values.get(name) and departed_on and values[name] < departed_on:
            errors[name] = ("Không được trước ngày xuất cảnh.", "Cannot be before the departure.")
    if values.get("contract_end") and values.get("arrived_on") and values["contract_end"] <= values["arrived_on"]:
        errors["contract_end"] = ("Hợp đồng phải kết thúc sau ngày đến.", "The contract must end after the arrival.")
    kind = form.get("return_kind") or None
    reason = form.get("early_reason") or None
    if kind is not None and kind not in RETURN_KINDS:
        errors["return_kind"] = ("Hãy chọn về đúng hạn hoặc về trước hạn.", "Choose at term or early.")
    if reason is not None and reason not in EARLY_RETURN_REASONS:
        errors["early_reason"] = ("Hãy chọn một lý do trong danh sách.", "Choose a reason from the list.")
    if values.get("returned_on") and kind is None:
        errors["return_kind"] = ("Cho biết người lao động về đúng hạn hay trước hạn.", "Say whether the return was at term or early.")
    if kind is not None and not values.get("returned_on") and "returned_on" not in errors:
        errors["returned_on"] = ("Cần ngày về nước.", "The return date is needed.")
    if kind == "early" and reason is None:
        errors["early_reason"] = ("Cần lý do về nước trước hạn.", "An early return needs its reason.")
    if kind != "early" and reason is not None:
        errors["early_reason"] = ("Chỉ ghi lý do khi về trước hạn.", "A reason is given only for an early return.")
    values["return_kind"], values["early_reason"] = kind, reason
    values["note"] = (form.get("note") or "").strip()[:2000] or None
    values["reintegration"] = (form.get("reintegration") or "").strip()[:500] or None
    return values, errors


def _departed_on(app: Application) -> dt.date | None:
    days = [e.at.date() for e in app.events if e.to_stage == "departed"]
    return days[0] if days else None


@bp.route("/applications/<int:aid>/after", methods=["POST"])
@role_required(*STAFF)
def record_after(aid: int):
    from web.views.counsellor import _worker_page

    s = get_session()
    app = pipeline.get_application(s, aid)
    if app.stage != "departed":
        raise Conflict("Chỉ ghi thông tin sau xuất cảnh cho hồ sơ đã xuất cảnh.",
                       "After-departure facts are recorded only for a departed application.")
    values, errors = parse_after(request.form, _departed_on(app), today())
    if errors:
        return _worker_page(app.worker_id, after={"aid": aid, "values": request.form, "errors": errors}, status=422)
    rec = app.after or AfterDeparture(application_id=app.id)
    before = {f: getattr(rec, f) for f in FIELDS}
    for f in FIELDS:
        setattr(rec, f, values[f])
    rec.by = current_user().username
    if app.after is None:
        app.after = rec
    app.updated_at = utcnow()  # the outcomes' fingerprint: a return puts the worker back in the pool
    s.flush()
    changed = {f: (str(before[f]) if before[f] is not None else None, str(values[f]) if values[f] is not None else None)
               for f in FIELDS if before[f] != values[f]}
    record("after_departure", "application", app.id, worker_id=app.worker_id, order_id=app.order_id, changed=changed)
    s.commit()
    flash(t("Đã ghi thông tin sau xuất cảnh.", "After-departure facts recorded."))
    return redirect(url_for("counsellor.worker", wid=app.worker_id) + f"#after-{app.id}")
