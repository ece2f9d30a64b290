"""The engine on the synthetic Cao Bằng data, whose right answers are known by construction."""

import datetime as dt

import pytest

from data.synthetic import generate
from matcher.allocate import allocate
from matcher.encoder import HashingEncoder
from matcher.ranker import Engine

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def world():
    data = generate(seed=1244, workers=2000, orders=300, recruiters=40, today=TODAY)
    engine = Engine(HashingEncoder()).fit(data.recruiters, data.orders, data.workers, today=TODAY)
    return data, engine


def test_every_illegal_order_blocked_with_the_planted_reason(world):
    data, engine = world
    blocked = {b.item_id: {r.code for r in b.reasons} for b in engine.blocked_orders()}
    assert data.truth.illegal, "the generator planted no illegal orders"
    for oid, code in data.truth.illegal.items():
        assert oid in blocked, f"{oid} ({code}) was not blocked"
        assert code in blocked[oid], f"{oid}: expected {code}, got {blocked[oid]}"
    # Nothing legal is reported as blocked.
    assert set(blocked) == set(data.truth.illegal)


def test_no_illegal_or_closed_order_is_ranked_for_anyone(world):
    data, engine = world
    excluded = set(data.truth.illegal) | set(data.truth.not_open)
    for w in data.workers[:300]:
        shown = {m.item_id for m in engine.rank_orders(w, top_k=20).matches}
        assert not shown & excluded, (w.worker_id, shown & excluded)


def test_twins_find_each_other_first(world):
    data, engine = world
    twins = data.truth.twins
    assert len(twins) >= 50
    first_w2j = sum(
        engine.rank_orders(data.worker(w), top_k=1).matches[0].item_id in data.truth.best_orders[w]
        for w, _ in twins
    )
    first_j2w = sum(
        bool(r.matches) and r.matches[0].item_id in data.truth.best_workers[o]
        for r, o in ((engine.rank_workers(data.order(o), top_k=1), o) for _, o in twins)
    )
    # By construction each twin order is the only legal open order of its occupation in the
    # twin's only preferred country, so the worker -> order direction must find it first.
    assert first_w2j >= 0.95 * len(twins), first_w2j
    # The order -> worker direction is harder: other workers of the same trade with more years
    # compete and the test encoder knows no cross-lingual synonyms (measured 39/60 here, 48/60
    # with the real model): the twin must still come first for most orders.
    assert first_j2w >= 0.6 * len(twins), first_j2w


def test_allocation_on_demo_data_respects_constraints_and_beats_greedy(world):
    data, engine = world
    workers = [w.worker_id for w in data.workers[:600]]
    scores = engine.pair_scores(workers, per_worker=20)
    places = engine.places_left()
    result = allocate(scores, places)
    assigned = [w for w, _, _ in result.pairs]
    assert len(assigned) == len(set(assigned))
    for oid, ws in result.by_order().items():
        assert len(ws) <= places[oid]
    for w, o, s in result.pairs:
        assert scores[(w, o)] == s
        assert engine.is_rankable(o)
    assert result.total >= result.greedy_total - 1e-9
    assert len(result.pairs) > 0
