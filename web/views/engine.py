"""The matching engine, built lazily once per app and kept up to date.

The database is the source of truth. The engine is built from ``data.repo.snapshot`` the first
time a view needs it; changes made through this process are applied incrementally
(``upsert_order``, ``set_recruiter`` ...). Changes made by another process (a second gunicorn
worker, an import on the command line) are noticed through a cheap fingerprint of the tables
(row counts and latest update times) checked before each use: if it moved, the engine is rebuilt.
All calls go through one lock: the engine is shared by the server's threads.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.repo import outcomes_version
from models import ExchangeRate, JobOrder, LicenceStatusChange, Recruiter, Worker
from models.snapshots import order_snapshot, recruiter_snapshot, worker_snapshot
from web.views.db import get_store, settings, today
from web.services.errors import EngineUnavailable

log = logging.getLogger(__name__)

#: how far before the last change seen a catch-up reads again (see ``EngineHolder._catch_up``)
CATCH_UP_MARGIN = dt.timedelta(seconds=5)


def fingerprint(s: Session) -> tuple:
    """Counts and latest change times of the tables the engine is built from; memoised for the
    request on ``g`` until the request's session commits or rolls back (five queries once per
    request instead of once per engine call: a list of 50 orders asked the engine 50 times)."""
    from flask import g, has_app_context

    if has_app_context():
        memo = g.get("matcher_fp")
        if memo is not None and memo[0] is s:
            return memo[1]
    fp = _fingerprint(s)
    if has_app_context():
        if g.get("matcher_fp_listening") is not s:
            from sqlalchemy import event

            def forget(*_):
                g.pop("matcher_fp", None)

            event.listen(s, "after_commit", forget)
            event.listen(s, "after_rollback", forget)
            g.matcher_fp_listening = s
        g.matcher_fp = (s, fp)
    return fp


def _fingerprint(s: Session) -> tuple:
    parts: list[Any] = []
    for model, col in (
        (Recruiter, Recruiter.updated_at),
        (JobOrder, JobOrder.updated_at),
        (Worker, Worker.updated_at),
        (LicenceStatusChange, LicenceStatusChange.recorded_at),
    ):
        parts.extend(s.execute(select(func.count(), func.max(col)).select_from(model)).one())
    parts.extend(s.execute(select(func.count(), func.max(ExchangeRate.vnd_per_unit), func.max(ExchangeRate.as_of))).one())
    return tuple(parts)


class EngineHolder:
    """One engine per app, its build fingerprint, and the lock that serialises its use."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.RLock()
        self.engine: Any = None
        self.fp: tuple | None = None
        self.ofp: tuple | None = None  # applications' fingerprint when outcomes were read
        self.builds = 0
        self.caught_up = 0  # times changes made elsewhere were applied row by row
        self.needs = None  # matcher.insights.NeedsTracker, made at the first training-needs page
        self.weights_name: str | None = None  # the weights version the engine scores with

    # -- building ---------------------------------------------------------------------
    def build(self) -> Any:
        """Fit the engine from a snapshot of the store (``web.services.building.build_engine``, shared
        with the CLI: it reuses and refreshes the vector cache in the instance folder)."""
        try:
            from web.services.building import build_engine
        except ImportError as exc:  # pragma: no cover - only while the engine is missing
            raise EngineUnavailable(context={"missing": str(exc)}) from None
        store = get_store(self.app)
        with self.lock:
            gc.unfreeze()  # the engine about to be replaced may be collected once it is dropped
            s = store.new_session()
            try:
                fp = fingerprint(s)
                self.ofp = outcomes_version(s)
                from web.services.weights import in_use

                weights_name = in_use(settings(self.app)).name  # what build_engine loads
                engine = build_engine(s, settings(self.app), today(self.app))
            finally:
                s.close()
            self.engine, self.fp, self.weights_name = engine, fp, weights_name
            self.builds += 1
            # The engine's hundreds of thousands of objects live until the next build: out of the
            # collector's sight, a full collection no longer walks them all (150-200 ms at the demo
            # size, the slowest requests' share; PERF.md "Web"). Garbage left now is freed after
            # the next build's unfreeze.
            gc.freeze()
            log.info(
                "engine built (%d recruiters, %d orders, %d workers)",
                len(engine.recruiters_), len(engine.orders_), len(engine.workers_),
            )
            return engine

    def get(self, s: Session | None = None) -> Any:
        """The engine, built if needed and caught up with changes made by another process."""
        with self.lock:
            if self.engine is None:
                return self.build()
            if s is not None:
                fp = fingerprint(s)
                if fp != self.fp:
                    if settings(self.app).get("engine_refresh") == "rebuild":
                        log.info("data changed: rebuilding the engine (engine_refresh = rebuild)")
                        return self.build()
                    self._catch_up(s, fp)
                    if self.engine is None:
                        return self.build()
                self._refresh_outcomes(s)
            self._refresh_weights()
            return self.engine

    def _catch_up(self, s: Session, fp: tuple) -> None:
        """Apply the rows changed since the fingerprint ``self.fp`` was taken (another process's
        edits, an import on the command line): only those rows are read and re-encoded. Rows
        that disappeared are removed; new exchange rates are adopted."""
        from data.repo import changed_since, exchange_rates

        old = self.fp
        # A row is stamped when its transaction flushes and seen when it commits: another writer's
        # row may commit a little after a later-stamped one was seen. Re-reading a few seconds
        # before the last change seen catches it (applying a row twice changes nothing).
        since = {k: (v - CATCH_UP_MARGIN if v is not None else None) for k, v in
                 {"recruiters": old[1], "licence_changes": old[7], "orders": old[3], "workers": old[5]}.items()}
        if fp[0:2] == old[0:2] and fp[6:8] == old[6:8]:
            since.pop("recruiters")
        if fp[2:4] == old[2:4]:
            since.pop("orders")
        if fp[4:6] == old[4:6]:
            since.pop("workers")
        try:
            engine = self.engine
            known = {"orders": {i: o.updated_at for i, o in engine.orders_.items()},
                     "workers": {i: w.updated_at for i, w in engine.workers_.items()}}
            recruiters, orders, workers = changed_since(s, since, known)
            for r in recruiters:
                engine.set_recruiter(r)
            if orders:
                engine.upsert_orders(orders)
            if workers:
                engine.upsert_workers(workers)
            if fp[2] != len(engine.orders_):
                for oid in set(engine.orders_) - set(s.scalars(select(JobOrder.order_id))):
                    engine.remove_order(oid)
            if fp[4] != len(engine.workers_):
                for wid in set(engine.workers_) - set(s.scalars(select(Worker.worker_id))):
                    engine.remove_worker(wid)
            if fp[8:] != old[8:]:
                engine.set_rates(exchange_rates(s))
        except Exception:  # a failed update must not leave a wrong engine: build afresh
            log.exception("catching up with changed data failed; the engine will be rebuilt")
            self.engine, self.fp = None, None
            return
        log.info("engine caught up: %d recruiters, %d orders, %d workers changed elsewhere",
                 len(recruiters), len(orders), len(workers))
        self.fp = fp
        self.caught_up += 1

    def _refresh_weights(self) -> None:
        """Adopt the weights version chosen since the last call (the admin page, another process,
        ``matcher weights use``): no rebuild, the next ranking scores with it."""
        from matcher.scoring import WeightsError
        from web.services.weights import find_version, in_use

        try:
            name = in_use(settings(self.app)).name
            if name != self.weights_name:
                self.engine.set_weights(find_version(name, settings(self.app)["instance_path"]).weights)
                log.info("scoring weights %s -> %s", self.weights_name, name)
                self.weights_name = name
        except WeightsError as exc:  # keep scoring with the weights in use; the admin page says why
            log.error("scoring weights not switched: %s", exc)

    def _refresh_outcomes(self, s: Session) -> None:
        """Re-read closed pairs and departures when any application changed (one cheap query
        when nothing did): a rejection shows in the next ranking, in every process."""
        from web.services.building import load_outcomes

        ofp = outcomes_version(s)
        if ofp != self.ofp:
            self.engine.set_outcomes(load_outcomes(s))
            self.ofp = ofp

    def invalidate(self) -> None:
        with self.lock:
            self.engine, self.fp, self.ofp = None, None, None

    def _after_change(self, apply) -> None:
        """Apply a change made through this process at once, if the engine is built.

        The fingerprint is left as it was: the next use reads the rows changed since then (this
        change again, which costs nothing more, and any other process's). ``apply`` hands the
        engine snapshots of the committed rows (``models.snapshots``), never the rows themselves."""
        with self.lock:
            if self.engine is None:
                return
            if settings(self.app).get("engine_refresh") == "rebuild":
                self.engine, self.fp = None, None  # the next use builds it from the store
                return
            try:
                apply(self.engine)
            except Exception:  # a failed incremental update must not leave a wrong engine
                log.exception("incremental engine update failed; the engine will be rebuilt")
                self.engine, self.fp = None, None

    # -- changes made through this process (call after commit) --------------------------
    # ``s`` is the session the committed row was read in: the conversion may load what the
    # commit expired (its certificates, its enterprise's status history) through it.
    def order_changed(self, s: Session, order: JobOrder) -> None:
        def apply(engine):
            snap = order_snapshot(order)
            engine.upsert_order(snap, snap.recruiter)

        self._after_change(apply)

    def order_removed(self, s: Session, order_id: str) -> None:
        self._after_change(lambda e: e.remove_order(order_id))

    def worker_changed(self, s: Session, worker: Worker) -> None:
        self._after_change(lambda e: e.upsert_worker(worker_snapshot(worker)))

    def worker_removed(self, s: Session, worker_id: str) -> None:
        self._after_change(lambda e: e.remove_worker(worker_id))

    def recruiter_changed(self, s: Session, recruiter: Recruiter) -> None:
        self._after_change(lambda e: e.set_recruiter(recruiter_snapshot(recruiter)))

    # -- queries ----------------------------------------------------------------------
    def rank_orders(self, s: Session, worker: Worker, **kw):
        with self.lock:
            return self.get(s).rank_orders(worker_snapshot(worker), today=today(self.app), **kw)

    def rank_workers(self, s: Session, order: JobOrder, **kw):
        with self.lock:
            return self.get(s).rank_workers(order_snapshot(order), today=today(self.app), **kw)

    def training_needs(self, s: Session):
        """Training needs on today's date, kept up to date change by change
        (``matcher.insights.NeedsTracker`` over the engine's workers and open orders)."""
        from matcher.insights import NeedsTracker

        with self.lock:
            engine = self.get(s)
            if self.needs is None:
                self.needs = NeedsTracker()
            return self.needs.needs(engine, today(self.app))

    def workers(self, s: Session, ids) -> dict[str, Worker]:
        """The engine's profiles of ``ids`` (those it knows), by id: what a ranking or the training
        needs were computed from, without reading them from the database again."""
        with self.lock:
            known = self.get(s).workers_
            return {i: known[i] for i in ids if i in known}

    def blocked_orders(self, s: Session):
        with self.lock:
            return self.get(s).blocked_orders(today=today(self.app))

    def order_reasons(self, s: Session, order: JobOrder) -> list:
        """Every gate reason of a stored order today (blocks and warnings)."""
        with self.lock:
            engine = self.get(s)
            if order.order_id not in engine.orders_:
                snap = order_snapshot(order)
                engine.upsert_order(snap, snap.recruiter)
            return list(engine.order_reasons(order.order_id, today(self.app)))

    def order_states(self, s: Session, orders: list[JobOrder]) -> dict[str, tuple[str, list]]:
        """Legality of stored orders today, by order id: ``("open" | "blocked" | "not_open",
        reasons)`` (``Matcher.order_state``), what every list of orders shows as its badge."""
        with self.lock:
            engine = self.get(s)
            day = today(self.app)
            out = {}
            for o in orders:
                if o.order_id not in engine.orders_:
                    snap = order_snapshot(o)
                    engine.upsert_order(snap, snap.recruiter)
                out[o.order_id] = engine.order_state(o.order_id, day)
            return out

    def candidate_for(self, s: Session, worker_id: str, orders: list[JobOrder], consent_only: bool = True) -> str | None:
        """The first of ``orders`` for which the worker is a candidate (``Matcher.is_candidate``:
        a legal, open order whose ranking would list the worker, the top-k cut aside), or None."""
        with self.lock:
            engine = self.get(s)
            day = today(self.app)
            for o in orders:
                if o.order_id not in engine.orders_:
                    snap = order_snapshot(o)
                    engine.upsert_order(snap, snap.recruiter)
                if engine.is_candidate(worker_id, o.order_id, consent_only=consent_only, today=day):
                    return o.order_id
            return None

    def order_block_reasons(self, s: Session, order: JobOrder) -> list:
        return [r for r in self.order_reasons(s, order) if r.severity == "block"]

    def check_order(self, s: Session, order: JobOrder, recruiter: Recruiter) -> list:
        """Gate reasons of an order as it would be saved (``order`` may be unsaved): the
        recruiter's form shows them before anything is stored."""
        with self.lock:
            snap = recruiter_snapshot(recruiter)
            return self.get(s).book_.check(order_snapshot(order, snap), snap, today(self.app))

    def recruiter_signs(self, s: Session, recruiter: Recruiter) -> list:
        """Look-alike signs of an enterprise (a name close to a verified one's, a website
        outside .vn), shown on its page and on its orders."""
        with self.lock:
            engine = self.get(s)
            if recruiter.recruiter_id not in engine.recruiters_:
                engine.set_recruiter(recruiter_snapshot(recruiter))
            return engine.recruiter_signs(recruiter.recruiter_id)

    def allocate(
        self,
        s: Session,
        worker_ids: list[str],
        order_ids: list[str] | None = None,
        min_priority_share: float | None = None,
        priority: set[str] | None = None,
    ):
        """Exact cohort allocation of ``worker_ids`` over the open places of ``order_ids``."""
        try:
            from matcher.allocate import allocate
        except ImportError as exc:
            raise EngineUnavailable(context={"missing": str(exc)}) from None
        with self.lock:
            engine = self.get(s)
            day = today(self.app)
            known = [w for w in worker_ids if w in engine.workers_]
            scores = engine.pair_scores(known, order_ids, today=day)
            places = engine.places_left(day)
            if order_ids is not None:
                places = {o: n for o, n in places.items() if o in set(order_ids)}
            return allocate(scores, places, priority=priority, min_priority_share=min_priority_share)


def get_engine(app: Flask | None = None) -> EngineHolder:
    return (app or current_app).extensions["matcher.engine"]


def init_app(app: Flask) -> None:
    app.extensions["matcher.engine"] = EngineHolder(app)
