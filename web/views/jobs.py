"""Background jobs in the browser: start one (the period report's or the training needs'
workbook; an index rebuild for administrators), follow its progress, download its file.

A job's page refreshes itself (``<meta http-equiv="refresh">``, no script) while the job is
queued or running. A job is visible to its creator and to administrators only (anyone else gets
404, as for a job that does not exist); recruiters reach none of these pages. The work itself is
in ``web.services.jobs``.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, url_for

from models.formatting import parse_day
from web.services import jobs as job_service
from web.services.errors import BadRequest, NotFound
from web.views.audit import record
from web.views.auth import current_user, role_required
from web.views.db import get_session, get_store, settings, today
from web.views.i18n import t

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
STAFF = ("counsellor", "admin")
REFRESH_SECONDS = 2

# What a job made, for the audit log when its file is downloaded (as the direct downloads record).
AUDIT_ENTITY = {"period_report": "period_report", "training_needs": "training_needs"}


def start_job(kind: str, args: dict, *, after=None) -> int:
    """Enqueue ``kind`` for the signed-in user on the app's backend; the job's id. ``after``
    runs in this process when the job ends (thread and inline backends)."""
    return job_service.enqueue(get_store(), settings(), kind, args, current_user().id, after=after)


def drop_engine_after(app: Flask):
    """A follow-up that drops this process's engine once a job changed the data or its index:
    the next use loads the saved index and catches up."""

    def after(status: str) -> None:
        from web.views.engine import get_engine

        get_engine(app).invalidate()

    return after


def _visible(job_id: int):
    user = current_user()
    row = job_service.job_for(get_session(), job_id, user.id, user.role == "admin")
    if row is None:
        raise NotFound("Không có tác vụ này.", "No such job.")
    return row


def _date_field(name: str, errors: dict) -> dt.date | None:
    raw = (request.form.get(name) or "").strip()
    try:
        day = parse_day(raw)  # dd/mm/yyyy or ISO, within 1900-2100 like every other date a person types
    except ValueError:
        day = None
    if day is None:
        errors[name] = raw
    return day


@bp.route("/start", methods=["POST"])
@role_required(*STAFF)
def start():
    """Start a job of the posted ``kind``: ``period_report`` (fields ``from`` and ``to``),
    ``training_needs``, or ``engine_index`` (administrators)."""
    kind = request.form.get("kind", "")
    if kind == "period_report":
        errors: dict = {}
        start_day, end_day = _date_field("from", errors), _date_field("to", errors)
        if errors or start_day > end_day:
            from web.services.errors import Unprocessable

            raise Unprocessable("Kỳ báo cáo không hợp lệ (từ ngày, đến ngày).",
                                "The report period is not valid (from, to).")
        job_id = start_job(kind, {"start": start_day.isoformat(), "end": end_day.isoformat()})
    elif kind == "training_needs":
        job_id = start_job(kind, {"day": today().isoformat()})
    elif kind == "engine_index" and current_user().role == "admin":
        job_id = start_job(kind, {"day": today().isoformat()}, after=drop_engine_after(current_app._get_current_object()))
    else:
        raise BadRequest("Loại tác vụ không hợp lệ.", "Unknown or not allowed kind of job.")
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


@bp.route("")
@role_required(*STAFF)
def list_jobs():
    """The user's jobs, newest first (every job for an administrator)."""
    job_service.fail_stale(get_store())
    job_service.remove_old_results(get_store(), current_app.instance_path)
    user = current_user()
    admin = user.role == "admin"
    rows = job_service.visible_jobs(get_session(), user.id, admin)
    from models import User

    names = {u.id: u.username for u in get_session().query(User).filter(User.id.in_({r.created_by for r in rows}))}
    running = any(r.status in ("queued", "running") for r in rows)
    return render_template("jobs/list.html", jobs=rows, names=names, admin=admin,
                           refresh=REFRESH_SECONDS * 2 if running else None)


@bp.route("/<int:job_id>")
@role_required(*STAFF)
def job_page(job_id: int):
    job_service.fail_stale(get_store())
    row = _visible(job_id)
    has_file = job_service.result_path(current_app.instance_path, row) is not None
    report = (row.result or {}).get("report") if row.kind == "import" else None
    pending = row.status in ("queued", "running")
    period = None
    if row.kind == "period_report":
        try:
            period = tuple(dt.date.fromisoformat((row.args or {})[k]) for k in ("start", "end"))
        except (KeyError, TypeError, ValueError):  # a job given a bad period shows its error instead
            period = None
    return render_template("jobs/job.html", job=row, has_file=has_file, report=report, period=period,
                           refresh=REFRESH_SECONDS if pending else None), 200


@bp.route("/<int:job_id>/download")
@role_required(*STAFF)
def download(job_id: int):
    row = _visible(job_id)
    path = job_service.result_path(current_app.instance_path, row)
    if path is None:
        raise NotFound("Tác vụ chưa có tệp kết quả (chưa xong, bị lỗi hoặc tệp đã quá hạn và bị xóa).",
                       "The job has no result file (not finished, failed, or the file expired and was deleted).")
    entity = AUDIT_ENTITY.get(row.kind, "job")
    detail = {"job": row.id}
    if row.kind == "period_report":
        given = row.args or {}  # the job's arguments (not the request's)
        entity_id = f"{given.get('start')}..{given.get('end')}"
    else:
        entity_id = None
        if row.kind == "training_needs":
            detail["workers"] = (row.result or {}).get("workers")
    record("export", entity, entity_id, **detail)
    get_session().commit()
    return Response(path.read_bytes(), mimetype=row.result.get("mimetype") or job_service.XLSX, headers={
        "Content-Disposition": f'attachment; filename="{row.result.get("filename") or path.name}"',
        "Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """At start-up: jobs left by a dead process are marked failed; expired result files go."""
    from models.labels import JOB_KINDS, JOB_STATUSES

    store = get_store(app)
    job_service.fail_stale(store)
    job_service.remove_old_results(store, app.instance_path)
    app.jinja_env.globals.update(
        job_kind=lambda k: t(*JOB_KINDS.names[k]) if k in JOB_KINDS.names else k,
        job_status=lambda k: t(*JOB_STATUSES.names[k]) if k in JOB_STATUSES.names else k,
    )
