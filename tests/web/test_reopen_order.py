"""A closed order can be opened again where the law allows (issue 18): its gates must pass."""

from __future__ import annotations

import datetime as dt

from models import AuditEvent, JobOrder
from web.views.db import get_store
from webtesting import csrf_of


def _close(app, oid):
    with get_store(app).session() as s:
        o = s.get(JobOrder, oid)
        o.status = "closed"
        s.commit()
        return o.version_id


def test_reopen_a_closed_order_that_is_still_legal(app, client, auth):
    version = _close(app, "ORD-A2")
    auth.as_user("reca")
    page = client.get("/recruiter/orders/ORD-A2").get_data(as_text=True)
    assert 'id="reopen-form"' in page
    r = client.post("/recruiter/orders/ORD-A2/reopen", data={"csrf_token": csrf_of(page), "version_id": version})
    assert r.status_code == 302
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A2").status == "open"
        assert s.query(AuditEvent).filter_by(action="reopen", entity="order", entity_id="ORD-A2").count() == 1


def test_an_order_past_its_deadline_stays_closed(app, client, auth):
    with get_store(app).session() as s:
        s.get(JobOrder, "ORD-A2").deadline = dt.date(2026, 1, 1)  # before the app's date, 2026-03-02
        s.commit()
    version = _close(app, "ORD-A2")
    auth.as_user("reca")
    page = client.get("/recruiter/orders/ORD-A2").get_data(as_text=True)
    r = client.post("/recruiter/orders/ORD-A2/reopen", data={"csrf_token": csrf_of(page), "version_id": version})
    assert r.status_code == 422 and "Không thể mở lại đơn hàng" in r.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A2").status == "closed"
