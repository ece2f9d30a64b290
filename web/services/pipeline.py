"""Applications moving through their stages, shared by the pages and the API.

Moves follow ``models.enums.STAGE_MOVES``. Shortlisting and sending a candidate need an order
that is legal and open today (the engine's gates); recording later outcomes does not, since
they describe what already happened. Moving into ``selected`` fills one of the order's places,
leaving ``selected`` for ``rejected``/``withdrawn`` frees it again.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Application, JobOrder, StageEvent, Worker
from data.repo import CLOSING_STAGES
from models.enums import STAGE_MOVES, STAGES
from models.labels import STAGES as STAGE_NAMES
from data.repo import audit
from web.services.errors import Conflict, NotFound, Unprocessable

# Stages from which a recruiter may see the candidate's contact details.
CONTACT_STAGES = frozenset({"sent", "interviewed", "selected", "departed"})
NEEDS_LEGAL_ORDER = frozenset({"shortlisted", "sent"})


def order_legal_reasons(s: Session, gates, order: JobOrder) -> list:
    """Blocking gate reasons of ``order`` today (empty when it may be offered to workers).
    ``gates`` is the matching engine (anything with ``order_block_reasons``)."""
    return gates.order_block_reasons(s, order)


def shortlist(s: Session, gates, worker: Worker, order: JobOrder, by: str, score: float | None = None,
              note: str | None = None, check: bool = True, via: str | None = None) -> Application:
    """Create (or re-open as shortlisted) the application of ``worker`` for ``order``. ``gates``
    is the engine whose legality gates a shortlist needs; ``by`` the user and ``via``
    ("api_token" or None) how they came, both written to the audit log."""
    if check:
        reasons = order_legal_reasons(s, gates, order)
        if reasons:
            raise Unprocessable(
                "Không thể chọn đơn hàng này: " + "; ".join(r.vi for r in reasons),
                "This order cannot be offered: " + "; ".join(r.en for r in reasons),
                reasons=[r.code for r in reasons],
            )
    app = s.scalar(
        select(Application).where(Application.worker_id == worker.worker_id, Application.order_id == order.order_id)
    )
    if app is None:
        app = Application(worker_id=worker.worker_id, order_id=order.order_id, stage="shortlisted",
                          score=score, created_by=by, note=note)
        s.add(app)
        s.flush()
        app.events.append(StageEvent(from_stage=None, to_stage="shortlisted", by=by, note=note))
        _audit(s, by, via, "shortlist", app.id, worker_id=worker.worker_id, order_id=order.order_id)
        return app
    if app.stage == "shortlisted":
        return app
    if "shortlisted" not in STAGE_MOVES.get(app.stage, ()):
        raise Conflict(
            f"Hồ sơ đã ở giai đoạn «{STAGE_NAMES.label(app.stage)}», không thể đưa lại vào danh sách ngắn.",
            f"The application is already at stage {app.stage!r} and cannot be shortlisted again.",
        )
    move(s, gates, app, "shortlisted", by, note=note, check=False, via=via)
    return app


def move(s: Session, gates, app: Application, to: str, by: str, note: str | None = None,
         version: int | None = None, check: bool = True, via: str | None = None) -> Application:
    """Move ``app`` to stage ``to``; ``version`` (the form's version_id) guards against a stale page."""
    if to not in STAGES:
        raise Unprocessable(f"Giai đoạn không hợp lệ: {to!r} (cần một trong: {STAGE_NAMES.accepted()}).",
                            f"Unknown stage {to!r}; allowed: {', '.join(STAGES)}.")
    if version is not None and version != app.version_id:
        raise Conflict()
    allowed = STAGE_MOVES.get(app.stage, ())
    if to not in allowed:
        raise Conflict(
            f"Không thể chuyển từ «{STAGE_NAMES.label(app.stage)}» sang «{STAGE_NAMES.label(to)}».",
            f"Cannot move from {app.stage!r} to {to!r}; allowed: {', '.join(allowed) or 'none (final stage)'}.",
            allowed=list(allowed),
        )
    order = app.order
    if check and to in NEEDS_LEGAL_ORDER:
        reasons = order_legal_reasons(s, gates, order)
        if reasons:
            raise Unprocessable(
                "Đơn hàng không còn hợp lệ: " + "; ".join(r.vi for r in reasons),
                "The order is no longer legal or open: " + "; ".join(r.en for r in reasons),
                reasons=[r.code for r in reasons],
            )
    if to == "selected":
        _take_place(s, order)
    elif app.stage == "selected" and to in ("rejected", "withdrawn"):
        order.places_filled = max(0, (order.places_filled or 0) - 1)
    old = app.stage
    app.stage = to
    if note:
        app.note = note
    app.events.append(StageEvent(from_stage=old, to_stage=to, by=by, note=note))
    s.flush()
    _audit(s, by, via, "stage", app.id, worker_id=app.worker_id, order_id=app.order_id, from_stage=old, to_stage=to)
    return app


def move_many(s: Session, gates, moves: list[tuple[Application, int | None]], to: str, by: str,
              note: str | None = None, via: str | None = None) -> list[Application]:
    """Move several applications (each with its form's version) to ``to``, all or none: the
    first refusal (a stale page, a move the pipeline does not allow, no place left) is raised
    and the caller rolls back. Each move is audited like a single one."""
    return [move(s, gates, app, to, by, note=note, version=version, via=via) for app, version in moves]


# What a recruiter records in its own pages: the interview and the selection, nothing else.
RECRUITER_MOVES = {"sent": ("interviewed", "rejected"), "interviewed": ("selected", "rejected")}


def _take_place(s: Session, order: JobOrder) -> None:
    """Fill one place of ``order`` atomically, or refuse (409) when none is left.

    One conditional UPDATE: concurrent selections in other requests or processes serialise on
    the row (PostgreSQL re-checks the condition after the other's commit; SQLite takes the
    write lock), so an order never gets more selected workers than positions."""
    res = s.execute(
        update(JobOrder)
        .where(JobOrder.order_id == order.order_id,
               func.coalesce(JobOrder.places_filled, 0) < JobOrder.positions)
        .values(places_filled=func.coalesce(JobOrder.places_filled, 0) + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        s.refresh(order, ["places_filled", "positions"])
        raise Conflict(
            f"Đơn hàng {order.order_id} đã đủ {order.positions} người được chọn; không thể chọn thêm.",
            f"Order {order.order_id} already has {order.positions} selected worker(s), its number of "
            "positions; no one more can be selected.",
            positions=order.positions, places_filled=order.places_filled,
        )
    s.refresh(order, ["places_filled"])


def reopen(s: Session, app: Application, by: str, note: str | None = None, via: str | None = None) -> Application:
    """Reopen a pair that ended as rejected or withdrawn: it may be proposed again.

    The application goes back to ``suggested`` with a stage event saying who reopened it; the
    engine sees the change through the applications' fingerprint (web.views.engine)."""
    if app.stage not in CLOSING_STAGES:
        raise Conflict(
            f"Chỉ mở lại được hồ sơ «không đạt» hoặc «đã rút» (hồ sơ đang ở «{STAGE_NAMES.label(app.stage)}»).",
            f"Only a rejected or withdrawn application can be reopened (this one is {app.stage!r}).",
        )
    old = app.stage
    app.stage = "suggested"
    text = note or "mở lại / reopened"
    app.events.append(StageEvent(from_stage=old, to_stage="suggested", by=by, note=text))
    s.flush()
    _audit(s, by, via, "reopen", app.id, worker_id=app.worker_id, order_id=app.order_id, from_stage=old)
    return app


def _audit(s: Session, by: str, via: str | None, action: str, app_id: int, **detail) -> None:
    """One audit line for a move of application ``app_id`` (the caller commits with it)."""
    if via:
        detail.setdefault("via", via)
    audit(s, by, action, "application", str(app_id), **detail)


def get_application(s: Session, aid: int) -> Application:
    # An id outside the 32-bit INTEGER column cannot exist; PostgreSQL would refuse the query
    # itself with a 500 (found by schemathesis).
    if not 1 <= aid <= 2**31 - 1:
        raise NotFound()
    app = s.get(Application, aid)
    if app is None:
        raise NotFound()
    return app
