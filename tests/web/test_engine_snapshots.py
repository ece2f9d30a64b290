"""The engine works on plain frozen snapshots (``models.snapshots``), never on ORM objects: a
build, a catch-up with another process's change and a change made through the app hand it
snapshots, and nothing is expunged from (or attached to) a session on the way."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import data.repo as repo
from models import JobOrder, LanguageCertificate, LicenceStatusChange, Recruiter, Worker
from models.snapshots import (CertificateSnapshot, OrderSnapshot, RecruiterSnapshot, StatusChangeSnapshot,
                              WorkerSnapshot, order_snapshot, worker_snapshot)
from web.views.db import get_store
from web.views.engine import get_engine
from webtesting import AuthActions, make_app, worker

JSON = {"Accept": "application/json"}
DAY = dt.date(2026, 11, 26)


@pytest.fixture
def no_expunge(monkeypatch):
    """Any ``Session.expunge`` fails the test (``expunge_all`` is how every session closes)."""

    def refuse(*_args, **_kw):
        raise AssertionError("the engine's data must not be detached from a session")

    monkeypatch.setattr(Session, "expunge", refuse)


def _assert_all_snapshots(engine) -> None:
    assert engine.workers_ and engine.orders_ and engine.recruiters_
    assert all(type(w) is WorkerSnapshot for w in engine.workers_.values())
    assert all(type(o) is OrderSnapshot for o in engine.orders_.values())
    assert all(type(r) is RecruiterSnapshot for r in engine.recruiters_.values())
    for o in engine.orders_.values():
        assert type(o.recruiter) is RecruiterSnapshot
        assert all(type(c) is StatusChangeSnapshot for c in o.recruiter.status_history)
    assert all(type(c) is CertificateSnapshot for w in engine.workers_.values() for c in w.certificates)


def test_the_detach_workaround_is_gone():
    assert not hasattr(repo, "_detach")
    import web.views.engine as holder_module

    assert not hasattr(holder_module, "touch_for_engine")


def test_snapshots_are_frozen_and_carry_every_column():
    for snap_type, model, left_out in ((RecruiterSnapshot, Recruiter, set()), (OrderSnapshot, JobOrder, set()),
                                       (WorkerSnapshot, Worker, {"search_text"}),
                                       (CertificateSnapshot, LanguageCertificate, set()),
                                       (StatusChangeSnapshot, LicenceStatusChange, set())):
        columns = {a.key for a in inspect(model).column_attrs}
        names = {f.name for f in dataclasses.fields(snap_type)}
        assert columns - left_out <= names, (snap_type.__name__, sorted(columns - left_out - names))
    w = worker_snapshot(Worker(worker_id="W1", full_name="Nông Văn A", birth_date=dt.date(2000, 11, 27),
                               skills=["hàn"], experience=[{"occupation": "thợ hàn", "years": 2}], certificates=[]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.full_name = "B"
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.certificates = ()
    assert w.skills == ("hàn",) and w.experience == ({"occupation": "thợ hàn", "years": 2},)
    assert w.age_on(DAY) == 25 and w.age_on(DAY + dt.timedelta(days=1)) == 26


def test_snapshot_methods_agree_with_the_mapped_rows(store):
    from webtesting import seed, seed_synthetic

    with store.session() as s:
        seed(s)
        seed_synthetic(s)
        s.add_all([LicenceStatusChange(recruiter_id="REC-B", status="suspended", effective_date=dt.date(2026, 1, 1)),
                   LicenceStatusChange(recruiter_id="REC-B", status="active", effective_date=dt.date(2026, 6, 1))])
    with store.session() as s:
        recruiters, orders, workers = repo.snapshot(s)
        rows = {o.order_id: o for o in s.scalars(select(JobOrder))}
        people = {w.worker_id: w for w in s.scalars(select(Worker))}
        for o in orders:
            row = rows[o.order_id]
            assert o.places_left == row.places_left
            for day in (dt.date(2018, 1, 1), DAY, dt.date(2030, 1, 1)):
                assert o.recruiter.status_on(day) == row.recruiter.status_on(day)
        for w in workers:
            assert w.age_on(DAY) == people[w.worker_id].age_on(DAY)
            assert [c.raw for c in w.certificates] == [c.raw for c in people[w.worker_id].certificates]
    assert [c.status for c in by_id_history(recruiters, "REC-B")] == ["suspended", "active"]
    by_id = {r.recruiter_id: r for r in recruiters}
    assert all(o.recruiter is by_id[o.recruiter_id] for o in orders)  # one snapshot per enterprise
    with pytest.raises(dataclasses.FrozenInstanceError):
        orders[0].status = "closed"


def by_id_history(recruiters, rid):
    return next(r for r in recruiters if r.recruiter_id == rid).status_history


def test_a_build_a_catch_up_and_a_change_hand_the_engine_snapshots(db_url, tmp_path, no_expunge):
    app = make_app(db_url, tmp_path)
    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    assert client.get("/api/orders/ORD-A1/matches?top=50", headers=JSON).status_code == 200
    holder = get_engine(app)
    assert holder.builds == 1
    _assert_all_snapshots(holder.engine)
    with pytest.raises(dataclasses.FrozenInstanceError):
        holder.engine.workers_["W-CONSENT"].consent_share = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        holder.engine.orders_["ORD-A1"].recruiter.status = "revoked"
    with get_store(app).session() as s:  # another process adds a worker
        s.add(Worker(worker_id="W-NEW", full_name="Nông Văn Mới", **worker(national_id="004098009999")))
    r = client.get("/api/orders/ORD-A1/matches?top=50", headers=JSON)
    assert r.status_code == 200 and "W-NEW" in {m["item_id"] for m in r.get_json()["matches"]}
    assert holder.builds == 1 and holder.caught_up == 1
    _assert_all_snapshots(holder.engine)
    with app.app_context():  # a change made through this process: the row stays in its session
        from web.views.db import get_session

        s = get_session()
        w = s.get(Worker, "W-NEW")
        w.skills = ["may công nghiệp"]
        s.commit()
        holder.worker_changed(s, w)
        assert w in s
        snap = holder.engine.workers_["W-NEW"]
        assert type(snap) is WorkerSnapshot and snap.skills == ("may công nghiệp",)
        assert snap.updated_at == w.updated_at
        o = s.get(JobOrder, "ORD-A1")
        holder.order_changed(s, o)
        assert o in s and o.recruiter in s
        assert holder.engine.orders_["ORD-A1"] is not o
        assert holder.engine.orders_["ORD-A1"].recruiter is holder.engine.recruiters_[o.recruiter_id]
    _assert_all_snapshots(holder.engine)
    get_store(app).dispose()


def test_an_order_or_worker_handed_over_is_converted_once(store):
    from webtesting import seed

    with store.session() as s:
        seed(s)
    with store.session() as s:
        row = s.scalars(select(JobOrder)).first()
        snap = order_snapshot(row)
        assert order_snapshot(snap) is snap and worker_snapshot(worker_snapshot(s.scalars(select(Worker)).first()))
        assert snap.recruiter.recruiter_id == row.recruiter_id and snap.title == row.title


def test_the_engine_never_touches_the_rows_it_was_handed(store, no_expunge):
    """Fitted from rows of a live session and told of a changed enterprise, the engine changes
    nothing in that session: it relinks its own snapshots, not the caller's rows."""
    from matcher.encoder import HashingEncoder
    from matcher.ranker import Engine
    from webtesting import TODAY, seed

    with store.session() as s:
        seed(s)
    with store.session() as s:
        recruiters = list(s.scalars(select(Recruiter)))
        orders = list(s.scalars(select(JobOrder)))
        workers = list(s.scalars(select(Worker)))
        engine = Engine(HashingEncoder()).fit(recruiters, orders, workers, today=TODAY)
        assert {"ORD-A1", "ORD-B1"} <= set(engine.rankable_orders(TODAY))
        _assert_all_snapshots(engine)
        before = {o.order_id: o.recruiter for o in orders}
        other = Recruiter(recruiter_id="REC-A", name="Công ty mới", licence_no="101/LĐTBXH-GP",
                          licence_date=dt.date(2020, 1, 15), status="active", markets=["JP"], extra={})
        other.status_history = [LicenceStatusChange(status="revoked", effective_date=dt.date(2026, 3, 1))]
        engine.set_recruiter(other)  # a transient row, never added to ``s``
        assert not s.new and not s.dirty
        assert {o.order_id: o.recruiter for o in orders} == before
        assert engine.orders_["ORD-A1"].recruiter.name == "Công ty mới"
        assert "ORD-A1" not in engine.rankable_orders(TODAY) and "ORD-B1" in engine.rankable_orders(TODAY)
