"""The order book: recruiters and job orders with their legal gates, kept up to date one change
at a time. The one place that says which orders are legal and open on a day.

The engine (``matcher.ranker.Engine``) holds one for its rankings; the reports and the training
needs use one directly (:func:`open_orders`), so a list, a ranking and a report never disagree
about an order. Gate results are cached per order and day; a change forgets only the orders it
can affect: the order itself, the orders of a changed enterprise, and the orders whose shared
licence or approval number (``rules.find_duplicate_codes``) reads differently afterwards.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from matcher import rules
from matcher.outcomes import NO_OUTCOMES, Outcomes
from matcher.text import normalise_id_code
from models.reference import DEFAULT_RATES
from models.snapshots import order_snapshot, recruiter_snapshot


def reason_dict(r) -> dict:
    """A gate reason as JSON (the API, the CLI and the exports)."""
    return {"code": r.code, "severity": r.severity, "vi": r.vi, "en": r.en}


@dataclass
class Blocked:
    """An order (or a worker) held out of a ranking, with the reasons."""

    item_id: str
    reasons: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"item_id": self.item_id, "reasons": [reason_dict(r) for r in self.reasons]}


class OrderBook:
    """Recruiters and orders, their gate reasons per day, and which orders are open.

    ``orders_`` and ``recruiters_`` map ids to frozen snapshots (``models.snapshots``) of what
    was handed over (snapshots are kept as they are, mapped rows converted); each order is linked
    to its enterprise's snapshot in ``recruiters_``. ``order_ids_`` is the sorted list of order ids.
    """

    def __init__(
        self,
        recruiters: Iterable,
        orders: Iterable,
        rates: Mapping[str, float] | None = None,
        outcomes: Outcomes = NO_OUTCOMES,
    ):
        self.recruiters_ = {r.recruiter_id: recruiter_snapshot(r) for r in recruiters}
        self.orders_ = {o.order_id: order_snapshot(o, self.recruiters_.get(o.recruiter_id)) for o in orders}
        self.order_ids_ = sorted(self.orders_)
        self.rates_ = {**DEFAULT_RATES, **(rates or {})}
        self.outcomes_ = outcomes
        self._gates: dict[str, dict[dt.date, list]] = {}  # order id -> day -> reasons
        self._day: dict[tuple[str, dt.date], list] = {}
        self._recheck_codes()

    # ---- changes --------------------------------------------------------------------------

    def upsert(self, order, recruiter=None) -> None:
        """An order was posted, changed or closed (with its enterprise when that changed too)."""
        if recruiter is not None:
            recruiter = recruiter_snapshot(recruiter)
            if self.recruiters_.get(recruiter.recruiter_id) is not recruiter:
                self.set_recruiter(recruiter)
        order = order_snapshot(order, self.recruiters_.get(order.recruiter_id))
        oid = order.order_id
        if oid not in self.orders_:
            bisect.insort(self.order_ids_, oid)
        self.orders_[oid] = order
        self._codes_changed({oid})

    def remove(self, order_id: str) -> None:
        if self.orders_.pop(order_id, None) is None:
            return
        del self.order_ids_[bisect.bisect_left(self.order_ids_, order_id)]
        self._codes_changed({order_id})

    def set_recruiter(self, recruiter) -> None:
        """A licence status, a verification or an enterprise's details changed."""
        recruiter = recruiter_snapshot(recruiter)
        rid = recruiter.recruiter_id
        self.recruiters_[rid] = recruiter
        touched = set()
        for oid, o in self.orders_.items():
            if o.recruiter_id == rid:
                self.orders_[oid] = order_snapshot(o, recruiter)  # relinked to the new snapshot
                touched.add(oid)
        signs = self._signs
        self._signs = rules.find_look_alikes(self.recruiters_.values())
        # a verification can give or take a look-alike sign on every other enterprise's orders
        moved = {r for r in set(signs) | set(self._signs) if signs.get(r) != self._signs.get(r)}
        touched |= {o.order_id for o in self.orders_.values() if o.recruiter_id in moved}
        self._codes_changed(touched, recruiters=True)

    def set_rates(self, rates: Mapping[str, float]) -> None:
        """New exchange rates: every fee cap is read again."""
        self.rates_ = {**DEFAULT_RATES, **rates}
        self.forget()

    def set_outcomes(self, outcomes: Outcomes) -> None:
        # an enterprise's record of early returns warns on its orders (order_reasons adds it to
        # the gates at each question; it never blocks, so no list of open orders moves)
        self.outcomes_ = outcomes

    def forget(self) -> None:
        """Forget every gate result (the next question re-reads them)."""
        self._gates.clear()
        self._day.clear()

    def _recheck_codes(self) -> None:
        """Read every shared number afresh (the fit): licence numbers over the enterprises,
        approval numbers grouped by their normalised form, so a change re-reads one group."""
        self._licence_dups = rules.find_duplicate_codes(self.recruiters_.values(), [])
        self._approval_key: dict[str, str] = {}
        self._approval_groups: dict[str, set[str]] = {}
        for oid, o in self.orders_.items():
            key = normalise_id_code(o.approval_no)
            if key:
                self._approval_key[oid] = key
                self._approval_groups.setdefault(key, set()).add(oid)
        self._approval_dups = rules.find_duplicate_codes([], self.orders_.values())
        self._merge_duplicates()
        self._signs = rules.find_look_alikes(self.recruiters_.values())

    def _merge_duplicates(self) -> None:
        # what rules.find_duplicate_codes over everything returns (licence reasons first)
        self._duplicates = {**self._approval_dups, **self._licence_dups}

    def _regroup(self, order_id: str) -> set[str]:
        """Move one order to the group of its current approval number; re-read the shared-number
        reasons of the groups it left and joined. Returns the orders whose reason may differ."""
        old = self._approval_key.pop(order_id, None)
        order = self.orders_.get(order_id)
        new = normalise_id_code(order.approval_no) if order is not None else ""
        if old:
            self._approval_groups.get(old, set()).discard(order_id)
        if new:
            self._approval_key[order_id] = new
            self._approval_groups.setdefault(new, set()).add(order_id)
        touched = {order_id}
        self._approval_dups.pop(order_id, None)
        for key in {old, new} - {None, ""}:
            members = self._approval_groups.get(key, set())
            touched |= members
            for oid in members:
                self._approval_dups.pop(oid, None)
            self._approval_dups.update(rules.find_duplicate_codes([], [self.orders_[i] for i in sorted(members)]))
            if not members:
                self._approval_groups.pop(key, None)
        return touched

    def _codes_changed(self, touched: set[str], recruiters: bool = False) -> None:
        """Re-read the shared numbers the change can move (the changed orders' groups; the
        licence numbers when an enterprise changed) and forget the gates of ``touched`` and of
        every order whose shared-number reason or enterprise's reason changed."""
        touched = set(touched)
        for oid in list(touched):
            touched |= self._regroup(oid)
        if recruiters:
            before = self._licence_dups
            self._licence_dups = rules.find_duplicate_codes(self.recruiters_.values(), [])
            moved = {k for k in set(before) | set(self._licence_dups) if before.get(k) != self._licence_dups.get(k)}
            if moved:
                touched |= {o.order_id for o in self.orders_.values() if o.recruiter_id in moved}
        self._merge_duplicates()
        for oid in touched:
            self._gates.pop(oid, None)
        self._day.clear()

    # ---- questions --------------------------------------------------------------------------

    def order_reasons(self, order_id: str, day: dt.date) -> list:
        """Every gate reason of an order on ``day`` (empty: legal and open)."""
        order = self.orders_[order_id]
        by_day = self._gates.setdefault(order_id, {})
        if day not in by_day:
            recruiter = self.recruiters_.get(order.recruiter_id) or order.recruiter
            by_day[day] = rules.order_gates(order, recruiter, day, self.rates_, duplicates=self._duplicates,
                                            signs=self._signs)
        # the outcomes' warnings are added as they stand (never blocking: new outcomes re-read no gate)
        return [*by_day[day], *self.outcomes_.recruiter_signs(order.recruiter_id)]

    def recruiter_signs(self, recruiter_id: str) -> list:
        """The warnings about one enterprise, as its orders show them: look-alike signs and its
        record of early returns."""
        return [*self._signs.get(recruiter_id, ()), *self.outcomes_.recruiter_signs(recruiter_id)]

    def is_rankable(self, order_id: str, day: dt.date) -> bool:
        if day not in self._gates.get(order_id, {}):
            self.order_reasons(order_id, day)
        return not any(r.severity == "block" for r in self._gates[order_id][day])

    def rankable(self, day: dt.date) -> list[str]:
        """Ids of the legal, open orders on ``day``, in id order (cached until the next change)."""
        key = ("rankable", day)
        if key not in self._day:
            self._day[key] = [oid for oid in self.order_ids_ if self.is_rankable(oid, day)]
        return self._day[key]

    def open_orders(self, day: dt.date) -> list:
        """The legal, open orders on ``day`` that still have places left, in id order: what the
        training needs, the allocation and the reports count as open."""
        return [self.orders_[oid] for oid in self.rankable(day) if self.orders_[oid].places_left > 0]

    def places_left(self, day: dt.date) -> dict[str, int]:
        return {oid: self.orders_[oid].places_left for oid in self.rankable(day)}

    def order_state(self, order_id: str, day: dt.date) -> tuple[str, list]:
        """``("open", [])`` for a legal, open order; ``("blocked", reasons)`` when a rule of the
        law blocks it (only those reasons); ``("not_open", reasons)`` when it is only closed,
        a draft, past its deadline or full. The one classification every order list shows."""
        blocks = [r for r in self.order_reasons(order_id, day) if r.severity == "block"]
        illegal = [r for r in blocks if r.code not in rules.NOT_OPEN_CODES]
        if illegal:
            return "blocked", illegal
        return ("not_open", blocks) if blocks else ("open", [])

    def blocked(self, day: dt.date) -> list[Blocked]:
        """Illegal orders with their reasons: what the counsellor reviews to catch brokers."""
        key = ("blocked", day)
        if key not in self._day:
            out = []
            for oid in self.order_ids_:
                state, reasons = self.order_state(oid, day)
                if state == "blocked":
                    out.append(Blocked(oid, reasons))
            self._day[key] = out
        return list(self._day[key])

    def blocked_snapshots(self, day: dt.date) -> Mapping[str, Any]:
        """The illegal orders of :meth:`blocked` by id (read-only, cached until the next change):
        every ranking lists them, and a page shows them without reading them again."""
        key = ("blocked_snapshots", day)
        if key not in self._day:
            self._day[key] = MappingProxyType({b.item_id: self.orders_[b.item_id] for b in self.blocked(day)})
        return self._day[key]

    def check(self, order, recruiter, day: dt.date) -> list:
        """Gate reasons of ``order`` as it would be saved (it may be unsaved, or change an
        enterprise's details): the recruiter's form shows them before anything is stored."""
        recruiter = recruiter_snapshot(recruiter)
        order = order_snapshot(order, recruiter)
        others = [o for oid, o in self.orders_.items() if oid != order.order_id]
        recruiters = {**self.recruiters_, recruiter.recruiter_id: recruiter}
        duplicates = rules.find_duplicate_codes(recruiters.values(), [*others, order])
        signs = rules.find_look_alikes(recruiters.values())
        return rules.order_gates(order, recruiter, day, self.rates_, duplicates=duplicates, signs=signs)


def open_orders(orders: Iterable, recruiters: Iterable, day: dt.date,
                rates: Mapping[str, float] | None = None) -> list:
    """The orders legal and open on ``day`` with places left, in id order
    (:meth:`OrderBook.open_orders` of a book of these recruiters and orders)."""
    return OrderBook(recruiters, orders, rates).open_orders(day)
