"""Small repository functions shared by the web app, the CLI and the evaluation.

They take a :class:`~sqlalchemy.orm.Session` and never commit: the caller's
``store.session()`` block (or the web request) owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Application, AuditEvent, JobOrder, Recruiter, Worker

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str | None) -> str:
    """Text for diacritics-insensitive matching: ``"Nguyễn Đức"`` -> ``"nguyen duc"``.

    NFD, combining marks dropped, đ -> d, case-folded, whitespace collapsed.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFD", str(text).translate(_D_MAP))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.casefold().split())


# --------------------------------------------------------------------------------------
# Single entities


def get_worker(session: Session, worker_id: str) -> Worker | None:
    """The worker with its certificates loaded, or ``None``."""
    return session.get(Worker, worker_id, options=[selectinload(Worker.certificates)])


def get_order(session: Session, order_id: str) -> JobOrder | None:
    """The job order with its recruiter (and the recruiter's status history), or ``None``."""
    return session.get(
        JobOrder,
        order_id,
        options=[selectinload(JobOrder.recruiter).selectinload(Recruiter.status_history)],
    )


def get_recruiter(session: Session, recruiter_id: str) -> Recruiter | None:
    """The recruiter with its status history, or ``None``."""
    return session.get(Recruiter, recruiter_id, options=[selectinload(Recruiter.status_history)])


# --------------------------------------------------------------------------------------
# Worker search


def _worker_haystack(full_name, commune, phone, skills) -> str:
    parts = [full_name or "", commune or "", phone or "", " ".join(str(s) for s in skills or [])]
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    return fold(" | ".join(parts) + " | " + digits)


def _matching_worker_ids(session: Session, q: str | None, commune: str | None) -> list[str]:
    """Ids of the workers matching ``q`` and ``commune``, in id order.

    Folding happens in Python so SQLite and PostgreSQL (without the unaccent extension)
    behave the same; only four small columns are read.
    """
    stmt = select(Worker.worker_id, Worker.full_name, Worker.commune, Worker.phone, Worker.skills)
    stmt = stmt.order_by(Worker.worker_id)
    terms = fold(q).split() if q else []
    want_commune = fold(commune) if commune else ""
    ids = []
    for wid, name, com, phone, skills in session.execute(stmt):
        if want_commune and fold(com) != want_commune:
            continue
        if terms:
            hay = _worker_haystack(name, com, phone, skills)
            if not all(t in hay for t in terms):
                continue
        ids.append(wid)
    return ids


def list_workers(
    session: Session,
    q: str | None = None,
    commune: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Worker]:
    """Workers whose name, commune, phone or skills contain every word of ``q``,
    ignoring case and diacritics (``"nguyen duc"`` finds ``"Nguyễn Đức"``); ``commune``
    filters on the commune (also diacritics-insensitive). Ordered by ``worker_id``;
    certificates loaded.
    """
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0; got limit={limit}, offset={offset}")
    if not q and not commune:
        stmt = (
            select(Worker)
            .options(selectinload(Worker.certificates))
            .order_by(Worker.worker_id)
            .limit(limit)
            .offset(offset)
        )
        return list(session.scalars(stmt))
    page = _matching_worker_ids(session, q, commune)[offset : offset + limit]
    if not page:
        return []
    found = {
        w.worker_id: w
        for w in session.scalars(
            select(Worker).where(Worker.worker_id.in_(page)).options(selectinload(Worker.certificates))
        )
    }
    return [found[i] for i in page if i in found]


def count_workers(session: Session, q: str | None = None, commune: str | None = None) -> int:
    """How many workers :func:`list_workers` would find without a limit."""
    if not q and not commune:
        from sqlalchemy import func

        return session.scalar(select(func.count()).select_from(Worker)) or 0
    return len(_matching_worker_ids(session, q, commune))


# --------------------------------------------------------------------------------------
# Snapshot for the engine


def snapshot(session: Session) -> tuple[list[Recruiter], list[JobOrder], list[Worker]]:
    """Everything the engine needs, loaded eagerly and detached from the session.

    Recruiters come with their status history and orders; orders with their recruiter
    and applications; workers with their certificates and applications. The objects are
    expunged, so they can be used after the session closes (e.g. cached by the web app)
    without lazy loads. Each list is in id order.
    """
    recruiters = list(
        session.scalars(
            select(Recruiter)
            .options(selectinload(Recruiter.status_history), selectinload(Recruiter.orders))
            .order_by(Recruiter.recruiter_id)
        )
    )
    orders = list(
        session.scalars(
            select(JobOrder)
            .options(
                selectinload(JobOrder.recruiter).selectinload(Recruiter.status_history),
                selectinload(JobOrder.applications).selectinload(Application.events),
                selectinload(JobOrder.applications).selectinload(Application.worker),
            )
            .order_by(JobOrder.order_id)
        )
    )
    workers = list(
        session.scalars(
            select(Worker)
            .options(
                selectinload(Worker.certificates),
                selectinload(Worker.applications).selectinload(Application.order),
                selectinload(Worker.applications).selectinload(Application.events),
            )
            .order_by(Worker.worker_id)
        )
    )
    _detach(session, [*recruiters, *orders, *workers])
    return recruiters, orders, workers


def _detach(session: Session, roots: list[Any]) -> None:
    """Expunge ``roots`` and every loaded object reachable from them (loaded attributes only)."""
    from sqlalchemy import inspect as sa_inspect

    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        state = sa_inspect(obj)
        for rel in state.mapper.relationships:
            if rel.key in state.unloaded:
                continue
            value = state.attrs[rel.key].loaded_value
            if value is None:
                continue
            stack.extend(value if isinstance(value, (list, tuple, set)) else [value])
        if obj in session:
            session.expunge(obj)


# --------------------------------------------------------------------------------------
# Audit


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def audit(
    session: Session,
    username: str | None,
    action: str,
    entity: str,
    entity_id: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an :class:`~models.AuditEvent` to the session (committed with the caller's work).

    ``detail`` values are made JSON-safe (dates as ISO text, unknown objects as ``str``).
    """
    event = AuditEvent(
        username=username,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=_jsonable(detail),
    )
    session.add(event)
    return event
