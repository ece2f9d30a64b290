"""After departure (issue 17): arrival, contract end, return at term or early with a reason; a
worker back home re-enters the pool; early returns flag the enterprise's orders; bad input is
refused, keeping what was typed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from models import AfterDeparture, Application, AuditEvent, StageEvent, Worker
from web.views.db import get_store
from webtesting import csrf_of

DEPARTED = dt.datetime(2025, 6, 1, 10)


def _depart(app, worker_id="W-CONSENT", order_id="ORD-A1"):
    with get_store(app).session() as s:
        a = s.scalars(select(Application).where(Application.worker_id == worker_id, Application.order_id == order_id)).first()
        if a is None:
            a = Application(worker_id=worker_id, order_id=order_id, stage="departed", created_by="t")
            s.add(a)
        a.stage = "departed"
        a.events.append(StageEvent(from_stage="selected", to_stage="departed", by="t", at=DEPARTED))
        s.commit()
        return a.id


def test_bad_after_departure_facts_are_refused_and_kept(app, client, auth):
    aid = _depart(app)
    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    assert f'id="after-{aid}"' in page
    r = client.post(f"/counsellor/applications/{aid}/after", data={
        "csrf_token": csrf_of(page), "arrived_on": "03/06/2025", "returned_on": "01/01/2026", "return_kind": "early",
        "reintegration": "Công ty May Cao Bằng"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "Cần lý do về nước trước hạn" in body
    assert 'value="03/06/2025"' in body and 'value="Công ty May Cao Bằng"' in body
    future = client.post(f"/counsellor/applications/{aid}/after", data={
        "csrf_token": csrf_of(page), "arrived_on": "03/06/2099"})
    assert future.status_code == 422 and "tương lai" in future.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.scalars(select(AfterDeparture)).all() == []
    not_departed = client.post("/counsellor/applications/999999/after", data={"csrf_token": csrf_of(page)})
    assert not_departed.status_code == 404


def test_a_worker_back_home_returns_to_the_pool(app, client, auth):
    aid = _depart(app)
    auth.as_user("counsellor")
    page = client.get("/counsellor/orders/ORD-A2?top=50").get_data(as_text=True)
    assert 'id="match-W-CONSENT"' not in page  # abroad: no order's candidate
    worker_page = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    r = client.post(f"/counsellor/applications/{aid}/after", data={
        "csrf_token": csrf_of(worker_page), "arrived_on": "03/06/2025", "contract_end": "02/06/2028",
        "returned_on": "15/02/2026", "return_kind": "early", "early_reason": "unpaid_wages",
        "reintegration": "Giới thiệu Công ty May Cao Bằng"})
    assert r.status_code == 302
    with get_store(app).session() as s:
        rec = s.scalars(select(AfterDeparture)).one()
        assert (rec.return_kind, rec.early_reason, rec.returned_on) == ("early", "unpaid_wages", dt.date(2026, 2, 15))
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "after_departure")).one().detail["changed"]
    page = client.get("/counsellor/orders/ORD-A2?top=50").get_data(as_text=True)
    assert 'id="match-W-CONSENT"' in page  # home again: a candidate again


def test_early_returns_flag_the_enterprise_orders(app, client, auth):
    with get_store(app).session() as s:
        for i in range(2):
            w = s.get(Worker, "W-PRIVATE")
            clone = Worker(**{c.key: getattr(w, c.key) for c in Worker.__table__.columns
                              if c.key not in ("worker_id", "national_id", "phone", "search_text", "version_id")},
                           worker_id=f"W-BACK{i}", phone=f"09000000{i}1")
            s.add(clone)
            s.flush()
            a = Application(worker_id=clone.worker_id, order_id="ORD-A2", stage="departed", created_by="t")
            a.events.append(StageEvent(from_stage="selected", to_stage="departed", by="t", at=DEPARTED))
            a.after = AfterDeparture(arrived_on=dt.date(2025, 6, 3), returned_on=dt.date(2025, 12, 1),
                                     return_kind="early", early_reason="ill_treatment")
            s.add(a)
        s.commit()
    auth.as_user("counsellor")
    order_page = client.get("/counsellor/orders/ORD-A1").get_data(as_text=True)
    assert "về nước trước hạn trong số 2 người" in order_page and "bị ngược đãi 2" in order_page
    other = client.get("/counsellor/orders/ORD-B1").get_data(as_text=True)
    assert "về nước trước hạn" not in other  # another enterprise's record is clean
