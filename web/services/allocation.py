"""Allocate a cohort to the open places: the use case behind the counsellor's allocation page
(``matcher allocate`` runs the same solver over the whole pool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.repo import list_workers
from models import Application, JobOrder, Worker, is_active_worker, is_priority_worker

MAX_COHORT = 500


@dataclass(frozen=True)
class Proposal:
    """The solver's result for a cohort, with the cohort itself and its priority members."""

    result: Any  # matcher.allocate.Allocation
    cohort: list[Worker]
    priority: set[str]


def free_cohort(s: Session, q: str | None, size: int) -> list[Worker]:
    """Up to ``size`` workers in the pool matching search ``q`` who have no open application."""
    busy = set(s.scalars(select(Application.worker_id).where(Application.stage.not_in(("rejected", "withdrawn")))))
    pool = list_workers(s, q or None, limit=100000)
    return [w for w in pool if is_active_worker(w) and w.worker_id not in busy][:size]


def propose(s: Session, engine: Any, q: str | None, size: int, country: str | None = None,
            min_priority_share: float | None = None) -> Proposal:
    """The engine's best assignment of a free cohort (see :func:`free_cohort`) to the open orders
    (of ``country`` if given), reserving ``min_priority_share`` for the priority group
    (``models.is_priority_worker``)."""
    cohort = free_cohort(s, q, size)
    order_ids = list(s.scalars(select(JobOrder.order_id).where(JobOrder.country == country))) if country else None
    priority = {w.worker_id for w in cohort if is_priority_worker(w)}
    result = engine.allocate(s, [w.worker_id for w in cohort], order_ids, min_priority_share=min_priority_share,
                             priority=priority)
    return Proposal(result, cohort, priority)
