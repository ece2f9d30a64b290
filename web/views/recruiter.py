"""Recruiter pages: the enterprise's own orders only (post, edit, close) and ranked candidates.

Before an order is saved, the legality gates (``matcher.rules.order_gates``) run on it as
typed: an order that would be blocked (fee over the cap, brokerage fee, no approval number,
a revoked licence ...) is not saved; the form says why. Saving it anyway needs an explicit
confirmation and stores it as a draft, which no ranking ever shows. Candidates are only
workers who consented to share their profile; phone and national ID stay hidden until the
centre moves the application to "sent" or later.
"""

from __future__ import annotations


from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from matcher.rules import licence_reasons
from models import Application, JobOrder, Recruiter, Worker, is_active_worker
from web.views.audit import record
from web.views.auth import current_user, require_form_version, role_required
from web.views.counsellor import top_arg, workers_by_id
from web.views.db import get_session, today
from web.views.engine import get_engine
from web.services.errors import Conflict, Forbidden, NotFound, Unprocessable
from web.services.forms import OrderForm
from web.views.i18n import t
from web.services.pipeline import CONTACT_STAGES, RECRUITER_MOVES

bp = Blueprint("recruiter", __name__, url_prefix="/recruiter")


def own_recruiter() -> Recruiter:
    r = get_session().get(Recruiter, current_user().recruiter_id)
    if r is None:  # a recruiter user whose enterprise was deleted
        raise NotFound("Không tìm thấy doanh nghiệp của tài khoản.", "The account's enterprise is gone.")
    return r


def active_enterprise() -> Recruiter:
    """The user's enterprise while its licence is in force today; otherwise 403. A recruiter
    whose enterprise is revoked, suspended, unlicensed or gone reads no worker at all (issue 14,
    item 4), through the pages or the API."""
    r = get_session().get(Recruiter, current_user().recruiter_id)
    if r is None:
        raise Forbidden("Doanh nghiệp của tài khoản không còn trong hệ thống: không được xem hồ sơ người lao động.",
                        "The account's enterprise no longer exists: it may not read workers' profiles.")
    reasons = licence_reasons(r, today())
    if reasons:
        raise Forbidden(
            f"{reasons[0].vi}. Doanh nghiệp không còn hoạt động nên tài khoản không được xem hồ sơ người lao động.",
            f"{reasons[0].en}. The enterprise is not active, so the account may not read workers' profiles.",
            reason=reasons[0].code,
        )
    return r


def may_read_worker(worker: Worker) -> bool:
    """Whether the signed-in recruiter may read this one profile (403 first if its enterprise is
    not active). Only a consenting worker who is a candidate for one of the enterprise's own
    legal, open orders: one its ranking lists (``Matcher.is_candidate``, the rule behind the
    order's candidate list) or one the centre sent to it. Walking the ids finds nobody else."""
    s = get_session()
    r = active_enterprise()
    if not worker.consent_share or not is_active_worker(worker):
        return False
    orders = s.scalars(select(JobOrder).where(JobOrder.recruiter_id == r.recruiter_id).order_by(JobOrder.order_id)).all()
    holder = get_engine()
    states = holder.order_states(s, orders)
    open_orders = [o for o in orders if states[o.order_id][0] == "open"]
    if not open_orders:
        return False
    sent = s.scalar(select(Application.id).where(
        Application.worker_id == worker.worker_id,
        Application.order_id.in_([o.order_id for o in open_orders]),
        Application.stage.in_(sorted(CONTACT_STAGES)),
    ).limit(1))
    return sent is not None or holder.candidate_for(s, worker.worker_id, open_orders) is not None


def own_order(oid: str) -> JobOrder:
    """The order if it belongs to the user's enterprise; otherwise 404 (never reveal others')."""
    from data.repo import get_order

    o = get_order(get_session(), oid)
    if o is None or o.recruiter_id != current_user().recruiter_id:
        raise NotFound("Không tìm thấy đơn hàng.", "No such order.")
    return o


def new_order_id() -> str:
    """The next order id in the form of the existing ones (``O0301`` after ``O0300``)."""
    from data.repo import next_id

    return next_id(get_session(), JobOrder.order_id, "O")


def gate_check(form: OrderForm, recruiter: Recruiter, order_id: str, places_filled: int = 0) -> list:
    """Gate reasons of the order as typed in ``form`` (nothing is stored)."""
    probe = JobOrder(order_id=order_id, recruiter_id=recruiter.recruiter_id, status="open", places_filled=places_filled)
    form.apply(probe)
    return get_engine().check_order(get_session(), probe, recruiter)


def save_order(order: JobOrder | None, form: OrderForm, confirm: bool):
    """Shared by post and edit: returns ``(order or None, reasons)``; ``None`` means not saved
    because the order would be blocked and the recruiter has not confirmed."""
    s = get_session()
    r = own_recruiter()
    oid = order.order_id if order is not None else new_order_id()
    reasons = gate_check(form, r, oid, order.places_filled if order is not None else 0)
    blocks = [x for x in reasons if x.severity == "block"]
    if blocks and not confirm:
        return None, reasons
    created = order is None
    if created:
        order = JobOrder(order_id=oid, recruiter_id=r.recruiter_id, places_filled=0, extra={})
        s.add(order)
    changed = form.apply(order)
    order.status = "draft" if blocks else "open"
    s.flush()
    record(
        "create" if created else "update",
        "order",
        oid,
        fields=changed,
        status=order.status,
        blocked_by=[x.code for x in blocks],
    )
    return order, reasons


@bp.route("/orders")
@role_required("recruiter")
def orders():
    s = get_session()
    r = own_recruiter()
    rows = s.scalars(
        select(JobOrder).where(JobOrder.recruiter_id == r.recruiter_id).order_by(JobOrder.created_at.desc(), JobOrder.order_id)
    ).all()
    holder = get_engine()
    return render_template("recruiter/orders.html", r=r, orders=rows, states=holder.order_states(s, rows), day=today())


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required("recruiter")
def new_order():
    s = get_session()
    r = own_recruiter()
    if request.method == "GET":
        return render_template("recruiter/order_form.html", form=OrderForm(), order=None, reasons=[], r=r)
    form = OrderForm(request.form)
    if not form.validate():
        return render_template("recruiter/order_form.html", form=form, order=None, reasons=[], r=r), 422
    order, reasons = save_order(None, form, request.form.get("confirm_blocked") == "true")
    if order is None:
        return render_template("recruiter/order_form.html", form=form, order=None, reasons=reasons, r=r, needs_confirm=True), 422
    s.commit()
    get_engine().order_changed(s, order)
    _flash_saved(order, reasons)
    return redirect(url_for("recruiter.order", oid=order.order_id))


@bp.route("/orders/<oid>/edit", methods=["GET", "POST"])
@role_required("recruiter")
def edit_order(oid: str):
    s = get_session()
    o = own_order(oid)
    r = own_recruiter()
    if o.status == "closed":
        raise Conflict("Đơn hàng đã đóng, không sửa được.", "The order is closed and cannot be edited.")
    if request.method == "GET":
        return render_template("recruiter/order_form.html", form=OrderForm(obj=o), order=o, reasons=[], r=r, version=o.version_id)
    version = require_form_version(request.form)
    form = OrderForm(request.form)
    if version != o.version_id:
        return render_template("recruiter/order_form.html", form=form, order=o, reasons=[], r=r, version=version, conflict=True), 409
    if not form.validate():
        return render_template("recruiter/order_form.html", form=form, order=o, reasons=[], r=r, version=version), 422
    saved, reasons = save_order(o, form, request.form.get("confirm_blocked") == "true")
    if saved is None:
        return render_template("recruiter/order_form.html", form=form, order=o, reasons=reasons, r=r, version=version, needs_confirm=True), 422
    try:
        s.commit()
    except StaleDataError:
        s.rollback()
        return render_template("recruiter/order_form.html", form=form, order=o, reasons=[], r=r, version=version, conflict=True), 409
    get_engine().order_changed(s, saved)
    _flash_saved(saved, reasons)
    return redirect(url_for("recruiter.order", oid=oid))


def _flash_saved(order: JobOrder, reasons: list) -> None:
    if order.status == "draft":
        flash(t("Đã lưu dưới dạng NHÁP: đơn hàng bị chặn và không được giới thiệu cho người lao động.",
                "Saved as a DRAFT: the order is blocked and is not offered to workers."), "warning")
    else:
        flash(t("Đã lưu đơn hàng.", "Order saved."))
    warns = [x for x in reasons if x.severity == "warn"]
    for w in warns:
        flash(w.vi if t("vi", "en") == "vi" else w.en, "warning")


@bp.route("/orders/<oid>/close", methods=["POST"])
@role_required("recruiter")
def close_order(oid: str):
    s = get_session()
    o = own_order(oid)
    version = require_form_version(request.form)
    if version != o.version_id:
        raise Conflict()
    if o.status != "closed":
        o.status = "closed"
        s.flush()
        record("close", "order", oid)
        s.commit()
        get_engine().order_changed(s, o)
    flash(t("Đã đóng đơn hàng.", "Order closed."))
    return redirect(url_for("recruiter.orders"))


@bp.route("/orders/<oid>/reopen", methods=["POST"])
@role_required("recruiter")
def reopen_order(oid: str):
    """Open a closed order again where the law allows: its approval, deadline, fees and the
    enterprise's licence must still pass every gate; otherwise refused (422) with the reasons."""
    s = get_session()
    o = own_order(oid)
    version = require_form_version(request.form)
    if version != o.version_id:
        raise Conflict()
    if o.status != "closed":
        raise Conflict("Đơn hàng chưa đóng.", "The order is not closed.")
    o.status = "open"
    reasons = [r for r in get_engine().check_order(s, o, own_recruiter()) if r.severity == "block"]
    if reasons:
        s.rollback()
        raise Unprocessable("Không thể mở lại đơn hàng: " + "; ".join(r.vi for r in reasons),
                            "The order cannot be opened again: " + "; ".join(r.en for r in reasons),
                            reasons=[r.code for r in reasons])
    s.flush()
    record("reopen", "order", oid)
    s.commit()
    get_engine().order_changed(s, o)
    flash(t("Đã mở lại đơn hàng.", "Order opened again."))
    return redirect(url_for("recruiter.order", oid=oid))


@bp.route("/orders/<oid>")
@role_required("recruiter")
def order(oid: str):
    """The order, why it is blocked if it is, and its ranked candidates (consenting workers only)."""
    s = get_session()
    active_enterprise()
    o = own_order(oid)
    holder = get_engine()
    reasons = holder.order_reasons(s, o)
    top = top_arg(20)
    ranking = holder.rank_workers(s, o, top_k=top, consent_only=True)
    apps = {
        a.worker_id: a
        for a in s.scalars(select(Application).where(Application.order_id == oid).options(selectinload(Application.worker)))
    }
    ids = [m.item_id for m in ranking.matches]
    sent = [a for a in apps.values() if a.stage in CONTACT_STAGES and a.worker.consent_share and a.worker_id not in ids]
    workers = workers_by_id(ids + [a.worker_id for a in sent])
    # The engine filters by consent; check again here, so a stale engine can never leak a profile.
    ranking_matches = [m for m in ranking.matches if workers.get(m.item_id) is not None and workers[m.item_id].consent_share]
    shown = [m.item_id for m in ranking_matches] + [a.worker_id for a in sent]
    if shown:
        record("view_candidates", "order", oid, workers=shown)
        s.commit()
    return render_template(
        "recruiter/order.html",
        o=o,
        reasons=reasons,
        matches=ranking_matches,
        sent=sent,
        workers=workers,
        apps=apps,
        contact_stages=CONTACT_STAGES,
        recruiter_moves=RECRUITER_MOVES,
        top=top,
        day=today(),
    )
