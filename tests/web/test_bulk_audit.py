"""Bulk reads of personal data are audited (issue 14, item 9; Decree 13/2023): the worker list,
an order's ranked workers, an allocation run and the API's worker list and staff order matches
each leave a ``view_list`` row saying who read how many profiles, with the ids or their digest."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from models import AuditEvent
from web.services.accounts import issue_token
from web.views.db import get_store
from webtesting import AuthActions, csrf_of


def _bulk(app, page: str) -> list[AuditEvent]:
    with get_store(app).session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == "view_list")
                         .where(AuditEvent.detail["page"].as_string() == page)).all()


def test_web_bulk_reads_are_audited(app):
    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    html = client.get("/counsellor/workers").get_data(as_text=True)
    [event] = _bulk(app, "workers")
    assert event.username == "counsellor" and event.entity == "worker"
    ids = event.detail["ids"]
    assert ids and all(f">{i}<" in html or i in html for i in ids)
    assert event.detail["count"] == len(ids)
    assert event.detail["digest"] == hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]
    client.get("/counsellor/orders/ORD-A1")
    [event] = _bulk(app, "order_candidates")
    assert event.detail["order_id"] == "ORD-A1" and "W-CONSENT" in event.detail["ids"]
    page = client.get("/counsellor/allocation").get_data(as_text=True)
    client.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "20"})
    [event] = _bulk(app, "allocation")
    assert event.detail["count"] > 0 and event.detail["pairs"] >= 0


def test_api_bulk_reads_are_audited(app):
    with get_store(app).session() as s:
        token = issue_token(s, "counsellor")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/workers?limit=5", headers=headers).get_json()
    [event] = _bulk(app, "api_workers")
    assert sorted(event.detail["ids"]) == sorted(w["worker_id"] for w in body["items"])
    assert event.detail["via"] == "api_token"
    client.get("/api/orders/ORD-A1/matches?top=3", headers=headers)
    [event] = _bulk(app, "api_order_matches")
    assert event.detail["order_id"] == "ORD-A1" and event.detail["count"] >= 3
