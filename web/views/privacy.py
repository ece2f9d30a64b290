"""Personal-data rights of a worker (Decree 13/2023/ND-CP): consent, access, erasure.

- Consent is recorded with its date and scope, can be revoked, and every change is kept as a
  :class:`models.ConsentEvent` (plus an audit event).
- Right of access: :func:`worker_record` gathers everything held about a worker (profile,
  certificates, applications with their stage events, consent history, audit events about the
  worker and its applications) as one JSON-ready dict.
- Right to deletion: :func:`erase_worker` deletes the worker and its children and writes one
  audit event that keeps only the worker id and the counts deleted (no name, phone, ID...).

The functions take a session and are shared by the pages below and by ``matcher worker``
(``web.cli.ops``); the caller commits.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from data.repo import audit
from models import formatting
from models import ConsentEvent, Worker
from web.services.privacy import erase_worker, record_consent, worker_record
from web.views.auth import current_user, role_required
from web.views.db import get_session, today
from web.views.i18n import t
from web.services.errors import BadRequest, NotFound

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
STAFF = ("counsellor", "admin")


# ----------------------------------------------------------------------------- pages


def _worker(wid: str) -> Worker:
    w = get_session().get(Worker, wid)
    if w is None:
        raise NotFound("Không tìm thấy người lao động.", "No such worker.")
    return w


@bp.route("/workers/<wid>")
@role_required(*STAFF)
def worker(wid: str):
    s = get_session()
    w = _worker(wid)
    consents = s.scalars(select(ConsentEvent).where(ConsentEvent.worker_id == wid).order_by(ConsentEvent.id.desc())).all()
    audit(s, current_user().username, "view", "worker", wid, page="privacy")
    s.commit()
    return render_template("privacy/worker.html", w=w, consents=consents, day=today())


@bp.route("/workers/<wid>/consent", methods=["POST"])
@role_required(*STAFF)
def consent(wid: str):
    s = get_session()
    w = _worker(wid)
    action = request.form.get("action")
    if action not in ("grant", "revoke"):
        raise BadRequest("Hãy chọn ghi nhận hoặc rút lại sự đồng ý.", "The 'action' must be 'grant' or 'revoke'.")
    raw_day = (request.form.get("consent_date") or "").strip()
    try:
        day = formatting.parse_date(raw_day) or today()
    except ValueError:
        raise BadRequest("Ngày không hợp lệ (cần NN/TT/NNNN hoặc NNNN-TT-NN).", f"The 'consent_date' must be a date dd/mm/yyyy or YYYY-MM-DD. Got {raw_day!r} instead.") from None
    scope = request.form.get("scope")
    if action == "grant" and not (scope or "").strip():
        raise BadRequest("Hãy ghi phạm vi đồng ý.", "A consent needs its scope.")
    record_consent(s, w, action, current_user().username, scope, day)
    s.commit()
    flash(t("Đã ghi nhận sự đồng ý.", "Consent recorded.") if action == "grant"
          else t("Đã ghi nhận việc rút lại sự đồng ý.", "Withdrawal of consent recorded."))
    return redirect(url_for("privacy.worker", wid=wid))


@bp.route("/workers/<wid>/export")
@role_required(*STAFF)
def export(wid: str):
    s = get_session()
    data = worker_record(s, wid)
    if data is None:
        raise NotFound("Không tìm thấy người lao động.", "No such worker.")
    audit(s, current_user().username, "export", "worker", wid)
    s.commit()
    body = json.dumps(data, ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="worker-{wid}.json"'})


@bp.route("/workers/<wid>/erase", methods=["POST"])
@role_required(*STAFF)
def erase(wid: str):
    s = get_session()
    _worker(wid)
    if request.form.get("confirm") != wid:
        raise BadRequest("Hãy gõ lại mã người lao động để xác nhận xóa.", "Type the worker id to confirm the erasure.")
    erase_worker(s, wid, current_user().username, current_app.instance_path)
    s.commit()
    flash(t("Đã xóa toàn bộ dữ liệu của người lao động.", "All of the worker's data was erased."))
    return redirect(url_for("counsellor.workers"))
