"""The order's pipeline board (issue 17): stages as columns with the capacity, bulk moves that
are all or none and audited, and the recruiter recording interview results in its own pages."""

from __future__ import annotations

from sqlalchemy import select

from models import Application, AuditEvent, JobOrder, StageEvent
from web.views.db import get_store
from webtesting import csrf_of


def _second_application(app, stage="sent"):
    with get_store(app).session() as s:
        a = Application(worker_id="W-PRIVATE", order_id="ORD-A1", stage=stage, created_by="counsellor")
        a.events.append(StageEvent(from_stage=None, to_stage=stage, by="counsellor"))
        s.add(a)
        s.commit()
        return a.id


def _versions(app, *ids):
    with get_store(app).session() as s:
        return {i: s.get(Application, i).version_id for i in ids}


def test_the_board_shows_each_stage_and_the_capacity(app, client, auth):
    auth.as_user("counsellor")
    html = client.get("/counsellor/orders/ORD-A1/board").get_data(as_text=True)
    sent = html.split('id="col-sent"', 1)[1].split("</section>", 1)[0]
    assert 'id="card-W-CONSENT"' in sent
    for stage in ("suggested", "shortlisted", "interviewed", "selected", "departed", "rejected", "withdrawn"):
        assert f'id="col-{stage}"' in html
    assert "Chỉ tiêu 5" in html and 'id="capacity"' in html
    assert client.get("/counsellor/orders/NO-SUCH/board").status_code == 404


def test_a_bulk_move_moves_all_or_none(app, client, auth):
    second = _second_application(app)
    auth.as_user("counsellor")
    page = client.get("/counsellor/orders/ORD-A1/board").get_data(as_text=True)
    v = _versions(app, 1, second)
    stale = client.post("/counsellor/orders/ORD-A1/board", data={
        "csrf_token": csrf_of(page), "to": "interviewed", "aid": ["1", str(second)],
        "v-1": v[1], f"v-{second}": v[second] + 7})
    assert stale.status_code == 409 and "Không chuyển ai" in stale.get_data(as_text=True)
    with get_store(app).session() as s:
        assert {a.stage for a in s.scalars(select(Application))} == {"sent"}
    ok = client.post("/counsellor/orders/ORD-A1/board", data={
        "csrf_token": csrf_of(page), "to": "interviewed", "aid": ["1", str(second)],
        "v-1": v[1], f"v-{second}": v[second], "note": "phỏng vấn online 02/03"})
    assert ok.status_code == 302
    with get_store(app).session() as s:
        assert {a.stage for a in s.scalars(select(Application))} == {"interviewed"}
        moved = s.scalars(select(AuditEvent).where(AuditEvent.action == "stage")).all()
        assert sorted(e.entity_id for e in moved) == sorted(["1", str(second)])
    wrong = client.post("/counsellor/orders/ORD-A1/board", data={
        "csrf_token": csrf_of(page), "to": "suggested", "aid": ["1"], "v-1": _versions(app, 1)[1]})
    assert wrong.status_code == 409  # interviewed -> suggested is not a move the pipeline allows
    nobody = client.post("/counsellor/orders/ORD-A1/board", data={"csrf_token": csrf_of(page), "to": "selected"})
    assert nobody.status_code == 400 and "Hãy chọn ít nhất một người" in nobody.get_data(as_text=True)


def test_a_bulk_selection_past_the_positions_selects_nobody(app, client, auth):
    second = _second_application(app, stage="interviewed")
    with get_store(app).session() as s:
        s.get(JobOrder, "ORD-A1").positions = 1
        first = s.get(Application, 1)
        first.stage = "interviewed"
        s.commit()
    auth.as_user("counsellor")
    page = client.get("/counsellor/orders/ORD-A1/board").get_data(as_text=True)
    v = _versions(app, 1, second)
    r = client.post("/counsellor/orders/ORD-A1/board", data={
        "csrf_token": csrf_of(page), "to": "selected", "aid": ["1", str(second)], "v-1": v[1], f"v-{second}": v[second]})
    assert r.status_code == 409 and "đã đủ 1 người" in r.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A1").places_filled in (0, None)
        assert {a.stage for a in s.scalars(select(Application))} == {"interviewed"}


def test_the_recruiter_records_an_interview_result_for_its_candidate(app, client, auth):
    auth.as_user("reca")
    page = client.get("/recruiter/orders/ORD-A1").get_data(as_text=True)
    assert 'id="result-W-CONSENT"' in page
    version = _versions(app, 1)[1]
    bad = client.post("/recruiter/orders/ORD-A1/applications/1/result",
                      data={"csrf_token": csrf_of(page), "to": "departed", "version_id": version})
    assert bad.status_code == 422 and "chỉ ghi kết quả phỏng vấn" in bad.get_data(as_text=True)
    ok = client.post("/recruiter/orders/ORD-A1/applications/1/result",
                     data={"csrf_token": csrf_of(page), "to": "interviewed", "version_id": version, "note": "đạt vòng 1"})
    assert ok.status_code == 302
    with get_store(app).session() as s:
        a = s.get(Application, 1)
        assert a.stage == "interviewed" and a.events[-1].by == "reca" and a.events[-1].note == "đạt vòng 1"
    auth.as_user("recb")
    own = client.get("/recruiter/orders").get_data(as_text=True)
    other = client.post("/recruiter/orders/ORD-A1/applications/1/result",
                        data={"csrf_token": csrf_of(own), "to": "selected", "version_id": version + 1})
    assert other.status_code == 404  # never another enterprise's order
