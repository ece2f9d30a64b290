"""JSON API under /api, with the same permissions as the pages.

Authentication: ``Authorization: Bearer TOKEN`` (``matcher user token NAME``) or the session
cookie of a signed-in user (unsafe methods then need the CSRF token in ``X-CSRFToken``).
A recruiter sees only its own enterprise's orders and, one profile at a time, only consenting
workers who are candidates for one of those orders that is legal and open
(``web.views.recruiter.may_read_worker``), with phone and national ID masked until the application
reaches "sent"; anything else is a 404 (not found) rather than a hint that it exists. A
recruiter whose enterprise is not active (licence revoked or suspended) reads no worker: 403.
The document ``/api/openapi.json`` says exactly what each endpoint returns (``web.views.openapi``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from matcher.ranker import reason_dict
from models import Application, JobOrder, Worker
from models.enums import PROGRAMMES
from web.services import pipeline
from web.views.audit import record, record_bulk_read, via
from web.views.auth import current_user, role_required
from web.views.counsellor import MAX_TOP
from web.views.db import get_session
from web.views.engine import get_engine
from web.services.errors import BadRequest, BreaksRule, Conflict, NotFound, Unprocessable
from web.services.forms import OrderForm
from web.views.i18n import mask

bp = Blueprint("api", __name__, url_prefix="/api")
ALL = ("admin", "counsellor", "recruiter")
STAFF = ("admin", "counsellor")


# ----------------------------------------------------------------------------- serialisers


INELIGIBLE_PAGE = 50


def ranking_json(query_id: str, direction: str, ranking, matches=None, ineligible=True, ineligible_page=1) -> dict:
    """The ranking as JSON. The ineligible items (every item a gate refused: often most of the
    pool) are counted by reason in ``ineligible_summary`` and listed one page at a time, so a
    staff request for ten matches does not carry two thousand refusals (issue 14, item 12)."""
    refused = list(ranking.ineligible) if ineligible else []
    by_reason: dict[str, int] = {}
    for b in refused:
        for code in {r.code for r in b.reasons}:
            by_reason[code] = by_reason.get(code, 0) + 1
    pages = max(1, -(-len(refused) // INELIGIBLE_PAGE))
    page = min(ineligible_page, pages)
    return {
        "query_id": query_id,
        "direction": direction,
        "matches": [m.to_dict() for m in (ranking.matches if matches is None else matches)],
        "blocked": [b.to_dict() for b in ranking.blocked],
        "ineligible": [b.to_dict() for b in refused[(page - 1) * INELIGIBLE_PAGE: page * INELIGIBLE_PAGE]],
        "ineligible_summary": {"total": len(refused), "by_reason": dict(sorted(by_reason.items())),
                               "page": page, "pages": pages, "page_size": INELIGIBLE_PAGE},
    }


def _date(d) -> str | None:
    return d.isoformat() if d is not None else None


def worker_json(w: Worker, *, recruiter_view: bool = False, contacts: bool = True) -> dict:
    """A worker profile. The recruiter view leaves out sensitive data (ethnicity, household,
    what the worker can pay) and masks phone and national ID unless ``contacts``."""
    data: dict[str, Any] = {
        "worker_id": w.worker_id,
        "full_name": w.full_name,
        "birth_date": _date(w.birth_date),
        "gender": w.gender,
        "commune": w.commune,
        "former_district": w.former_district,
        "disadvantaged_commune": None if recruiter_view else w.disadvantaged_commune,
        "ethnicity": None if recruiter_view else w.ethnicity,
        "household": None if recruiter_view else w.household,
        "education": w.education,
        "skills": list(w.skills or []),
        "experience": [{"occupation": str(e.get("occupation", "")), "years": float(e.get("years") or 0)} for e in w.experience or []],
        "languages": [c.raw for c in w.certificates],
        "language_training": w.language_training,
        "preferred_countries": list(w.preferred_countries or []),
        "preferred_sectors": list(w.preferred_sectors or []),
        "min_wage_vnd": w.min_wage_vnd,
        "max_fee_vnd": None if recruiter_view else w.max_fee_vnd,
        "available_from": _date(w.available_from),
        "consent_share": bool(w.consent_share),
        "consent_date": _date(w.consent_date),
        "active": bool(w.active),
        "contacts_visible": contacts,
        "phone": (w.phone if contacts else mask(w.phone)) or None,
        "national_id": (w.national_id if contacts else mask(w.national_id)) or None,
        "version_id": w.version_id,
    }
    return data


def worker_summary_json(w: Worker) -> dict:
    return {
        "worker_id": w.worker_id,
        "full_name": w.full_name,
        "commune": w.commune,
        "phone": mask(w.phone) or None,
        "skills": list(w.skills or []),
        "consent_share": bool(w.consent_share),
    }


ORDER_FIELDS = tuple(f.name for f in OrderForm.fields)
DATE_FIELDS = {"approval_date", "deadline", "departure_date"}


def order_json(o: JobOrder, reasons: list) -> dict:
    data: dict[str, Any] = {"order_id": o.order_id, "recruiter_id": o.recruiter_id,
                            "recruiter_name": o.recruiter.name if o.recruiter else None}
    for name in ORDER_FIELDS:
        value = getattr(o, name)
        if name in DATE_FIELDS:
            value = _date(value)
        elif name == "required_skills":
            value = list(value or [])
        data[name] = value
    data.update(
        status=o.status,
        places_filled=o.places_filled or 0,
        places_left=o.places_left,
        blocked=any(r.severity == "block" for r in reasons),
        reasons=[reason_dict(r) for r in reasons],
        version_id=o.version_id,
    )
    return data


def application_json(a: Application) -> dict:
    return {
        "id": a.id,
        "worker_id": a.worker_id,
        "order_id": a.order_id,
        "stage": a.stage,
        "score": a.score,
        "note": a.note,
        "version_id": a.version_id,
        "events": [
            {"from_stage": e.from_stage, "to_stage": e.to_stage, "by": e.by, "at": e.at.isoformat() + "Z"}
            for e in a.events
        ],
    }


# ----------------------------------------------------------------------------- helpers


def _top() -> int:
    raw = request.args.get("top", "10")
    try:
        top = int(raw)
    except ValueError:
        raise BadRequest("Tham số «top» phải là số nguyên.", f"The 'top' parameter must be an int in [1, {MAX_TOP}]. Got {raw!r} instead.") from None
    if not 1 <= top <= MAX_TOP:
        raise BadRequest(f"Tham số «top» phải từ 1 đến {MAX_TOP}.", f"The 'top' parameter must be an int in [1, {MAX_TOP}]. Got {top} instead.")
    return top


def json_object() -> dict:
    """The request's JSON object; 400 for anything else, including a body nested too deeply
    to decode (Python's decoder recurses and would otherwise fail with a 500)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("JSON lồng quá sâu.", "The JSON body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise BadRequest("Cần một đối tượng JSON.", "A JSON object is expected.")
    return body


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Tham số «{name}» phải là số nguyên.", f"The '{name}' parameter must be an int in [{lo}, {hi}]. Got {raw!r} instead.") from None
    if not lo <= value <= hi:
        raise BadRequest(f"Tham số «{name}» phải từ {lo} đến {hi}.", f"The '{name}' parameter must be an int in [{lo}, {hi}]. Got {value} instead.")
    return value


def visible_worker(wid: str) -> tuple[Worker, bool]:
    """The worker and whether contacts are visible, as the current user may see it."""
    from data.repo import get_worker
    from web.views.recruiter import active_enterprise, may_read_worker

    user = current_user()
    if user.role == "recruiter":
        active_enterprise()  # 403 before anything is looked up
    w = get_worker(get_session(), wid)
    if w is None:
        raise NotFound("Không tìm thấy người lao động.", "No such worker.")
    if user.role != "recruiter":
        return w, True
    if not may_read_worker(w):
        raise NotFound("Không tìm thấy người lao động.", "No such worker.")
    sent = get_session().scalar(
        select(Application.id)
        .join(JobOrder, JobOrder.order_id == Application.order_id)
        .where(
            Application.worker_id == wid,
            JobOrder.recruiter_id == user.recruiter_id,
            Application.stage.in_(sorted(pipeline.CONTACT_STAGES)),
        )
        .limit(1)
    )
    return w, sent is not None


def visible_order(oid: str) -> JobOrder:
    from data.repo import get_order

    o = get_order(get_session(), oid)
    user = current_user()
    if o is None or (user.role == "recruiter" and o.recruiter_id != user.recruiter_id):
        raise NotFound("Không tìm thấy đơn hàng.", "No such order.")
    return o


# ----------------------------------------------------------------------------- endpoints


@bp.route("/workers")
@role_required(*STAFF)
def workers():
    from data.repo import count_workers, list_workers

    s = get_session()
    q = (request.args.get("q") or "").strip()[:200] or None
    limit = _int_arg("limit", 50, 1, 500)
    offset = _int_arg("offset", 0, 0, 10**9)
    rows = list_workers(s, q, limit=limit, offset=offset)
    record_bulk_read("api_workers", "worker", [w.worker_id for w in rows], q=q, offset=offset)
    return jsonify({"total": count_workers(s, q), "items": [worker_summary_json(w) for w in rows]})


@bp.route("/workers/<wid>")
@role_required(*ALL)
def worker(wid: str):
    s = get_session()
    w, contacts = visible_worker(wid)
    record("view", "worker", wid, page="api")
    s.commit()
    return jsonify(worker_json(w, recruiter_view=current_user().role == "recruiter", contacts=contacts))


@bp.route("/workers/<wid>/matches")
@role_required(*STAFF)
def worker_matches(wid: str):
    s = get_session()
    w, _ = visible_worker(wid)
    country = (request.args.get("country") or "").strip().upper() or None
    programme = request.args.get("programme") or None
    if programme is not None and programme not in PROGRAMMES:
        raise BadRequest("Chương trình không hợp lệ.", f"The 'programme' parameter must be one of {', '.join(PROGRAMMES)}. Got {programme!r} instead.")
    ranking = get_engine().rank_orders(s, w, top_k=_top(), country=country, programme=programme)
    record("view", "worker", wid, page="api_matches")
    s.commit()
    return jsonify(ranking_json(wid, "w2j", ranking, ineligible_page=_int_arg("ineligible_page", 1, 1, 1_000_000)))


@bp.route("/orders")
@role_required(*ALL)
def orders():
    s = get_session()
    status = request.args.get("status")
    q = select(JobOrder).options(selectinload(JobOrder.recruiter)).order_by(JobOrder.order_id)
    if status is not None:  # "?status=" is refused like any value outside the enum
        if status not in ("open", "draft", "closed"):
            raise BadRequest("Trạng thái không hợp lệ.", f"The 'status' parameter must be one of open, draft, closed. Got {status!r} instead.")
        q = q.where(JobOrder.status == status)
    user = current_user()
    if user.role == "recruiter":
        q = q.where(JobOrder.recruiter_id == user.recruiter_id)
    holder = get_engine()
    rows = s.scalars(q).all()
    return jsonify({"items": [order_json(o, holder.order_reasons(s, o)) for o in rows]})


@bp.route("/orders", methods=["POST"])
@role_required("recruiter")
def create_order():
    """Post an order for the caller's enterprise. A body the order form refuses is 422 (the
    document's schema is the form's, so a schema-valid body never is); an order a rule in force
    would block is refused with 409 and the reasons, unless ``confirm_blocked`` is true: it is
    then stored as a draft."""
    from web.views.recruiter import save_order

    s = get_session()
    body = json_object()
    unknown = sorted(set(body) - set(ORDER_FIELDS) - {"confirm_blocked"})
    if unknown:
        raise Unprocessable("Có trường không được phép.", f"Unknown fields: {', '.join(unknown)}; allowed: {', '.join(ORDER_FIELDS)}, confirm_blocked.", fields={k: {"vi": "Trường không được phép.", "en": "Unknown field."} for k in unknown})
    form = OrderForm.from_json(body)
    if not form.validate():
        raise Unprocessable(fields={k: {"vi": v[0], "en": v[1]} for k, v in form.errors.items()})
    order, reasons = save_order(None, form, body.get("confirm_blocked") is True)
    if order is None:
        raise BreaksRule(
            "Đơn hàng sẽ bị chặn: " + "; ".join(r.vi for r in reasons if r.severity == "block"),
            "The order would be blocked: " + "; ".join(r.en for r in reasons if r.severity == "block"),
            reasons=[reason_dict(r) for r in reasons],
        )
    s.commit()
    get_engine().order_changed(s, order)
    return jsonify(order_json(order, get_engine().order_reasons(s, order))), 201


@bp.route("/orders/<oid>")
@role_required(*ALL)
def order(oid: str):
    s = get_session()
    o = visible_order(oid)
    return jsonify(order_json(o, get_engine().order_reasons(s, o)))


@bp.route("/orders/<oid>/matches")
@role_required(*ALL)
def order_matches(oid: str):
    from web.views.recruiter import active_enterprise

    s = get_session()
    recruiter = current_user().role == "recruiter"
    if recruiter:
        active_enterprise()  # a recruiter whose enterprise is not active reads no worker
    o = visible_order(oid)
    ranking = get_engine().rank_workers(s, o, top_k=_top(), consent_only=recruiter)
    matches = ranking.matches
    if recruiter:
        # Defence in depth: never return a worker who did not consent, whatever the engine says.
        ids = [m.item_id for m in matches]
        consenting = set(s.scalars(select(Worker.worker_id).where(Worker.worker_id.in_(ids), Worker.consent_share.is_(True)))) if ids else set()
        matches = [m for m in matches if m.item_id in consenting]
        record("view_candidates", "order", oid, workers=[m.item_id for m in matches], page="api")
        s.commit()
    else:
        record_bulk_read("api_order_matches", "worker", [m.item_id for m in matches] + [b.item_id for b in ranking.ineligible],
                         order_id=oid)
    return jsonify(ranking_json(oid, "j2w", ranking, matches=matches, ineligible=not recruiter,
                                ineligible_page=_int_arg("ineligible_page", 1, 1, 1_000_000)))


@bp.route("/blocked-orders")
@role_required(*ALL)
def blocked_orders():
    s = get_session()
    items = get_engine().blocked_orders(s)
    user = current_user()
    if user.role == "recruiter":
        own = set(s.scalars(select(JobOrder.order_id).where(JobOrder.recruiter_id == user.recruiter_id)))
        items = [b for b in items if b.item_id in own]
    return jsonify({"items": [b.to_dict() for b in items]})


@bp.route("/applications/<int:aid>/stage", methods=["POST"])
@role_required(*STAFF)
def move_application(aid: int):
    s = get_session()
    app = pipeline.get_application(s, aid)
    body = json_object()
    if not isinstance(body.get("to"), str):
        raise BadRequest("Cần {\"to\": giai đoạn}.", "A JSON object with 'to' (the new stage) is expected.")
    version = body.get("version_id")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise BadRequest("version_id phải là số nguyên.", "'version_id' must be an integer.")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadRequest("note phải là chuỗi.", "'note' must be a string.")
    pipeline.move(s, get_engine(), app, body["to"], current_user().username,
                  note=(note or "")[:2000] or None, version=version, via=via())
    try:
        s.commit()
    except StaleDataError:  # a concurrent move of the same application won
        raise Conflict() from None
    get_engine().order_changed(s, app.order)
    return jsonify(application_json(app))


@bp.route("/openapi.json")
def openapi():
    from web.views.openapi import document

    return jsonify(document())

# Unknown paths under /api need no catch-all route: the app's 404 handler answers JSON there
# (web.views.errors.wants_json). A catch-all for every method made a wrong method on a real path
# (PUT /api/workers) a 404 instead of a 405 with its Allow header (found by schemathesis).

