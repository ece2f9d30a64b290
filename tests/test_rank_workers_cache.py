"""``Engine.rank_workers`` evaluates the worker gates once per order per data version, and
scores only the workers the gates let through: its answers must be those of the pair-by-pair
definition (``explain_pair``), and a change of a worker, of the order or of the day must be seen
at once."""

import dataclasses
import datetime as dt

import pytest

from data.synthetic import generate
from matcher.encoder import HashingEncoder
from matcher.ranker import Blocked, Engine

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def data():
    return generate(seed=31, workers=300, orders=60, recruiters=12, today=TODAY)


def fitted(data) -> Engine:
    return Engine(HashingEncoder()).fit(data.recruiters, data.orders, data.workers, today=TODAY)


def open_orders(engine: Engine) -> list:
    return [engine.orders_[o] for o in sorted(engine.orders_) if engine.is_rankable(o)]


def test_rank_workers_agrees_with_the_pair_by_pair_scoring(data):
    engine = fitted(data)
    orders = open_orders(engine)
    assert len(orders) >= 20
    checked_refusals = 0
    for order in orders[:20]:
        ranking = engine.rank_workers(order, top_k=400)
        pairs = {w: engine.explain_pair(engine.workers_[w], order) for w in sorted(engine.workers_)
                 if engine._in_worker_pool(w, False)}
        refused = {w: p for w, p in pairs.items() if isinstance(p, Blocked)}
        scored = {w: p for w, p in pairs.items() if not isinstance(p, Blocked)}
        assert {m.item_id for m in ranking.matches} == set(scored)
        assert [b.item_id for b in ranking.ineligible] == sorted(refused)
        for b in ranking.ineligible:
            assert b.reasons == refused[b.item_id].reasons
            checked_refusals += 1
        for m in ranking.matches:
            ref = scored[m.item_id]
            assert m.score == pytest.approx(ref.score, abs=1e-6)  # float32 vectors: the two directions round apart
            assert m.features == pytest.approx(ref.features, abs=1e-6)  # float32 vectors: the two directions round apart
            assert m.gaps == ref.gaps and m.warnings == ref.warnings
        scores = [m.score for m in ranking.matches]
        assert scores == sorted(scores, reverse=True)
    assert checked_refusals > 100  # the synthetic data refuse many pairs: the gates were exercised


def test_a_repeated_question_gets_the_same_answer_as_a_fresh_engine(data):
    engine = fitted(data)
    orders = open_orders(engine)[:15]
    first = [engine.rank_workers(o, top_k=10).to_dict() for o in orders]
    again = [engine.rank_workers(o, top_k=10).to_dict() for o in orders]
    fresh = fitted(data)
    assert first == again == [fresh.rank_workers(o, top_k=10).to_dict() for o in orders]


def _gated_order(engine: Engine):
    """An open order with a minimum age, and a worker it ranks."""
    for order in open_orders(engine):
        ranking = engine.rank_workers(order, top_k=1)
        if order.min_age and ranking.matches:
            return order, ranking.matches[0].item_id
    raise AssertionError("no open order with a minimum age ranks anyone")


def test_a_changed_profile_is_gated_again(data):
    engine = fitted(data)
    order, wid = _gated_order(engine)
    engine.rank_workers(order, top_k=10)  # the order's gates are held now
    worker = engine.workers_[wid]
    young = dataclasses.replace(worker, birth_date=TODAY.replace(year=TODAY.year - 16))
    engine.upsert_worker(young)
    ranking = engine.rank_workers(order, top_k=10)
    assert wid not in {m.item_id for m in ranking.matches}
    refusal = next(b for b in ranking.ineligible if b.item_id == wid)
    assert "age_below_legal_min" in {r.code for r in refusal.reasons}
    engine.upsert_worker(worker)  # and back: ranked again
    assert engine.rank_workers(order, top_k=1).matches[0].item_id == wid


def test_a_changed_order_is_gated_again(data):
    engine = fitted(data)
    order, wid = _gated_order(engine)
    engine.rank_workers(order, top_k=10)
    age = engine.workers_[wid].age_on(order.deadline or TODAY)
    stricter = dataclasses.replace(order, min_age=age + 1, max_age=max(order.max_age or 0, age + 5))
    ranking = engine.rank_workers(stricter, top_k=10)  # a new snapshot of the same order
    refusal = next(b for b in ranking.ineligible if b.item_id == wid)
    assert "age_below_min" in {r.code for r in refusal.reasons}
    # the original order again: its own gates
    assert engine.rank_workers(order, top_k=1).matches[0].item_id == wid
