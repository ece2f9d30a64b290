"""Small repository functions shared by the web app, the CLI and the evaluation.

They take a :class:`~sqlalchemy.orm.Session` and never commit: the caller's
``store.session()`` block (or the web request) owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import (AfterDeparture, Application, AuditEvent, ExchangeRate, JobOrder, LanguageCertificate,
                    LicenceStatusChange, Recruiter, Worker)
from models.snapshots import (OrderSnapshot, RecruiterSnapshot, WorkerSnapshot, order_snapshot, recruiter_snapshot,
                              worker_snapshot)
from models.text import fold

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


def _search_filter(stmt, q: str | None):
    """``stmt`` restricted to workers whose ``search_text`` has every word of ``q``.

    Words are folded like the stored text (``models.text.fold``: "Ánh" -> "anh") and matched
    whole (``LIKE '% anh %'``: "Ánh" but not "Khánh" nor "Thanh"); a word with a digit also
    matches the start of a word, so part of a phone number ("0912345") or of a CCCĐ finds it.
    Plain SQL, the same on SQLite and PostgreSQL; the folded words contain no LIKE wildcard.
    """
    for term in fold(q).split() if q else []:
        pattern = f"% {term}%" if any(ch.isdigit() for ch in term) else f"% {term} %"
        stmt = stmt.where(Worker.search_text.like(pattern))
    return stmt


def _base_query(q: str | None, include_merged: bool):
    stmt = select(Worker.worker_id)
    if not include_merged:
        stmt = stmt.where(Worker.merged_into.is_(None))
    return _search_filter(stmt, q)


def _matching_worker_ids(session: Session, q: str | None, commune: str | None, include_merged: bool) -> list[str]:
    """Ids of the workers matching ``q`` and ``commune``, in id order (the commune is compared
    folded in Python, on the rows the SQL search left)."""
    stmt = _base_query(q, include_merged).add_columns(Worker.commune).order_by(Worker.worker_id)
    want_commune = fold(commune) if commune else ""
    return [wid for wid, com in session.execute(stmt) if not want_commune or fold(com) == want_commune]


def list_workers(
    session: Session,
    q: str | None = None,
    commune: str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_merged: bool = False,
) -> list[Worker]:
    """Workers found by worker id (``W00017``), CCCĐ, phone, name, commune or skill: every
    word of ``q`` must be a whole word of one of them, ignoring case and diacritics (``"anh"``
    finds ``"Ánh"``, not ``"Khánh"``; ``"nguyen duc"`` finds ``"Nguyễn Đức"``); numbers also
    match the start of a phone or CCCĐ. ``commune`` filters on the commune (also
    diacritics-insensitive). Profiles merged into another are left out unless
    ``include_merged``. Ordered by ``worker_id``; certificates loaded.
    """
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0; got limit={limit}, offset={offset}")
    if commune:
        page = _matching_worker_ids(session, q, commune, include_merged)[offset : offset + limit]
    else:
        page = list(session.scalars(_base_query(q, include_merged).order_by(Worker.worker_id).limit(limit).offset(offset)))
    if not page:
        return []
    found = {
        w.worker_id: w
        for w in session.scalars(
            select(Worker).where(Worker.worker_id.in_(page)).options(selectinload(Worker.certificates))
        )
    }
    return [found[i] for i in page if i in found]


def count_workers(session: Session, q: str | None = None, commune: str | None = None,
                  include_merged: bool = False) -> int:
    """How many workers :func:`list_workers` would find without a limit."""
    if commune:
        return len(_matching_worker_ids(session, q, commune, include_merged))
    return session.scalar(select(func.count()).select_from(_base_query(q, include_merged).subquery())) or 0


# --------------------------------------------------------------------------------------
# One person, one profile


def national_id_holders(session: Session, national_ids: list[str]) -> dict[str, str]:
    """CCCĐ -> id of the profile (not merged into another) that holds it, for ``national_ids``.

    The check every write path makes before storing a CCCĐ (form, import); the partial unique
    index ``uq_workers_national_id_unmerged`` enforces the same rule in the database.
    """
    wanted = sorted({n for n in national_ids if n})
    out: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        stmt = select(Worker.national_id, Worker.worker_id).where(
            Worker.national_id.in_(wanted[i : i + 500]), Worker.merged_into.is_(None)
        )
        out.update({nid: wid for nid, wid in session.execute(stmt)})
    return out


def possible_duplicates(session: Session, worker: Worker) -> list[Worker]:
    """Other unmerged profiles that may be the same person as ``worker``: the same CCCĐ, or
    the same birth date and the same name (folded). In id order."""
    stmt = select(Worker).where(Worker.worker_id != worker.worker_id, Worker.merged_into.is_(None))
    same_nid = Worker.national_id == worker.national_id if worker.national_id else None
    same_birth = Worker.birth_date == worker.birth_date
    stmt = stmt.where(same_birth | same_nid if same_nid is not None else same_birth).order_by(Worker.worker_id)
    name = fold(worker.full_name)
    return [w for w in session.scalars(stmt)
            if (worker.national_id and w.national_id == worker.national_id) or fold(w.full_name) == name]


def duplicate_national_ids(session: Session) -> dict[str, list[str]]:
    """CCCĐ -> ids of the unmerged profiles sharing it, for every CCCĐ held more than once
    (possible only in a database from before the unique index: merge them first)."""
    dup = (
        select(Worker.national_id)
        .where(Worker.national_id.is_not(None), Worker.merged_into.is_(None))
        .group_by(Worker.national_id)
        .having(func.count() > 1)
    )
    out: dict[str, list[str]] = {}
    stmt = (
        select(Worker.national_id, Worker.worker_id)
        .where(Worker.national_id.in_(dup), Worker.merged_into.is_(None))
        .order_by(Worker.national_id, Worker.worker_id)
    )
    for nid, wid in session.execute(stmt):
        out.setdefault(nid, []).append(wid)
    return out


# --------------------------------------------------------------------------------------
# Snapshot for the engine


def exchange_rates(session: Session) -> dict[str, float]:
    """The administrator's exchange-rate table, VND per unit by currency code (the gates lay it
    over the packaged defaults, ``models.reference.merged_rates``). The one reader of the table."""
    return {r.currency: r.vnd_per_unit for r in session.scalars(select(ExchangeRate))}


def snapshot(session: Session) -> tuple[list[RecruiterSnapshot], list[OrderSnapshot], list[WorkerSnapshot]]:
    """Everything the engine needs, as plain frozen snapshots (``models.snapshots``).

    Recruiters come with their status history; orders with their recruiter (the one snapshot
    of each enterprise, shared by its orders); workers with their certificates. Nothing is left
    attached to the session, so they can be kept after it closes (the web app's engine). Each
    list is in id order.
    """
    return changed_since(session, {"recruiters": None, "orders": None, "workers": None})


def _chunks(ids: list[str], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _related(session: Session, table, key, ids: list[str] | None, order_by) -> dict[str, list]:
    """Rows of ``table`` by their ``key`` column, for ``ids`` (None: every row)."""
    out: dict[str, list] = {}
    stmts = [select(table)] if ids is None else [select(table).where(key.in_(part)) for part in _chunks(ids)]
    for stmt in stmts:
        for row in session.execute(stmt.order_by(*order_by)):
            out.setdefault(getattr(row, key.key), []).append(row)
    return out


def _recruiter_snapshots(session: Session, cond=None, ids: list[str] | None = None) -> dict[str, RecruiterSnapshot]:
    """Snapshots of the recruiters matching ``cond`` (or of ``ids``; neither: all), by id."""
    table, hist = Recruiter.__table__, LicenceStatusChange.__table__
    stmt = select(table)
    if cond is not None:
        stmt = stmt.where(cond)
    rows = [r for part in ([None] if ids is None else list(_chunks(ids)))
            for r in session.execute(stmt if part is None else stmt.where(table.c.recruiter_id.in_(part)))]
    every = cond is None and ids is None
    history = _related(session, hist, hist.c.recruiter_id, None if every else [r.recruiter_id for r in rows],
                       (hist.c.effective_date, hist.c.id))
    rows.sort(key=lambda r: r.recruiter_id)
    return {r.recruiter_id: recruiter_snapshot(r, history.get(r.recruiter_id, [])) for r in rows}


def changed_since(session: Session, since: dict[str, dt.datetime | None], known: dict[str, Any] | None = None
                  ) -> tuple[list[RecruiterSnapshot], list[OrderSnapshot], list[WorkerSnapshot]]:
    """What :func:`snapshot` loads, for the tables named in ``since`` (``"recruiters"``,
    ``"orders"``, ``"workers"``) and the rows changed at or after the time given (``None``:
    every row). A recruiter also counts as changed when a licence status change was recorded
    for it at or after ``since["licence_changes"]``.

    ``known`` (name -> id -> the ``updated_at`` the caller holds): rows stamped as the caller's
    copy are not loaded again (one light query of ids and stamps first), so re-reading a
    window of time costs only the rows that really changed in it.

    Plain SQL rows, no ORM objects: each becomes a snapshot through the one conversion function
    of its type (``models.snapshots``)."""
    known = known or {}

    def load(name: str, model, id_col) -> tuple[list, list[str] | None]:
        """The rows of ``model``'s table changed since ``since[name]`` (all when None), skipping
        those stamped as the caller's copy in ``known[name]``; and their ids (None: every row)."""
        table = model.__table__
        stmt = select(table)
        held = known.get(name)
        if held is not None and since[name] is not None:
            rows = session.execute(select(id_col, model.updated_at).where(model.updated_at >= since[name]))
            ids = sorted(i for i, at in rows if held.get(i) != at)
            if not ids:
                return [], []
            found = [r for part in _chunks(ids) for r in session.execute(stmt.where(id_col.in_(part)))]
            return sorted(found, key=lambda r: getattr(r, id_col.key)), ids
        if since[name] is not None:
            found = list(session.execute(stmt.where(model.updated_at >= since[name]).order_by(id_col)))
            return found, [getattr(r, id_col.key) for r in found]
        return list(session.execute(stmt.order_by(id_col))), None

    recruiters: dict[str, RecruiterSnapshot] = {}
    orders: list[OrderSnapshot] = []
    workers: list[WorkerSnapshot] = []
    if "recruiters" in since:
        cond = None
        if since["recruiters"] is not None:
            cond = Recruiter.updated_at >= since["recruiters"]
            if since.get("licence_changes") is not None:
                cond = cond | Recruiter.recruiter_id.in_(select(LicenceStatusChange.recruiter_id).where(
                    LicenceStatusChange.recorded_at >= since["licence_changes"]))
        recruiters = _recruiter_snapshots(session, cond)
    if "orders" in since:
        rows, _ = load("orders", JobOrder, JobOrder.order_id)
        wanted = sorted({r.recruiter_id for r in rows} - set(recruiters))
        linked = {**recruiters, **(_recruiter_snapshots(session, ids=wanted) if wanted else {})}
        orders = [order_snapshot(r, linked.get(r.recruiter_id)) for r in rows]
    if "workers" in since:
        rows, ids = load("workers", Worker, Worker.worker_id)
        certs = LanguageCertificate.__table__
        by_worker = _related(session, certs, certs.c.worker_id, ids, (certs.c.worker_id, certs.c.position, certs.c.id))
        workers = [worker_snapshot(r, by_worker.get(r.worker_id, [])) for r in rows]
    return list(recruiters.values()), orders, workers


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


# --------------------------------------------------------------------------------------
# Recorded outcomes the engine obeys (matcher.outcomes)

CLOSING_STAGES = ("rejected", "withdrawn")


def pair_outcomes(session: Session) -> tuple[dict[tuple[str, str], tuple[str, dt.date | None]], set[str]]:
    """Closed pairs ((worker_id, order_id) -> (stage, day it ended)) and the ids of the workers
    still abroad (departed, not yet recorded back), read from the applications. The day is the
    application's last change."""
    closed: dict[tuple[str, str], tuple[str, dt.date | None]] = {}
    rows = session.execute(
        select(Application.worker_id, Application.order_id, Application.stage, Application.updated_at)
        .where(Application.stage.in_(CLOSING_STAGES))
    )
    for wid, oid, stage, at in rows:
        closed[(wid, oid)] = (stage, at.date() if at else None)
    # a worker back home (at term or early, AfterDeparture.returned_on) is in the pool again
    departed = set(session.scalars(
        select(Application.worker_id).outerjoin(AfterDeparture, AfterDeparture.application_id == Application.id)
        .where(Application.stage == "departed", AfterDeparture.returned_on.is_(None))))
    return closed, departed


def enterprise_returns(session: Session) -> dict[str, tuple[int, dict[str, int]]]:
    """Per enterprise: the number of workers who departed with its orders and the early returns
    by reason (``models.enums.EARLY_RETURN_REASONS``), from the after-departure records."""
    out: dict[str, tuple[int, dict[str, int]]] = {}
    for rid, n in session.execute(
        select(JobOrder.recruiter_id, func.count(Application.id)).join(Application, Application.order_id == JobOrder.order_id)
        .where(Application.stage == "departed").group_by(JobOrder.recruiter_id)):
        out[rid] = (int(n), {})
    for rid, reason, n in session.execute(
        select(JobOrder.recruiter_id, AfterDeparture.early_reason, func.count(AfterDeparture.id))
        .join(Application, Application.id == AfterDeparture.application_id)
        .join(JobOrder, JobOrder.order_id == Application.order_id)
        .where(AfterDeparture.return_kind == "early").group_by(JobOrder.recruiter_id, AfterDeparture.early_reason)):
        out.setdefault(rid, (0, {}))[1][reason or "other"] = int(n)
    return out


def outcomes_version(session: Session) -> tuple:
    """A cheap fingerprint of the applications and the after-departure records (counts and
    latest changes)."""
    apps = tuple(session.execute(select(func.count(), func.max(Application.updated_at)).select_from(Application)).one())
    after = tuple(session.execute(select(func.count(), func.max(AfterDeparture.at)).select_from(AfterDeparture)).one())
    return apps + after


_ID_FORM = re.compile(r"^(.*?)(\d+)$")


def next_id(session: Session, column, fallback_prefix: str, width: int = 5) -> str:
    """The next id in the form most ids of ``column`` already have (``W00017`` after ``W00016``):
    the most common prefix followed by digits, one more than the largest number under it, padded
    like the others. ``fallback_prefix`` + ``1`` padded to ``width`` when there are none yet."""
    forms: dict[str, list[tuple[int, int]]] = {}
    for (value,) in session.execute(select(column)):
        m = _ID_FORM.match(value or "")
        if m:
            forms.setdefault(m.group(1), []).append((int(m.group(2)), len(m.group(2))))
    if forms:
        prefix, numbers = max(forms.items(), key=lambda kv: (len(kv[1]), kv[0] == fallback_prefix))
        top, pad = max(n for n, _ in numbers), max(w for _, w in numbers)
    else:
        prefix, top, pad = fallback_prefix, 0, width
    taken = set(session.scalars(select(column).where(column.like(f"{prefix}%"))))
    n = top + 1
    while f"{prefix}{n:0{pad}d}" in taken:
        n += 1
    return f"{prefix}{n:0{pad}d}"
