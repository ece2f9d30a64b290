"""matcher.orderbook: the one definition of legal open orders, kept up to date one change at a
time. A book changed step by step must answer exactly like a fresh book of the final state."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from data.synthetic import generate
from matcher import rules
from matcher.orderbook import OrderBook, open_orders
from models import JobOrder

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def demo():
    return generate(seed=11, workers=40, orders=80, recruiters=14, today=DAY)


def answers(book: OrderBook, days):
    return {
        "states": {(oid, d): book.order_state(oid, d) for oid in sorted(book.orders_) for d in days},
        "reasons": {(oid, d): [r.code for r in book.order_reasons(oid, d)] for oid in sorted(book.orders_) for d in days},
        "rankable": {d: list(book.rankable(d)) for d in days},
        "blocked": {d: [(b.item_id, [r.code for r in b.reasons]) for b in book.blocked(d)] for d in days},
        "open": {d: [o.order_id for o in book.open_orders(d)] for d in days},
    }


def test_a_book_changed_step_by_step_answers_like_a_fresh_one(demo):
    rng = random.Random(5)
    recruiters = {r.recruiter_id: r for r in demo.recruiters}
    orders = {o.order_id: o for o in demo.orders}
    book = OrderBook(recruiters.values(), orders.values())
    days = [DAY, DAY + dt.timedelta(days=45)]
    answers(book, days)  # fill the caches, so that a stale entry would show
    approvals = [o.approval_no for o in demo.orders if o.approval_no]
    for step in range(60):
        kind = rng.choice(["share_approval", "new_approval", "remove", "add", "revoke", "verify", "fill"])
        oid = rng.choice(sorted(orders))
        o = orders[oid]
        if kind == "share_approval":  # forged: the number of another order
            o.approval_no = rng.choice(approvals)
            book.upsert(o)
        elif kind == "new_approval":
            o.approval_no = f"{step:03d}/2026/QLLĐNN"
            book.upsert(o)
        elif kind == "remove" and len(orders) > 10:
            del orders[oid]
            book.remove(oid)
        elif kind == "add":
            src = rng.choice(demo.orders)
            new = JobOrder(**{c: getattr(src, c) for c in ("recruiter_id", "title", "country", "programme",
                                                             "positions", "places_filled", "status", "approval_no",
                                                             "approval_date", "deadline", "monthly_wage",
                                                             "wage_currency", "contract_months", "service_fee_vnd",
                                                             "brokerage_fee_vnd", "deposit_vnd")})
            new.order_id = f"NEW-{step}"
            new.recruiter = recruiters.get(new.recruiter_id)
            orders[new.order_id] = new
            book.upsert(new)
        elif kind == "revoke":
            r = recruiters[rng.choice(sorted(recruiters))]
            r.status = "revoked" if r.status != "revoked" else "active"
            book.set_recruiter(r)
        elif kind == "verify":
            r = recruiters[rng.choice(sorted(recruiters))]
            r.licence_verified_on = None if r.licence_verified_on else DAY - dt.timedelta(days=3)
            book.set_recruiter(r)
        else:
            o.places_filled = o.positions
            book.upsert(o)
        fresh = OrderBook(recruiters.values(), orders.values())
        assert answers(book, days) == answers(fresh, days), f"step {step}: {kind} on {oid}"


def test_open_orders_are_the_gates_read_one_by_one(demo):
    duplicates = rules.find_duplicate_codes(demo.recruiters, demo.orders)
    direct = sorted(o.order_id for o in demo.orders if o.places_left > 0 and not any(
        r.severity == "block" for r in rules.order_gates(o, o.recruiter, DAY, None, duplicates=duplicates)))
    assert [o.order_id for o in open_orders(demo.orders, demo.recruiters, DAY)] == direct
    assert set(direct).isdisjoint(demo.truth.excluded)


def test_a_shared_approval_number_blocks_both_orders_and_releases_them_when_changed(demo):
    book = OrderBook(demo.recruiters, demo.orders)
    a, b = [o for o in demo.orders if book.order_state(o.order_id, DAY)[0] == "open"][:2]
    b.approval_no = a.approval_no
    book.upsert(b)
    for o in (a, b):
        state, reasons = book.order_state(o.order_id, DAY)
        assert state == "blocked" and "duplicate_approval_no" in {r.code for r in reasons}
    b.approval_no = "999/2026/QLLĐNN"
    book.upsert(b)
    assert book.order_state(a.order_id, DAY) == ("open", []) == book.order_state(b.order_id, DAY)


def test_verifying_an_enterprise_marks_the_orders_of_its_look_alike(demo):
    by_id = {r.recruiter_id: r for r in demo.recruiters}
    with_orders = sorted({o.recruiter_id for o in demo.orders})
    genuine, copy = by_id[with_orders[0]], by_id[with_orders[1]]
    for r in (genuine, copy):
        r.licence_verified_on = None
    copy.name = genuine.name + "."
    book = OrderBook(demo.recruiters, demo.orders)
    copy_orders = [o.order_id for o in demo.orders if o.recruiter_id == copy.recruiter_id]

    def signs():
        return {c for oid in copy_orders for c in (r.code for r in book.order_reasons(oid, DAY))}

    assert "look_alike_name" not in signs()
    genuine.licence_verified_on = DAY - dt.timedelta(days=1)
    book.set_recruiter(genuine)  # only the genuine one changed
    assert "look_alike_name" in signs()
    genuine.licence_verified_on = None
    book.set_recruiter(genuine)
    assert "look_alike_name" not in signs()
