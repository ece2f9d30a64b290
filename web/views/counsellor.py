"""Counsellor pages: find and keep worker profiles, import spreadsheets, see ranked orders
with their reasons and gaps, shortlist and move applications, print a summary, allocate a cohort.

Administrators may use these pages too. Every view of a personal profile is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from models import Application, JobOrder, Worker
from models.enums import DOCUMENT_KINDS, EARLY_RETURN_REASONS, ORDER_STATUSES, PROGRAMMES, RETURN_KINDS, STAGE_MOVES
from models.labels import COUNTRIES
from models.text import contains_words
from web.views.audit import record, record_bulk_read, via
from web.views.auth import current_user, require_form_version, role_required
from web.views.db import get_session, settings, today
from web.views.params import country_code, page_of
from web.views.engine import get_engine
from web.services.errors import BadRequest, Conflict, NotFound, Unprocessable
from web.services.forms import WorkerForm
from web.views.i18n import t
from web.services import allocation as allocation_service
from web.services import pipeline, uploads

bp = Blueprint("counsellor", __name__, url_prefix="/counsellor")
STAFF = ("counsellor", "admin")
PAGE = 25
# Legality classes of an order (``Matcher.order_state``), the order list's filter.
ORDER_LEGALITY = ("open", "blocked", "not_open")
MAX_TOP = 100
UPLOAD_TYPES = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# ----------------------------------------------------------------------------- helpers


def load_worker(wid: str) -> Worker:
    from data.repo import get_worker

    w = get_worker(get_session(), wid)
    if w is None:
        raise NotFound("Không tìm thấy người lao động.", "No such worker.")
    return w


def load_order(oid: str) -> JobOrder:
    from data.repo import get_order

    o = get_order(get_session(), oid)
    if o is None:
        raise NotFound("Không tìm thấy đơn hàng.", "No such order.")
    return o


def orders_by_id(ids) -> dict[str, JobOrder]:
    ids = list(ids)
    if not ids:
        return {}
    rows = get_session().scalars(
        select(JobOrder).where(JobOrder.order_id.in_(ids)).options(selectinload(JobOrder.recruiter))
    )
    return {o.order_id: o for o in rows}


def workers_by_id(ids) -> dict[str, Worker]:
    ids = list(ids)
    if not ids:
        return {}
    rows = get_session().scalars(
        select(Worker).where(Worker.worker_id.in_(ids)).options(selectinload(Worker.certificates))
    )
    return {w.worker_id: w for w in rows}


def top_arg(default: int = 10) -> int:
    try:
        top = int(request.args.get("top", default))
    except ValueError:
        raise BadRequest("Tham số «top» phải là số nguyên.", "The 'top' parameter must be an integer.") from None
    if not 1 <= top <= MAX_TOP:
        raise BadRequest(
            f"Tham số «top» phải từ 1 đến {MAX_TOP}.",
            f"The 'top' parameter must be an int in [1, {MAX_TOP}]. Got {top} instead.",
        )
    return top


def new_worker_id() -> str:
    """The next worker id in the form of the existing ones (``W02001`` after ``W02000``)."""
    from data.repo import next_id

    return next_id(get_session(), Worker.worker_id, "W")


# ----------------------------------------------------------------------------- workers


@bp.route("/workers")
@role_required(*STAFF)
def workers():
    from data.repo import count_workers, list_workers

    s = get_session()
    q = (request.args.get("q") or "").strip()[:200]
    total = count_workers(s, q or None)
    page, pages = page_of(total, PAGE)
    rows = list_workers(s, q or None, limit=PAGE, offset=(page - 1) * PAGE)
    record_bulk_read("workers", "worker", [w.worker_id for w in rows], q=q or None, page_no=page)
    return render_template(
        "counsellor/workers.html",
        workers=rows,
        q=q,
        total=total,
        page=page,
        pages=pages,
        page_args=lambda n: urlencode({"q": q, "page": n}),
        day=today(),
    )


@bp.route("/workers/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_worker():
    s = get_session()
    form = WorkerForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate() and form.check_national_id_free(s, None):
        w = Worker(worker_id=new_worker_id(), active=True, extra={})
        form.apply(w, today())
        s.add(w)
        try:
            s.flush()
        except IntegrityError:  # another request stored the same CCCĐ in between
            s.rollback()
            form.error_national_id_taken(None)
            return render_template("counsellor/worker_form.html", form=form, worker=None), 409
        record("create", "worker", w.worker_id)
        s.commit()
        get_engine().worker_changed(s, w)
        flash(t("Đã tạo hồ sơ người lao động.", "Worker profile created."))
        return redirect(url_for("counsellor.worker", wid=w.worker_id))
    return render_template("counsellor/worker_form.html", form=form, worker=None), (422 if form.errors else 200)


@bp.route("/workers/<wid>")
@role_required(*STAFF)
def worker(wid: str):
    return _worker_page(wid)


def _worker_page(wid: str, note: dict | None = None, note_errors: dict | None = None, status: int = 200,
                 after: dict | None = None, document: dict | None = None):
    """The worker's page; ``note``/``note_errors`` refill the note form after a refused entry,
    ``after`` the after-departure form (``{"aid", "values", "errors"}``), ``document`` the
    document form (``{"values", "errors"}``)."""
    from models import WorkerDocument
    from web.services.timeline import KIND_LABELS, worker_timeline

    s = get_session()
    w = load_worker(wid)
    apps = s.scalars(
        select(Application).where(Application.worker_id == wid).options(selectinload(Application.order), selectinload(Application.events))
    ).all()
    from data.repo import possible_duplicates

    duplicates = [] if w.merged_into else possible_duplicates(s, w)
    merged_here = s.scalars(select(Worker.worker_id).where(Worker.merged_into == wid).order_by(Worker.worker_id)).all()
    record("view", "worker", wid, page="profile")
    s.commit()
    return render_template("counsellor/worker.html", w=w, apps=apps, moves=STAGE_MOVES, day=today(),
                           duplicates=duplicates, merged_here=merged_here, timeline=worker_timeline(s, wid),
                           note_kinds=KIND_LABELS, note=note or {}, note_errors=note_errors or {},
                           after=after or {}, return_kinds=RETURN_KINDS, early_reasons=EARLY_RETURN_REASONS,
                           documents=s.scalars(select(WorkerDocument).where(WorkerDocument.worker_id == wid)
                                               .order_by(WorkerDocument.expires_on, WorkerDocument.id)).all(),
                           document=document or {}, document_kinds=DOCUMENT_KINDS,
                           soon=today() + dt.timedelta(days=60)), status


@bp.route("/workers/<wid>/notes", methods=["POST"])
@role_required(*STAFF)
def add_note(wid: str):
    """Add a note or a contact to the worker's timeline; a refused form comes back filled in."""
    from web.services.timeline import add_note as store_note, parse_note

    s = get_session()
    load_worker(wid)
    values, errors = parse_note(request.form, today())
    if errors:
        return _worker_page(wid, values, errors, 422)
    note = store_note(s, wid, values, current_user().username)
    record("note", "worker", wid, note_id=note.id, kind=note.kind)
    s.commit()
    flash(t("Đã ghi vào dòng thời gian.", "Added to the timeline."))
    return redirect(url_for("counsellor.worker", wid=wid) + "#timeline")


@bp.route("/workers/<wid>/merge", methods=["POST"])
@role_required(*STAFF)
def merge_worker(wid: str):
    """Merge the duplicate profile named in the form (``other``, typed again in ``confirm``)
    into this one (``web.services.merge``); audited."""
    from web.services.merge import MergeError, merge_workers

    s = get_session()
    load_worker(wid)
    other = (request.form.get("other") or "").strip()
    if not other or request.form.get("confirm", "").strip() != other:
        raise BadRequest("Hãy ghi mã hồ sơ trùng và gõ lại mã đó để xác nhận gộp.",
                         "Give the duplicate profile's id and type it again to confirm the merge.")
    try:
        result = merge_workers(s, wid, other, current_user().username)
    except MergeError as exc:
        s.rollback()
        raise Unprocessable(exc.vi, exc.en) from None
    s.commit()
    engine = get_engine()
    engine.worker_removed(s, other)
    engine.worker_changed(s, load_worker(wid))
    flash(t(f"Đã gộp hồ sơ {other} vào hồ sơ này ({result.applications + len(result.joined)} hồ sơ ứng tuyển, "
            f"{result.certificates} chứng chỉ chuyển sang).",
            f"Profile {other} merged into this one ({result.applications + len(result.joined)} applications, "
            f"{result.certificates} certificates moved)."))
    return redirect(url_for("counsellor.worker", wid=wid))


@bp.route("/workers/<wid>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit_worker(wid: str):
    """Edit a profile. The form carries the ``version_id`` it was rendered with: if someone
    else saved in between, nothing is overwritten and the counsellor is told so."""
    s = get_session()
    w = load_worker(wid)
    if request.method == "GET":
        record("view", "worker", wid, page="edit")
        s.commit()
        return render_template("counsellor/worker_form.html", form=WorkerForm(obj=w), worker=w, version=w.version_id)
    version = require_form_version(request.form)
    form = WorkerForm(request.form)
    if version != w.version_id:
        return (
            render_template("counsellor/worker_form.html", form=form, worker=w, version=version, conflict=True),
            409,
        )
    if not form.validate() or not form.check_national_id_free(s, wid):
        return render_template("counsellor/worker_form.html", form=form, worker=w, version=version), 422
    changed = form.apply(w, today())
    if changed:
        try:
            s.flush()
            record("update", "worker", wid, fields=changed)
            s.commit()
        except IntegrityError:  # another request stored the same CCCĐ in between
            s.rollback()
            form.error_national_id_taken(None)
            return render_template("counsellor/worker_form.html", form=form, worker=w, version=version), 409
        except StaleDataError:
            s.rollback()
            return (
                render_template("counsellor/worker_form.html", form=form, worker=w, version=version, conflict=True),
                409,
            )
        get_engine().worker_changed(s, w)
    flash(t("Đã lưu hồ sơ.", "Profile saved."))
    return redirect(url_for("counsellor.worker", wid=wid))


@bp.route("/workers/<wid>/matches")
@role_required(*STAFF)
def matches(wid: str):
    s = get_session()
    w = load_worker(wid)
    country = country_code(request.args.get("country"))
    programme = request.args.get("programme") or None
    if programme and programme not in PROGRAMMES:
        raise BadRequest("Chương trình không hợp lệ.", "Unknown programme.")
    top = top_arg(10)
    ranking = get_engine().rank_orders(s, w, top_k=top, country=country, programme=programme)
    orders = ranking.items  # the engine's orders, as ranked (no second read)
    apps = {a.order_id: a for a in s.scalars(select(Application).where(Application.worker_id == wid))}
    record("view", "worker", wid, page="matches")
    s.commit()
    return render_template(
        "counsellor/matches.html",
        w=w,
        ranking=ranking,
        orders=orders,
        apps=apps,
        country_filter=COUNTRIES.typed(country) if country else "",
        programme=programme or "",
        programmes=PROGRAMMES,
        top=top,
    )


@bp.route("/workers/<wid>/summary")
@role_required(*STAFF)
def summary(wid: str):
    """A one-page summary to print and give to the worker (print stylesheet)."""
    s = get_session()
    w = load_worker(wid)
    ranking = get_engine().rank_orders(s, w, top_k=5)
    orders = ranking.items
    apps = s.scalars(select(Application).where(Application.worker_id == wid).options(selectinload(Application.order))).all()
    record("view", "worker", wid, page="summary")
    s.commit()
    return render_template("counsellor/summary.html", w=w, ranking=ranking, orders=orders, apps=apps, day=today())


@bp.route("/shortlist", methods=["POST"])
@role_required(*STAFF)
def shortlist():
    s = get_session()
    w = load_worker(request.form.get("worker_id", ""))
    o = load_order(request.form.get("order_id", ""))
    score = request.form.get("score")
    try:
        score_value = float(score) if score else None
    except ValueError:
        score_value = None
    app = pipeline.shortlist(s, get_engine(), w, o, current_user().username, score=score_value, via=via())
    s.commit()
    flash(t(f"Đã đưa «{o.title}» vào danh sách ngắn của {w.full_name}.", f"«{o.title}» shortlisted for {w.full_name}."))
    target = request.form.get("next")
    if target == "order":
        return redirect(url_for("counsellor.order", oid=o.order_id) + f"#app-{app.id}")
    return redirect(url_for("counsellor.worker", wid=w.worker_id) + f"#app-{app.id}")


@bp.route("/applications/<int:aid>/move", methods=["POST"])
@role_required(*STAFF)
def move(aid: int):
    s = get_session()
    app = pipeline.get_application(s, aid)
    version = require_form_version(request.form)
    to = request.form.get("to", "")
    if not to:
        raise BadRequest("Hãy chọn giai đoạn mới.", "Choose the new stage.")
    note = (request.form.get("note") or "").strip()[:2000] or None
    pipeline.move(s, get_engine(), app, to, current_user().username, note=note, version=version, via=via())
    try:
        s.commit()
    except StaleDataError:
        raise Conflict() from None
    get_engine().order_changed(s, app.order)
    flash(t("Đã cập nhật giai đoạn hồ sơ.", "Application stage updated."))
    if request.form.get("next") == "order":
        return redirect(url_for("counsellor.order", oid=app.order_id))
    return redirect(url_for("counsellor.worker", wid=app.worker_id) + f"#app-{app.id}")


@bp.route("/applications/<int:aid>/reopen", methods=["POST"])
@role_required(*STAFF)
def reopen(aid: int):
    """Reopen a rejected or withdrawn pair, so that rankings and the allocation may propose it."""
    s = get_session()
    app = pipeline.get_application(s, aid)
    version = require_form_version(request.form)
    if version != app.version_id:
        raise Conflict()
    pipeline.reopen(s, app, current_user().username, via=via())
    try:
        s.commit()
    except StaleDataError:
        raise Conflict() from None
    flash(t("Đã mở lại hồ sơ: cặp này có thể được đề xuất lại.", "Application reopened: the pair may be proposed again."))
    if request.form.get("next") == "order":
        return redirect(url_for("counsellor.order", oid=app.order_id))
    return redirect(url_for("counsellor.worker", wid=app.worker_id) + f"#app-{app.id}")


# ----------------------------------------------------------------------------- orders


@bp.route("/orders")
@role_required(*STAFF)
def orders():
    """Every order with its legality badge; search by title or enterprise (whole words, with or
    without diacritics), filters by country, programme, status and legality, paginated."""
    s = get_session()
    args = {
        "q": (request.args.get("q") or "").strip()[:200],
        "country": (request.args.get("country") or "").strip().upper()[:2],
        "programme": request.args.get("programme") or "",
        "status": request.args.get("status") or "open",
        "legality": request.args.get("legality") or "all",
    }
    if args["programme"] not in PROGRAMMES:
        args["programme"] = ""
    if args["status"] not in (*ORDER_STATUSES, "all"):
        args["status"] = "open"
    if args["legality"] not in (*ORDER_LEGALITY, "all"):
        args["legality"] = "all"
    stmt = select(JobOrder).options(selectinload(JobOrder.recruiter)).order_by(JobOrder.order_id)
    if args["status"] != "all":
        stmt = stmt.where(JobOrder.status == args["status"])
    if args["country"]:
        stmt = stmt.where(JobOrder.country == args["country"])
    if args["programme"]:
        stmt = stmt.where(JobOrder.programme == args["programme"])
    rows = [o for o in s.scalars(stmt).all() if contains_words(f"{o.order_id} {o.title} {o.recruiter.name}", args["q"])]
    states = get_engine().order_states(s, rows)
    if args["legality"] != "all":
        rows = [o for o in rows if states[o.order_id][0] == args["legality"]]
    total = len(rows)
    page, pages = page_of(total, PAGE)
    countries = s.scalars(select(JobOrder.country).distinct().order_by(JobOrder.country)).all()
    return render_template(
        "counsellor/orders.html",
        orders=rows[(page - 1) * PAGE : page * PAGE],
        states=states,
        args=args,
        total=total,
        page=page,
        pages=pages,
        page_args=lambda n: urlencode({**args, "page": n}),
        countries=countries,
        programmes=PROGRAMMES,
        statuses=(*ORDER_STATUSES, "all"),
        legalities=ORDER_LEGALITY,
    )


@bp.route("/orders/<oid>")
@role_required(*STAFF)
def order(oid: str):
    """An order with its gate reasons and its ranked workers (all workers, consent or not:
    the centre holds the profiles; only recruiters are limited to consenting workers)."""
    s = get_session()
    o = load_order(oid)
    holder = get_engine()
    reasons = holder.order_reasons(s, o)
    top = top_arg(20)
    ranking = holder.rank_workers(s, o, top_k=top)
    workers = {i: w for i, w in ranking.items.items() if i != oid}  # the engine's profiles, as ranked
    apps = s.scalars(
        select(Application).where(Application.order_id == oid).options(selectinload(Application.worker))
    ).all()
    record_bulk_read("order_candidates", "worker", list(workers), order_id=oid)
    return render_template(
        "counsellor/order.html",
        o=o,
        reasons=reasons,
        ranking=ranking,
        workers=workers,
        apps=apps,
        app_by_worker={a.worker_id: a for a in apps},
        moves=STAGE_MOVES,
        top=top,
    )


@bp.route("/blocked")
@role_required(*STAFF)
def blocked():
    s = get_session()
    items = get_engine().blocked_orders(s)
    orders = orders_by_id(b.item_id for b in items)
    return render_template("counsellor/blocked.html", items=items, orders=orders)


# ----------------------------------------------------------------------------- import


def _import_kinds() -> tuple[str, ...]:
    return ("workers", "orders", "recruiters") if current_user().role == "admin" else ("workers",)


def check_upload(filename: str, data: bytes):
    """Why an uploaded spreadsheet is refused (a ``FieldError`` naming the file, Vietnamese first;
    ``None``: acceptable), in the importer's words (``data.importers.file_problem``). Only .csv
    (UTF-8 text) and .xlsx (a zip workbook) are accepted, whatever the browser claims the type is."""
    from data.importers import file_problem

    return file_problem(data, Path(filename or "").name, extensions=tuple(UPLOAD_TYPES))


NO_FILE = ("Hãy chọn một tệp.", "Choose a file.")


def _file_refusal(err) -> tuple[str, str]:
    """A whole-file error as the upload form shows it: (vi, en), each naming the file."""
    return f"{err.file}: {err.vi}", f"{err.file}: {err.problem}"


@bp.route("/import", methods=["GET", "POST"])
@role_required(*STAFF)
def import_upload():
    kinds = _import_kinds()
    if request.method == "GET":
        return render_template("counsellor/import.html", kinds=kinds, error=None, kind="workers")
    from data.importers import EXPECTED_FILE, preview, unknown_columns_note

    kind = request.form.get("kind", "workers")
    if kind not in kinds:
        raise BadRequest("Loại dữ liệu không hợp lệ.", "Unknown or not allowed kind of file.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("counsellor/import.html", kinds=kinds, error=NO_FILE, kind=kind), 422
    data = upload.read()
    name = Path(upload.filename).name[:200]
    problem = check_upload(name, data)
    if problem:  # refused by its name or bytes, before any parsing: 415 for the wrong kind of file
        return (render_template("counsellor/import.html", kinds=kinds, error=_file_refusal(problem), kind=kind),
                415 if problem.expected == EXPECTED_FILE else 422)
    s = get_session()
    result = preview(s, kind, data, filename=name, max_cells=settings()["max_xlsx_cells"])
    s.rollback()
    note = unknown_columns_note(result.unknown_columns) if result.unknown_columns else None
    if result.errors and not result.rows:  # refused as a whole (unreadable, too large ...): nothing to keep
        return render_template("counsellor/import_preview.html", p=result, token=None, name=name, kind=kind,
                               note=note), 422
    inst = current_app.instance_path
    uploads.remove_stale(inst)  # previews nobody stored or cancelled within the hour
    token = secrets.token_urlsafe(16)
    ext = Path(upload.filename).suffix.lower()
    uploads.save_upload(inst, token, ext, data)
    pending = session.get("imports", {})
    pending = {k: v for k, v in pending.items() if uploads.upload_path(inst, k, v["ext"]).exists()}
    pending[token] = {"kind": kind, "name": name, "ext": ext, "uid": current_user().id, "rows": len(result.rows)}
    session["imports"] = pending
    return render_template("counsellor/import_preview.html", p=result, token=token, name=name, kind=kind,
                           note=note, minutes=int(uploads.PREVIEW_LIFETIME.total_seconds() // 60))


def _pending_upload(token: str) -> dict | None:
    """The signed-in user's pending upload ``token`` (kind, name, ext), or None."""
    info = session.get("imports", {}).get(token)
    return info if info is not None and info.get("uid") == current_user().id else None


def _forget_upload(token: str) -> None:
    pending = session.get("imports", {})
    pending.pop(token, None)
    session["imports"] = pending


@bp.route("/import/template/<kind>.xlsx")
@role_required(*STAFF)
def import_template(kind: str):
    """An .xlsx template for the kinds this user may import (header, example row, drop-downs)."""
    from flask import Response

    from data.exporters import template_bytes

    if kind not in _import_kinds():
        raise NotFound("Không có tệp mẫu này.", "No such template.")
    return Response(template_bytes(kind), mimetype=UPLOAD_TYPES[".xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="mau-{kind}.xlsx"'})


@bp.route("/export/<kind>.<fmt>")
@role_required(*STAFF)
def export(kind: str, fmt: str):
    """Everything of ``kind`` in the interchange format, from the web (the CLI's ``matcher
    export``); personal data, so the export is audited with the count."""
    from flask import Response

    from data.exporters import table_rows, to_csv_bytes, to_xlsx_bytes

    if kind not in _import_kinds() or fmt not in ("csv", "xlsx"):
        raise NotFound("Không có tệp xuất này.", "No such export.")
    s = get_session()
    header, rows = table_rows(s, kind)
    data = to_csv_bytes(header, rows) if fmt == "csv" else to_xlsx_bytes(header, rows, title=kind)
    record("export", kind, None, format=fmt, rows=len(rows))
    s.commit()
    return Response(data, mimetype=UPLOAD_TYPES["." + fmt],
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{today().isoformat()}.{fmt}"',
                             "Cache-Control": "no-store"})


@bp.route("/import/<token>", methods=["POST"])
@role_required(*STAFF)
def import_commit(token: str):
    from data.importers import import_file

    info = _pending_upload(token)
    path = uploads.upload_path(current_app.instance_path, token, info["ext"]) if info else None
    if path is None or not path.exists():
        raise NotFound("Không tìm thấy tệp đã tải lên (đã lưu, đã hủy hoặc quá hạn); hãy tải lại.",
                       "The uploaded file is gone (stored, cancelled or expired); upload it again.")
    partial = request.form.get("partial") == "true"
    if int(info.get("rows") or 0) > settings()["background_import_rows"]:
        return _import_in_background(token, info, path, partial)
    s = get_session()
    report = import_file(s, info["kind"], path.read_bytes(), partial=partial, user=current_user().username,
                         filename=info["name"], max_cells=settings()["max_xlsx_cells"])
    s.commit()
    path.unlink(missing_ok=True)
    _forget_upload(token)
    if report.committed:
        get_engine().invalidate()  # many rows changed: rebuild on next use
    return render_template("counsellor/import_done.html", report=report, kind=info["kind"]), (200 if report.committed or not report.errors else 422)


def _import_in_background(token: str, info: dict, path: Path, partial: bool):
    """A large import (more rows than the setting ``background_import_rows``) runs as a job:
    its file moves out of the previews' folder into the job's, and the job's page follows it."""
    from web.services import jobs
    from web.views.jobs import drop_engine_after, start_job

    inst = current_app.instance_path
    name = jobs.save_import_input(inst, token, info["ext"], path.read_bytes())
    path.unlink(missing_ok=True)
    _forget_upload(token)
    job_id = start_job("import", {"kind": info["kind"], "input": name, "name": info["name"], "partial": partial,
                                  "user": current_user().username, "rows": int(info.get("rows") or 0),
                                  "max_cells": settings()["max_xlsx_cells"]},
                       after=drop_engine_after(current_app._get_current_object()))
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


@bp.route("/import/<token>/cancel", methods=["POST"])
@role_required(*STAFF)
def import_cancel(token: str):
    """Drop a previewed upload: its saved file is deleted at once (idempotent)."""
    info = _pending_upload(token)
    if info is not None:
        uploads.discard(current_app.instance_path, token, info["ext"])
        _forget_upload(token)
    flash(t("Đã hủy nhập; tệp tải lên đã được xóa.", "Import cancelled; the uploaded file was deleted."))
    return redirect(url_for("counsellor.import_upload"))


# ----------------------------------------------------------------------------- allocation


@bp.route("/allocation", methods=["GET", "POST"])
@role_required(*STAFF)
def allocation():
    """Choose a cohort (workers of a commune or search, without an open application) and the
    markets; the engine proposes the best assignment; the counsellor reviews it before accepting."""
    s = get_session()
    if request.method == "GET":
        return render_template("counsellor/allocation.html", result=None, args={}, errors={})
    args = request.form
    errors = {}
    q = (args.get("q") or "").strip()[:200]
    country = country_code(args.get("country"))
    try:
        size = int(args.get("size") or 50)
        if not 1 <= size <= allocation_service.MAX_COHORT:
            raise ValueError
    except ValueError:
        most = allocation_service.MAX_COHORT
        errors["size"] = (f"Số người từ 1 đến {most}.", f"Between 1 and {most} workers.")
        size = 50
    share = None
    if args.get("priority_share"):
        try:
            share = float(args["priority_share"]) / 100
            if not 0 <= share <= 1:
                raise ValueError
        except ValueError:
            errors["priority_share"] = ("Tỷ lệ từ 0 đến 100.", "A share between 0 and 100.")
    if errors:
        return render_template("counsellor/allocation.html", result=None, args=args, errors=errors), 422
    proposal = allocation_service.propose(s, get_engine(), q or None, size, country=country or None,
                                          min_priority_share=share)
    result, cohort, priority = proposal.result, proposal.cohort, proposal.priority
    workers = {w.worker_id: w for w in cohort}
    orders = orders_by_id({o for _, o, _ in result.pairs})
    record_bulk_read("allocation", "worker", list(workers), country=country or None, pairs=len(result.pairs))
    return render_template(
        "counsellor/allocation.html",
        result=result,
        args=args,
        errors={},
        workers=workers,
        orders=orders,
        cohort=cohort,
        priority=priority,
    )


@bp.route("/allocation/accept", methods=["POST"])
@role_required(*STAFF)
def allocation_accept():
    """Accept the reviewed pairs: each becomes a shortlisted application (gates re-checked)."""
    s = get_session()
    pairs = request.form.getlist("pair")
    if not pairs:
        raise BadRequest("Không có cặp nào được chọn.", "No pairs were chosen.")
    created, skipped = 0, []
    by = current_user().username
    seen_workers: set[str] = set()
    for p in pairs[:1000]:
        wid, _, oid = p.partition("|")
        w, o = s.get(Worker, wid), s.get(JobOrder, oid)
        if w is None or o is None or wid in seen_workers:
            skipped.append(p)
            continue
        try:
            pipeline.shortlist(s, get_engine(), w, o, by, via=via(), note=t("Phân bổ theo nhóm", "Cohort allocation"))
        except (Unprocessable, Conflict):
            skipped.append(p)
            continue
        seen_workers.add(wid)
        created += 1
    record("allocation_accept", "allocation", None, created=created, skipped=len(skipped))
    s.commit()
    flash(
        t(f"Đã tạo {created} hồ sơ trong danh sách ngắn; bỏ qua {len(skipped)}.",
          f"{created} applications shortlisted; {len(skipped)} skipped."),
        "warning" if skipped else "info",
    )
    return redirect(url_for("counsellor.allocation"))
