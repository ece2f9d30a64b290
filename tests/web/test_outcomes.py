"""Recorded outcomes are facts the engine obeys (issue 13): a rejected or withdrawn pair is
not proposed again by the rankings, the allocation or the summary until it is reopened; a
departed worker leaves the pool; selection never goes past an order's positions, even under
concurrent requests."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from models import Application, AuditEvent, JobOrder, StageEvent, Worker
from web.views.db import get_store
from webtesting import csrf_of, worker


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _move(client, aid: int, to: str, app):
    with get_store(app).session() as s:
        version = s.get(Application, aid).version_id
    token = csrf_of(client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True))
    return client.post(f"/counsellor/applications/{aid}/move", data={"to": to, "version_id": version, "csrf_token": token})


def _section(html: str, table_id: str) -> str:
    if f'id="{table_id}"' not in html:
        return ""
    return html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def test_a_rejected_pair_leaves_ranking_summary_and_allocation_until_reopened(app, staff):
    matches = staff.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in matches
    assert _move(staff, 1, "rejected", app).status_code == 302

    matches = staff.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' not in matches
    ineligible = _section(matches, "ineligible")
    assert "ORD-A1" in ineligible and "không đạt" in ineligible
    assert re.search(r"ngày \d\d/\d\d/\d{4}", ineligible)  # the date it ended
    with get_store(app).session() as s:
        title = s.get(JobOrder, "ORD-A1").title
    summary = staff.get("/counsellor/workers/W-CONSENT/summary").get_data(as_text=True)
    top = summary.split("Đơn hàng phù hợp nhất", 1)[1].split("</table>", 1)[0]
    assert "<td>1</td>" in top and title not in top

    # The order's own ranking of workers lists the pair as ineligible, never as a match.
    order_page = staff.get("/counsellor/orders/ORD-A1").get_data(as_text=True)
    assert 'id="match-W-CONSENT"' not in order_page

    # The allocation may propose W-CONSENT again (its application ended), never for ORD-A1.
    page = staff.get("/counsellor/allocation").get_data(as_text=True)
    result = staff.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "60"})
    pairs = re.findall(r'name="pair" value="([^"]+)"', result.get_data(as_text=True))
    assert pairs and "W-CONSENT|ORD-A1" not in pairs

    # Reopening brings it back in the next ranking, audited with a stage event.
    with get_store(app).session() as s:
        version = s.get(Application, 1).version_id
    token = csrf_of(staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True))
    page = staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    assert 'id="reopen-1"' in page
    r = staff.post("/counsellor/applications/1/reopen", data={"version_id": version, "csrf_token": token})
    assert r.status_code == 302
    matches = staff.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in matches
    with get_store(app).session() as s:
        a = s.get(Application, 1)
        assert a.stage == "suggested"
        assert [e.to_stage for e in a.events][-2:] == ["rejected", "suggested"]
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "reopen")).all()


def test_reopen_refuses_an_open_application_and_a_stale_form(app, staff):
    with get_store(app).session() as s:
        version = s.get(Application, 1).version_id
    token = csrf_of(staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True))
    r = staff.post("/counsellor/applications/1/reopen", data={"version_id": version, "csrf_token": token})
    assert r.status_code == 409 and "Chỉ mở lại được" in r.get_data(as_text=True)
    r = staff.post("/counsellor/applications/1/reopen", data={"version_id": version + 7, "csrf_token": token})
    assert r.status_code == 409


def test_a_departed_worker_leaves_the_pool(app, staff):
    for stage in ("interviewed", "selected", "departed"):
        assert _move(staff, 1, stage, app).status_code == 302
    for oid in ("ORD-A2", "ORD-B1"):
        page = staff.get(f"/counsellor/orders/{oid}").get_data(as_text=True)
        assert 'id="match-W-CONSENT"' not in page, oid
    page = staff.get("/counsellor/allocation").get_data(as_text=True)
    result = staff.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "60"})
    pairs = re.findall(r'name="pair" value="([^"]+)"', result.get_data(as_text=True))
    assert not [p for p in pairs if p.startswith("W-CONSENT|")]


def _candidates(app, n: int, positions: int) -> list[int]:
    """``n`` interviewed applications for ORD-A2, which gets ``positions`` places."""
    ids = []
    with get_store(app).session() as s:
        s.get(JobOrder, "ORD-A2").positions = positions
        for i in range(n):
            w = Worker(worker_id=f"W-CAP{i}", full_name=f"Nông Văn Cấp {i}", **worker(national_id=None, phone=None))
            s.add(w)
            a = Application(worker_id=w.worker_id, order_id="ORD-A2", stage="interviewed", created_by="counsellor")
            a.events.append(StageEvent(from_stage=None, to_stage="interviewed", by="counsellor"))
            s.add(a)
            s.flush()
            ids.append(a.id)
        s.commit()
    return ids


def test_selection_beyond_positions_is_refused_with_409(app, staff):
    first, second = _candidates(app, 2, positions=1)
    assert _move(staff, first, "selected", app).status_code == 302
    r = _move(staff, second, "selected", app)
    assert r.status_code == 409
    assert "đã đủ 1 người được chọn" in r.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A2").places_filled == 1
        assert s.get(Application, second).stage == "interviewed"


def test_concurrent_selections_never_exceed_positions(app):
    ids = _candidates(app, 6, positions=2)
    from webtesting import AuthActions

    clients = []
    for _ in ids:
        c = app.test_client()
        AuthActions(c).login("counsellor")
        clients.append(c)
    with get_store(app).session() as s:
        versions = {a: s.get(Application, a).version_id for a in ids}
    tokens = [csrf_of(c.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(ids))
    statuses: list[int] = []

    def select_one(c, aid, token):
        barrier.wait()
        r = c.post(f"/counsellor/applications/{aid}/move",
                   data={"to": "selected", "version_id": versions[aid], "csrf_token": token})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=select_one, args=args) for args in zip(clients, ids, tokens)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(statuses) == [302, 302, 409, 409, 409, 409]
    with get_store(app).session() as s:
        selected = s.scalars(select(Application).where(Application.order_id == "ORD-A2",
                                                       Application.stage == "selected")).all()
        assert len(selected) == 2
        assert s.get(JobOrder, "ORD-A2").places_filled == 2


def test_order_list_shows_legality_and_filters(app, staff):
    html = staff.get("/counsellor/orders?q=ORD").get_data(as_text=True)
    assert 'id="orders-total">Số đơn hàng: 4' in html
    assert 'id="blocked-ORD-BX"' in html and "môi giới" in html.split('id="blocked-ORD-BX"', 1)[1][:400]
    assert 'id="blocked-ORD-A1"' not in html
    only_blocked = staff.get("/counsellor/orders?legality=blocked&q=ORD").get_data(as_text=True)
    assert "ORD-BX" in only_blocked and ">ORD-A1<" not in only_blocked
    found = staff.get("/counsellor/orders", query_string={"q": "lap rap dien tu"}).get_data(as_text=True)
    assert ">ORD-B1<" in found and ">ORD-A1<" not in found
    full = staff.get("/counsellor/orders?status=all").get_data(as_text=True)
    assert "Trang 1 / " in full and "page=2" in full  # more than one page of synthetic orders
    tw = staff.get("/counsellor/orders?country=TW&q=ORD").get_data(as_text=True)
    assert ">ORD-A2<" in tw and ">ORD-A1<" not in tw
    assert staff.get("/counsellor/orders?page=99999999999999999999").status_code == 200
    assert staff.get("/counsellor/workers?page=99999999999999999999").status_code == 200
