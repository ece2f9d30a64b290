"""Incremental changes to the engine and the training needs: a change encodes and replaces only
its own rows, and every answer afterwards is the one a from-scratch computation gives."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest

from data.synthetic import generate
from matcher import insights
from matcher.encoder import load_encoder
from matcher.index import VectorIndex
from matcher.ranker import Engine

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def demo():
    return generate(seed=3, workers=120, orders=50, recruiters=12, today=DAY)


class CountingEncoder:
    """The hashing encoder, counting the texts it is asked to encode."""

    def __init__(self):
        self.inner = load_encoder("hashing")
        self.dim, self.name, self.texts = self.inner.dim, self.inner.name, []

    def encode(self, texts, **kw):
        self.texts.extend(texts)
        return self.inner.encode(texts, **kw)


def rankings(engine, workers, orders):
    out = {}
    for w in workers:
        r = engine.rank_orders(w, top_k=5, today=DAY)
        out[("w", w.worker_id)] = [(m.item_id, round(m.score, 9)) for m in r.matches]
    for o in orders:
        r = engine.rank_workers(o, top_k=5, today=DAY)
        out[("o", o.order_id)] = [(m.item_id, round(m.score, 9)) for m in r.matches]
    return out


def test_an_edit_encodes_only_the_changed_texts(demo):
    enc = CountingEncoder()
    engine = Engine(enc).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    enc.texts.clear()
    w = demo.workers[0]
    w.skills = [*(w.skills or []), "vận hành máy CNC"]
    engine.upsert_worker(w)
    assert len(enc.texts) == 1 and "CNC" in enc.texts[0]
    enc.texts.clear()
    engine.upsert_worker(w)  # nothing changed: nothing encoded
    assert enc.texts == []
    o = demo.orders[0]
    o.title = o.title + " (ca đêm)"
    engine.upsert_order(o)
    assert len(enc.texts) == 1 and "ca đêm" in enc.texts[0]


def test_step_by_step_changes_answer_like_the_same_changes_made_at_once(demo):
    """Changes applied one at a time (with caches filled in between) and the final state applied
    in one batch give the same rankings: nothing stale stays in the index, the lexical rows or the
    gate caches. A removed worker is never ranked; an added one is."""
    enc = load_encoder("hashing")
    a = Engine(enc).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    b = Engine(enc).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    rng = random.Random(2)
    workers = {w.worker_id: w for w in demo.workers}
    orders = {o.order_id: o for o in demo.orders}
    removed = []
    for step in range(30):
        kind = rng.choice(["edit_worker", "edit_order", "remove_worker", "add_worker"])
        if kind == "edit_worker":
            w = workers[rng.choice(sorted(workers))]
            w.experience = [{"occupation": rng.choice(["thợ hàn", "may công nghiệp", "điều dưỡng"]), "years": 3}]
            a.upsert_worker(w)
        elif kind == "edit_order":
            o = orders[rng.choice(sorted(orders))]
            o.title = rng.choice(["Thợ hàn", "Công nhân may", "Hộ lý"]) + f" {step}"
            a.upsert_order(o)
        elif kind == "remove_worker":
            wid = rng.choice(sorted(workers))
            removed.append(workers.pop(wid))
            a.remove_worker(wid)
        else:
            new = copy.copy(rng.choice(demo.workers))
            new.worker_id = f"W-NEW-{step}"
            workers[new.worker_id] = new
            a.upsert_worker(new)
        if step % 5 == 0:
            rankings(a, list(workers.values())[:5], list(orders.values())[:5])  # fill the caches
    for w in removed:
        b.remove_worker(w.worker_id)
    b.upsert_workers(list(workers.values()))
    b.upsert_orders(list(orders.values()))
    some_w = sorted(workers.values(), key=lambda w: w.worker_id)[::9]
    some_o = sorted(orders.values(), key=lambda o: o.order_id)[::4]
    assert rankings(a, some_w, some_o) == rankings(b, some_w, some_o)
    assert set(a.workers_) == set(workers)
    held = VectorIndex.from_bytes(a.index_blobs()["workers"])
    assert sorted(held.ids_) == sorted(workers)
    gone = {w.worker_id for w in removed} - set(workers)
    for o in some_o:
        ranked = {m.item_id for m in a.rank_workers(o, top_k=len(workers), today=DAY).matches}
        assert ranked.isdisjoint(gone)


def test_changes_since_names_the_changed_workers_and_orders(demo):
    engine = Engine(load_encoder("hashing")).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    v = engine.version_
    engine.upsert_worker(demo.workers[3])
    engine.remove_order(demo.orders[1].order_id)
    assert engine.changes_since(v) == ({demo.workers[3].worker_id}, {demo.orders[1].order_id})
    assert engine.changes_since(engine.version_) == (set(), set())


def test_the_needs_tracker_equals_a_fresh_count_after_every_change(demo):
    engine = Engine(load_encoder("hashing")).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    tracker = insights.NeedsTracker()
    rng = random.Random(9)

    def fresh():
        return insights.training_needs(list(engine.workers_.values()), engine.open_orders(DAY), DAY).to_dict()

    assert tracker.needs(engine, DAY).to_dict() == fresh()
    for step in range(25):
        kind = rng.choice(["certificate", "age", "order_language", "revoke", "deactivate"])
        if kind == "certificate":
            w = rng.choice(demo.workers)
            w.certificates = w.certificates[:0]
            engine.upsert_worker(w)
        elif kind == "age":
            w = rng.choice(demo.workers)
            w.birth_date = DAY.replace(year=DAY.year - rng.choice([19, 25, 45]))
            engine.upsert_worker(w)
        elif kind == "order_language":
            o = rng.choice(demo.orders)
            o.language_requirement = rng.choice(["JLPT N4", "JLPT N5", "TOPIK 2", None])
            engine.upsert_order(o)
        elif kind == "revoke":
            r = rng.choice(demo.recruiters)
            r.status = "revoked" if r.status != "revoked" else "active"
            engine.set_recruiter(r)
        else:
            w = rng.choice(demo.workers)
            w.active = not (w.active is not False)
            engine.upsert_worker(w)
        assert tracker.needs(engine, DAY).to_dict() == fresh(), f"step {step}: {kind}"


def test_a_ranking_carries_the_objects_it_lists(demo):
    engine = Engine(load_encoder("hashing")).fit(demo.recruiters, demo.orders, demo.workers, today=DAY)
    r = engine.rank_orders(demo.workers[0], top_k=5, today=DAY)
    assert set(r.items) == set(r.ids()) and r.ids()
    assert all(r.items[i] is engine.orders_[i] for i in r.ids())
    o = next(o for o in demo.orders if engine.order_state(o.order_id, DAY)[0] == "open")
    r = engine.rank_workers(o, top_k=5, today=DAY)
    assert set(r.items) == set(r.ids()) and all(r.items[i] is engine.workers_[i] for i in r.ids())
    assert "items" not in r.to_dict()
