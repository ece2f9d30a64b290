"""A recruiter's access ends with its enterprise and, while it lasts, reaches only its own
candidates (issue 14, item 4).

A token of an enterprise whose licence is revoked or suspended reads no worker (403 with a
Vietnamese-first message); an active recruiter walking the worker ids gets 200 only for consenting
candidates of its own legal, open orders and 404 for everyone else.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models import Application, JobOrder, LicenceStatusChange, Recruiter, Worker
from web.services.accounts import issue_token
from web.views.db import get_store
from webtesting import TODAY, csrf_of


@pytest.fixture
def tokens(app):
    with get_store(app).session() as s:
        return {name: issue_token(s, name) for name in ("counsellor", "reca", "recb")}


def get(client, token, url):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def change_licence(app, rid: str, status: str) -> None:
    with get_store(app).session() as s:
        r = s.get(Recruiter, rid)
        r.status_history.append(LicenceStatusChange(status=status, effective_date=TODAY - dt.timedelta(days=1),
                                                    reason="QĐ 12/QĐ-BNV", changed_by="admin"))
        r.status, r.status_date = status, TODAY - dt.timedelta(days=1)


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_a_recruiter_whose_licence_ended_reads_no_worker(app, client, tokens, auth, status):
    assert get(client, tokens["reca"], "/api/workers/W-CONSENT").status_code == 200
    change_licence(app, "REC-A", status)
    refused = get(client, tokens["reca"], "/api/workers/W-CONSENT")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "forbidden" and error["detail"]["reason"] == f"licence_{status}"
    word = {"revoked": "thu hồi", "suspended": "đình chỉ"}[status]
    assert word in error["message_vi"] and "not active" in error["message"]
    # The same for an id that does not exist (nothing is revealed) and for the order's candidates.
    assert get(client, tokens["reca"], "/api/workers/NOPE").status_code == 403
    assert get(client, tokens["reca"], "/api/orders/ORD-A1/matches").status_code == 403
    # ... and for the web page that shows the order's candidates.
    auth.as_user("reca")
    page = client.get("/recruiter/orders/ORD-A1")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "Nguyễn Văn Đức" not in html and word in html
    # Nor can it record an interview result for a candidate the centre sent it.
    with get_store(app).session() as s:
        version = s.get(Application, 1).version_id
    result = client.post("/recruiter/orders/ORD-A1/applications/1/result",
                         data={"to": "interviewed", "version_id": str(version), "csrf_token": csrf_of(
                             client.get("/recruiter/orders").get_data(as_text=True))})
    assert result.status_code == 403
    with get_store(app).session() as s:
        assert s.get(Application, 1).stage == "sent"
    # The enterprise can still see its own orders and why they are blocked.
    assert client.get("/recruiter/orders").status_code == 200
    # Another, active enterprise is not affected.
    assert get(client, tokens["recb"], "/api/workers/W-CONSENT").status_code == 200


def test_an_active_recruiter_walking_the_ids_finds_only_its_candidates(app, client, tokens):
    with get_store(app).session() as s:
        everyone = list(s.scalars(select(Worker.worker_id).order_by(Worker.worker_id)))
        consenting = set(s.scalars(select(Worker.worker_id).where(Worker.consent_share.is_(True))))
        own = list(s.scalars(select(JobOrder.order_id).where(JobOrder.recruiter_id == "REC-A")))
    assert len(everyone) < 100  # the rankings below (top=100) are then complete
    # The candidates as the recruiter's own rankings list them (ORD-A1 and ORD-A2 are legal and open).
    candidates = set()
    for oid in own:
        ranking = get(client, tokens["reca"], f"/api/orders/{oid}/matches?top=100").get_json()
        candidates |= {m["item_id"] for m in ranking["matches"]}
    assert "W-CONSENT" in candidates and "W-PRIVATE" not in candidates
    outsiders = consenting - candidates
    assert outsiders, "the population must hold consenting workers who are nobody's candidate here"
    seen = {wid: get(client, tokens["reca"], f"/api/workers/{wid}").status_code for wid in everyone}
    assert {w for w, code in seen.items() if code == 200} == candidates
    assert {w for w, code in seen.items() if code != 200} == set(everyone) - candidates
    assert set(seen.values()) == {200, 404}
    # The staff see every profile.
    assert all(get(client, tokens["counsellor"], f"/api/workers/{w}").status_code == 200 for w in sorted(outsiders)[:3])


def test_a_candidate_of_an_order_that_is_no_longer_open_is_not_readable(app, client, tokens):
    """W-CONSENT is a candidate of REC-A's two orders; once both are closed it is nobody's."""
    assert get(client, tokens["reca"], "/api/workers/W-CONSENT").status_code == 200
    with get_store(app).session() as s:
        for oid in ("ORD-A1", "ORD-A2"):
            s.get(JobOrder, oid).status = "closed"
    assert get(client, tokens["reca"], "/api/workers/W-CONSENT").status_code == 404


def test_a_worker_the_centre_sent_to_an_open_order_is_readable_with_contacts(app, client, tokens):
    """A consenting worker outside the ranking whom the centre sent to REC-A's open order is a
    candidate too (the order page lists them); once that order is closed, no longer."""
    with get_store(app).session() as s:
        consenting = list(s.scalars(select(Worker.worker_id).where(Worker.consent_share.is_(True))
                                    .order_by(Worker.worker_id)))
    ranked = set()
    for oid in ("ORD-A1", "ORD-A2"):
        ranked |= {m["item_id"] for m in get(client, tokens["reca"], f"/api/orders/{oid}/matches?top=100").get_json()["matches"]}
    outsider = next(w for w in consenting if w not in ranked)
    assert get(client, tokens["reca"], f"/api/workers/{outsider}").status_code == 404
    with get_store(app).session() as s:
        s.add(Application(worker_id=outsider, order_id="ORD-A1", stage="sent", score=0.5, created_by="counsellor"))
    sent = get(client, tokens["reca"], f"/api/workers/{outsider}")
    assert sent.status_code == 200 and sent.get_json()["contacts_visible"] is True
    with get_store(app).session() as s:
        s.get(JobOrder, "ORD-A1").status = "closed"
    assert get(client, tokens["reca"], f"/api/workers/{outsider}").status_code == 404
