"""Administrator pages: enterprises and their licence status, users, the audit log, the scoring
weights versions."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from models import AuditEvent, JobOrder, LicenceStatusChange, Recruiter, User, formatting
from models.enums import LICENCE_STATUSES, ROLES
from web.views.audit import detail_items, record
from web.views.auth import current_user, require_form_version, role_required
from web.services import accounts
from web.services.accounts import AuthError, create_user, reset_user_password
from web.views.db import get_session, settings, today
from web.views.engine import get_engine
from web.services.errors import BadRequest, Conflict, NotFound
from web.services.forms import RecruiterForm
from web.views.i18n import current_lang, t
from web.views.params import date_arg, page_of
from web.services.passwords import MIN_LENGTH

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 50


def _recruiter(rid: str) -> Recruiter:
    r = get_session().get(Recruiter, rid)
    if r is None:
        raise NotFound()
    return r


@bp.route("/recruiters")
@role_required("admin")
def recruiters():
    s = get_session()
    rows = s.scalars(select(Recruiter).order_by(Recruiter.name)).all()
    counts = dict(
        s.execute(select(JobOrder.recruiter_id, func.count()).group_by(JobOrder.recruiter_id)).all()
    )
    queue = licence_queue(rows)
    from matcher import rules

    return render_template("admin/recruiters.html", recruiters=rows, counts=counts, day=today(), queue=queue,
                           signs=rules.find_look_alikes(rows))


@bp.route("/recruiters/register", methods=["GET", "POST"])
@role_required("admin")
def licence_register():
    """Upload the regulator's public list of licensed enterprises (CSV: licence_no, name,
    licence_date, status): every enterprise found on it, active, under its name is verified
    (audited, released in the next ranking); the others are listed with why. A file with any
    error changes nothing (the same check as ``matcher licence-register``)."""
    from web.views.counsellor import check_upload
    from web.services.licences import check_register, read_register_bytes

    if request.method == "GET":
        return render_template("admin/register.html", result=None, errors=[], name=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin/register.html", result=None, name=None,
                               errors=[t("Hãy chọn một tệp CSV.", "Choose a CSV file.")]), 422
    name = upload.filename.rsplit("/", 1)[-1][:200]
    data = upload.read()
    problem = check_upload(name, data)
    if problem or not name.lower().endswith(".csv"):
        found = [t(f"{name}: {problem.vi}", f"{name}: {problem.problem}")] if problem else []  # the importer's words
        return render_template("admin/register.html", result=None, name=name, errors=found + [t(
            "Chỉ nhận tệp .csv (UTF-8) có các cột licence_no, name, licence_date, status.",
            "Only a .csv file (UTF-8) with the columns licence_no, name, licence_date, status is accepted.")]), 422
    entries, errors = read_register_bytes(data, name)
    if errors:
        return render_template("admin/register.html", result=None, name=name, errors=errors), 422
    s = get_session()
    result = check_register(s, entries, today(), current_user().username)
    record("licence_register_check", "recruiter", None, file=name, rows=len(entries), verified=result.verified,
           mismatches=len(result.mismatches))
    s.commit()
    if result.verified:
        get_engine().invalidate()  # several enterprises changed: rebuild the gates on next use
    by_id = {r.recruiter_id: r for r in s.scalars(select(Recruiter))}
    return render_template("admin/register.html", result=result, errors=[], name=name, by_id=by_id)


def licence_queue(recruiters) -> list[tuple[Recruiter, list[Recruiter]]]:
    """"Cần xác minh giấy phép": holders of a shared licence number, none of them verified, that
    stay held out of every ranking until an administrator verifies one (matcher.rules)."""
    from matcher import rules

    by_id = {r.recruiter_id: r for r in recruiters}
    held = rules.find_duplicate_codes(recruiters, [])
    out = []
    for rid, reason in sorted(held.items()):
        if reason.detail.get("genuine") or rid not in by_id:
            continue
        out.append((by_id[rid], [by_id[o] for o in reason.detail.get("shared_with", ()) if o in by_id]))
    return out


@bp.route("/recruiters/<rid>/verify", methods=["POST"])
@role_required("admin")
def verify_licence(rid: str):
    """Record that this enterprise's licence was checked against the regulator's public list:
    among holders of the same number it is released, the others stay blocked (DOMAIN.md, fraud
    sign 3). Audited; the next ranking sees it without a restart."""
    s = get_session()
    r = _recruiter(rid)
    version = require_form_version(request.form)
    if version != r.version_id:
        raise Conflict()
    raw = (request.form.get("verified_on") or "").strip()
    try:
        day = dt.date.fromisoformat(raw) if raw else today()
    except ValueError:
        raise BadRequest("Ngày xác minh không hợp lệ (cần NNNN-TT-NN).", "The verification date is not valid (YYYY-MM-DD).") from None
    if day > today():
        raise BadRequest("Ngày xác minh không được ở tương lai.", "The verification date cannot be in the future.")
    r.licence_verified_on = day
    s.flush()
    record("licence_verified", "recruiter", rid, verified_on=day.isoformat(), licence_no=r.licence_no)
    s.commit()
    get_engine().recruiter_changed(s, r)
    flash(t(f"Đã xác minh giấy phép của {r.name} với danh sách của cơ quan quản lý.",
            f"{r.name}'s licence is recorded as verified against the regulator's list."))
    return redirect(request.form.get("next") == "list" and url_for("admin.recruiters") or url_for("admin.recruiter", rid=rid))


@bp.route("/recruiters/new", methods=["GET", "POST"])
@role_required("admin")
def new_recruiter():
    s = get_session()
    form = RecruiterForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        if s.get(Recruiter, form.values["recruiter_id"]) is not None:
            form.error("recruiter_id", "Mã này đã được dùng.", "This id is taken.")
        else:
            r = Recruiter(**{f.column.attribute: form.values[f.name] for f in form.fields})
            r.status = "active"
            r.status_date = form.values.get("licence_date")
            s.add(r)
            s.flush()
            record("create", "recruiter", r.recruiter_id, name=r.name)
            s.commit()
            get_engine().recruiter_changed(s, r)
            flash(t("Đã thêm doanh nghiệp.", "Enterprise added."))
            return redirect(url_for("admin.recruiter", rid=r.recruiter_id))
    status = 422 if form.errors else 200
    return render_template("admin/recruiter_new.html", form=form), status


@bp.route("/recruiters/<rid>")
@role_required("admin")
def recruiter(rid: str):
    r = _recruiter(rid)
    s = get_session()
    orders = s.scalars(select(JobOrder).where(JobOrder.recruiter_id == rid).order_by(JobOrder.order_id)).all()
    users = s.scalars(select(User).where(User.recruiter_id == rid).order_by(User.username)).all()
    return render_template(
        "admin/recruiter.html",
        r=r,
        orders=orders,
        states=get_engine().order_states(s, orders),
        signs=get_engine().recruiter_signs(s, r),
        users=users,
        statuses=LICENCE_STATUSES,
        day=today(),
        errors={},
        form={},
    )


@bp.route("/recruiters/<rid>/status", methods=["POST"])
@role_required("admin")
def change_status(rid: str):
    """Record a licence status change (with its date and reason) and update the engine, so
    the enterprise's orders leave (or re-enter) every ranking at once."""
    s = get_session()
    r = _recruiter(rid)
    version = require_form_version(request.form)
    errors: dict[str, tuple[str, str]] = {}
    status = request.form.get("status", "")
    reason = (request.form.get("reason") or "").strip()
    if status not in LICENCE_STATUSES:
        errors["status"] = ("Hãy chọn một trạng thái.", "Choose a status.")
    try:
        effective = dt.date.fromisoformat(request.form.get("effective_date", ""))
    except ValueError:
        errors["effective_date"] = ("Cần một ngày dạng NNNN-TT-NN.", "A date (YYYY-MM-DD) is needed.")
        effective = None
    if not reason:
        errors["reason"] = ("Hãy ghi lý do (ví dụ: số quyết định thu hồi).", "Give the reason (e.g. the decision number).")
    elif len(reason) > 2000:
        errors["reason"] = ("Lý do quá dài (tối đa 2000 ký tự).", "The reason is too long (at most 2000 characters).")
    if version != r.version_id:
        raise Conflict()
    if errors:
        orders = s.scalars(select(JobOrder).where(JobOrder.recruiter_id == rid).order_by(JobOrder.order_id)).all()
        users = s.scalars(select(User).where(User.recruiter_id == rid)).all()
        return (
            render_template(
                "admin/recruiter.html",
                r=r,
                orders=orders,
                states=get_engine().order_states(s, orders),
                users=users,
                statuses=LICENCE_STATUSES,
                day=today(),
                errors=errors,
                form=request.form,
            ),
            422,
        )
    change = LicenceStatusChange(
        status=status, effective_date=effective, reason=reason, changed_by=current_user().username
    )
    r.status_history.append(change)
    if effective <= today():
        r.status = status
        r.status_date = effective
    else:
        r.updated_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    s.flush()
    record("licence_status", "recruiter", rid, status=status, effective_date=effective.isoformat(), reason=reason)
    s.commit()
    get_engine().recruiter_changed(s, r)
    flash(t("Đã ghi nhận thay đổi trạng thái giấy phép.", "Licence status change recorded."))
    return redirect(url_for("admin.recruiter", rid=rid))


# ----------------------------------------------------------------------------- users


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users():
    s = get_session()
    if request.method == "POST":
        form = request.form
        try:
            u = create_user(
                s,
                form.get("username", ""),
                form.get("password", ""),
                form.get("role", ""),
                form.get("recruiter_id") or None,
                form.get("full_name") or None,
            )
        except AuthError as exc:
            return _users_page(error=(exc.vi, exc.en), form=form, status=422)
        record("create", "user", u.id, name=u.username, role=u.role, recruiter_id=u.recruiter_id)
        s.commit()
        flash(t(f"Đã tạo tài khoản {u.username}.", f"User {u.username} created."))
        return redirect(url_for("admin.users"))
    return _users_page()


def _users_page(error: tuple[str, str] | None = None, form=None, status: int = 200, reset_error=None):
    """The user list with the create form; ``error`` under the create form, ``reset_error``
    (user id, (vi, en)) beside that user's reset form."""
    s = get_session()
    rows = s.scalars(select(User).order_by(User.username)).all()
    recruiters = s.scalars(select(Recruiter).order_by(Recruiter.name)).all()
    return (
        render_template("admin/users.html", users=rows, recruiters=recruiters, roles=ROLES, error=error,
                        form=form or {}, me=current_user().id, reset_error=reset_error or (None, None),
                        min_length=MIN_LENGTH, now=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)),
        status,
    )


def _user(uid: int) -> User:
    u = get_session().get(User, uid)
    if u is None:
        raise NotFound()
    return u


@bp.route("/users/<int:uid>/password", methods=["POST"])
@role_required("admin")
def reset_password(uid: int):
    """Set a new password for another user (who forgot theirs): it must pass the policy, the
    user has to change it at the next sign-in, every session of theirs ends, and a lock-out is
    lifted. Audited, without the password."""
    s = get_session()
    u = _user(uid)
    if u.id == current_user().id:
        raise BadRequest("Hãy đổi mật khẩu của chính bạn ở trang «Đổi mật khẩu».",
                         "Change your own password on the 'Change password' page.")
    try:
        ended = reset_user_password(s, u, request.form.get("password", ""))
    except AuthError as exc:  # checked before anything changed
        return _users_page(reset_error=(u.id, (exc.vi, exc.en)), status=422)
    record("password_reset", "user", u.id, name=u.username, sessions_ended=ended)
    s.commit()
    flash(t(f"Đã đặt lại mật khẩu của {u.username}; người này phải đổi mật khẩu khi đăng nhập lần sau.",
            f"{u.username}'s password was reset; they must change it at their next sign-in."))
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:uid>/active", methods=["POST"])
@role_required("admin")
def set_active(uid: int):
    s = get_session()
    u = _user(uid)
    wanted = request.form.get("active") == "true"
    if "active" not in request.form:
        raise BadRequest("Thiếu giá trị «active».", "The 'active' value is missing.")
    if not wanted and u.id == current_user().id:
        raise BadRequest("Bạn không thể tự vô hiệu hóa tài khoản của mình.", "You cannot disable your own account.")
    u.active = wanted
    if wanted:
        u.failed_logins = 0
        u.locked_until = None
    ended = 0 if wanted else accounts.revoke(s, u.id, "deactivate")
    record("activate" if wanted else "deactivate", "user", u.id, name=u.username,
           **({} if wanted else {"sessions_ended": ended}))
    s.commit()
    flash(t("Đã cập nhật tài khoản.", "User updated."))
    return redirect(url_for("admin.users"))


# ----------------------------------------------------------------------------- audit


@bp.route("/audit")
@role_required("admin")
def audit():
    s = get_session()
    args = request.args
    q = select(AuditEvent)
    errors = {}
    filters = {k: (args.get(k) or "").strip() for k in ("user", "action", "entity", "entity_id", "date_from", "date_to")}
    if filters["user"]:
        q = q.where(AuditEvent.username == filters["user"])
    if filters["action"]:
        q = q.where(AuditEvent.action == filters["action"])
    if filters["entity"]:
        q = q.where(AuditEvent.entity == filters["entity"])
    if filters["entity_id"]:
        q = q.where(AuditEvent.entity_id == filters["entity_id"])
    for key, op in (("date_from", "ge"), ("date_to", "lt")):
        day = date_arg(key, errors)
        if day is not None:
            # the days are Cao Bằng's, the stored times UTC
            start = formatting.utc_at_local(day if op == "ge" else day + dt.timedelta(days=1))
            q = q.where(AuditEvent.at >= start if op == "ge" else AuditEvent.at < start)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    page, pages = page_of(total, AUDIT_PAGE)
    rows = s.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)).all()
    actions = s.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    entities = s.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity)).all()
    usernames = s.scalars(select(AuditEvent.username).where(AuditEvent.username.is_not(None)).distinct().order_by(AuditEvent.username)).all()

    def page_args(n: int) -> str:
        return urlencode({**{k: v for k, v in filters.items() if v}, "page": n})

    return (
        render_template(
            "admin/audit.html",
            events=rows,
            filters=filters,
            errors=errors,
            actions=actions,
            entities=entities,
            usernames=usernames,
            page=page,
            pages=pages,
            total=total,
            page_args=page_args,
            audit_detail=lambda detail: detail_items(detail, current_lang()),
        ),
        422 if errors else 200,
    )


# ----------------------------------------------------------------------------- scoring weights


def _weights_page(error: str | None = None, status: int = 200):
    from matcher.scoring import FEATURE_LABELS, WeightsError
    from web.services.weights import in_use, list_versions

    cfg = settings()
    try:
        chosen = in_use(cfg)
    except WeightsError as exc:
        chosen, error = None, error or str(exc)
    versions = list_versions(cfg["instance_path"])
    names = {v.name for v in versions}
    if chosen is not None and chosen.name not in names:
        error = error or t(f"Phiên bản đang chọn {chosen.name!r} không còn.", f"The chosen version {chosen.name!r} is gone.")
    return (
        render_template("admin/weights.html", versions=versions, chosen=chosen, setting=cfg.get("scoring_weights"),
                        feature_labels=FEATURE_LABELS, error=error),
        status,
    )


@bp.route("/weights")
@role_required("admin")
def weights():
    """The scoring weights versions (packaged and fitted), the one in use, and a switch."""
    return _weights_page()


@bp.route("/weights/use", methods=["POST"])
@role_required("admin")
def use_weights():
    """Switch every later ranking to another version (a rollback too); audited."""
    from matcher.scoring import WeightsError
    from web.services.weights import use_version

    name = (request.form.get("name") or "").strip()
    if not name:
        raise BadRequest("Thiếu tên phiên bản trọng số «name».", "The weights version 'name' is missing.")
    try:
        previous, name = use_version(settings(), name, by=current_user().username)
    except WeightsError as exc:
        return _weights_page(error=str(exc), status=422)
    record("weights_use", "scoring_weights", name, previous=previous)
    get_session().commit()
    flash(t(f"Từ lần xếp hạng tiếp theo dùng trọng số {name} (trước đó {previous}).",
            f"Rankings now use the weights {name} (was {previous})."))
    return redirect(url_for("admin.weights"))
