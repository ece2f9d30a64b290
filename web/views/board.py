"""The order's pipeline board (issue 17): one column per stage, proposed to departed and the
exits, with the order's capacity; a counsellor moves several workers at once (all or none,
each move audited). The recruiter records interview results and selection for its own orders'
candidates sent by the centre, in its own pages, so the counsellor need not re-type them.
Server-rendered, usable without JavaScript."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from models import Application
from models.enums import STAGE_MOVES, STAGES
from web.services import pipeline
from web.views.auth import current_user, require_form_version, role_required
from web.views.db import get_session
from web.views.audit import via
from web.views.engine import get_engine
from web.services.errors import BadRequest, Conflict, NotFound, Unprocessable, WebError
from web.views.i18n import t

bp = Blueprint("board", __name__)
STAFF = ("counsellor", "admin")
MAX_BULK = 200


def _apps(oid: str) -> list[Application]:
    return list(get_session().scalars(
        select(Application).where(Application.order_id == oid).options(selectinload(Application.worker))
        .order_by(Application.updated_at.desc(), Application.id)))


def _columns(apps: list[Application]) -> list[tuple[str, list[Application]]]:
    return [(stage, [a for a in apps if a.stage == stage]) for stage in STAGES]


@bp.route("/counsellor/orders/<oid>/board", methods=["GET", "POST"])
@role_required(*STAFF)
def order_board(oid: str):
    from web.views.counsellor import load_order

    s = get_session()
    o = load_order(oid)
    error = None
    status = 200
    if request.method == "POST":
        to = request.form.get("to", "")
        ids = request.form.getlist("aid")[:MAX_BULK + 1]
        try:
            if not ids:
                raise BadRequest("Hãy chọn ít nhất một người.", "Select at least one worker.")
            if len(ids) > MAX_BULK:
                raise BadRequest(f"Tối đa {MAX_BULK} người mỗi lần.", f"At most {MAX_BULK} workers at a time.")
            if to not in STAGES:
                raise BadRequest("Hãy chọn giai đoạn mới.", "Choose the new stage.")
            by_id = {str(a.id): a for a in _apps(oid)}
            moves = []
            for aid in ids:
                app = by_id.get(aid)
                if app is None:
                    raise NotFound(f"Hồ sơ {aid} không thuộc đơn hàng này.", f"Application {aid} is not on this order.")
                raw = request.form.get(f"v-{aid}", "")
                if not raw.isdigit():
                    raise BadRequest("Thiếu phiên bản của hồ sơ; hãy tải lại trang.", "The form lacks a version; reload the page.")
                moves.append((app, int(raw)))
            note = (request.form.get("note") or "").strip()[:2000] or None
            pipeline.move_many(s, get_engine(), moves, to, current_user().username, note=note, via=via())
            s.commit()
        except StaleDataError:
            s.rollback()
            error, status = (Conflict.vi, Conflict.en), 409
        except WebError as exc:
            s.rollback()
            error, status = (exc.vi, exc.en), exc.status
        else:
            get_engine().order_changed(s, o)
            flash(t(f"Đã chuyển {len(moves)} người sang «{to}».", f"{len(moves)} workers moved to '{to}'."))
            return redirect(url_for("board.order_board", oid=oid))
        s.expire_all()
        o = load_order(oid)
    apps = _apps(oid)
    return render_template("counsellor/board.html", o=o, columns=_columns(apps), moves=STAGE_MOVES, stages=STAGES,
                           error=error, total=len(apps)), status


@bp.route("/recruiter/orders/<oid>/applications/<int:aid>/result", methods=["POST"])
@role_required("recruiter")
def recruiter_result(oid: str, aid: int):
    """The enterprise records an interview result or a selection for a candidate the centre
    sent it (consenting workers of its own order only)."""
    from web.views.recruiter import active_enterprise, own_order

    s = get_session()
    active_enterprise()  # an enterprise whose licence ended processes no candidate
    o = own_order(oid)
    app = s.get(Application, aid)
    if app is None or app.order_id != o.order_id or not app.worker.consent_share:
        raise NotFound("Không tìm thấy hồ sơ.", "No such application.")
    to = request.form.get("to", "")
    allowed = pipeline.RECRUITER_MOVES.get(app.stage, ())
    if to not in allowed:
        raise Unprocessable(
            "Doanh nghiệp chỉ ghi kết quả phỏng vấn và trúng tuyển cho ứng viên trung tâm đã giới thiệu.",
            "An enterprise records only interview results and selection for candidates the centre sent.",
            allowed=list(allowed))
    note = (request.form.get("note") or "").strip()[:2000] or None
    pipeline.move(s, get_engine(), app, to, current_user().username, note=note,
                  version=require_form_version(request.form), via=via())
    try:
        s.commit()
    except StaleDataError:
        raise Conflict() from None
    get_engine().order_changed(s, o)
    flash(t("Đã ghi kết quả.", "Result recorded."))
    return redirect(url_for("recruiter.order", oid=oid) + f"#cand-{app.worker_id}")
