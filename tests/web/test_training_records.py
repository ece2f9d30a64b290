"""Training records (issue 17): classes, enrolments and results; the 100% / 15% indicators are
computed from them (a brute-force count agrees); a completed class raises the worker's profile;
bad input is refused with Vietnamese-first messages and changes nothing."""

from __future__ import annotations

import datetime as dt
import random
import re

from sqlalchemy import select

from models import Application, AuditEvent, Enrolment, JobOrder, StageEvent, TrainingCourse, Worker
from web.services import stats
from web.views.db import get_store
from webtesting import csrf_of, legal_order, worker

COURSE = {"name": "Tiếng Nhật N4 – khóa 12", "kind": "language", "language": "ja", "target_level": "JLPT N4",
          "tier": "basic", "provider": "Trung tâm GDNN Cao Bằng", "start_date": "01/09/2026",
          "end_date": "30/11/2026", "capacity": "2"}


def _new_course(client, **changes):
    page = client.get("/training/").get_data(as_text=True)
    return client.post("/training/new", data={"csrf_token": csrf_of(page), **COURSE, **changes})


def _course_id(app) -> int:
    with get_store(app).session() as s:
        return s.scalars(select(TrainingCourse.id).order_by(TrainingCourse.id.desc())).first()


def test_a_course_form_with_errors_keeps_what_was_typed_and_creates_nothing(app, client, auth):
    auth.as_user("counsellor")
    r = _new_course(client, language="", end_date="01/08/2026", capacity="-3")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Lớp ngoại ngữ cần chọn ngôn ngữ" in body and "Ngày kết thúc phải sau ngày khai giảng" in body
    assert 'value="Tiếng Nhật N4 – khóa 12"' in body and 'value="Trung tâm GDNN Cao Bằng"' in body
    with get_store(app).session() as s:
        assert s.scalar(select(TrainingCourse.id)) is None


def test_enrol_results_and_the_profile_rises(app, client, auth):
    auth.as_user("counsellor")
    r = _new_course(client)
    assert r.status_code == 302, r.get_data(as_text=True)
    cid = _course_id(app)
    page = client.get(f"/training/{cid}").get_data(as_text=True)
    bad = client.post(f"/training/{cid}/enrol", data={"csrf_token": csrf_of(page), "worker_ids": "W-CONSENT, W-NOBODY"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Không ghi danh ai" in text and "W-NOBODY" in text and "W-CONSENT, W-NOBODY</textarea>" in text
    with get_store(app).session() as s:
        assert s.scalar(select(Enrolment.id)) is None
    ok = client.post(f"/training/{cid}/enrol", data={"csrf_token": csrf_of(page), "worker_ids": "W-CONSENT\nW-PRIVATE"})
    assert ok.status_code == 302
    with get_store(app).session() as s:
        full = TrainingCourse(name="x", kind="skill", tier="basic", start_date=dt.date(2026, 1, 1),
                              end_date=dt.date(2026, 2, 1))
        assert len(s.get(TrainingCourse, cid).enrolments) == 2 and full  # capacity 2 reached
        eids = {e.worker_id: e.id for e in s.get(TrainingCourse, cid).enrolments}
    over = client.post(f"/training/{cid}/enrol", data={"csrf_token": csrf_of(page), "worker_ids": "W-CONSENT W-NEW"})
    assert over.status_code in (409, 422)

    page = client.get(f"/training/{cid}").get_data(as_text=True)
    token = csrf_of(page)
    e1, e2 = eids["W-CONSENT"], eids["W-PRIVATE"]
    refused = client.post(f"/training/{cid}/results", data={
        "csrf_token": token, f"status-{e1}": "completed", f"certificate-{e1}": "JLPT N4 (2026-11)",
        f"status-{e2}": "completed", f"certificate-{e2}": "bằng khen", f"completed_on-{e2}": "31/02/2026"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Chưa ghi kết quả nào" in body and 'value="bằng khen"' in body
    with get_store(app).session() as s:
        assert {e.status for e in s.get(TrainingCourse, cid).enrolments} == {"enrolled"}
    done = client.post(f"/training/{cid}/results", data={
        "csrf_token": token, f"status-{e1}": "completed", f"certificate-{e1}": "JLPT N3 (2026-11)",
        f"level_reached-{e1}": "N3", f"completed_on-{e1}": "28/02/2026", f"status-{e2}": "dropped"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with get_store(app).session() as s:
        w = s.get(Worker, "W-CONSENT")
        assert w.language_training in ("basic", "advanced")
        assert "JLPT N3 (2026-11)" in [c.raw for c in w.certificates]
        e = s.get(Enrolment, e1)
        assert (e.status, e.completed_on, e.level_reached) == ("completed", dt.date(2026, 2, 28), "N3")
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.entity.in_(("training_course", "enrolment")))))
        assert {"create", "enrol", "training_result"} <= actions
    listing = client.get("/training/").get_data(as_text=True)
    row = listing.split(f'id="course-{cid}"', 1)[1].split("</tr>", 1)[0]
    assert "Tiếng Nhật" in row and "2/2" in row


def test_a_course_opened_from_a_training_need_enrols_its_workers(app, client, auth):
    from web.views.intel import needs_now

    auth.as_user("counsellor")
    needs = client.get("/intel/needs").get_data(as_text=True)
    keys = re.findall(r'href="/intel/needs/([^"?]+)"', needs)
    assert keys, "the test data should have at least one training need"
    page = client.get(f"/intel/needs/{keys[0]}").get_data(as_text=True)
    assert 'id="open-course"' in page
    r = client.post(f"/training/from-need/{keys[0]}", data={
        "csrf_token": csrf_of(page), "name": "Lớp từ nhu cầu", "tier": "basic", "start_date": "2026-12-01",
        "end_date": "2027-03-01"})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.test_request_context():
        wanted = set(needs_now().need(keys[0]).worker_ids)
    assert wanted
    with get_store(app).session() as s:
        c = s.scalars(select(TrainingCourse).where(TrainingCourse.need_key == keys[0])).one()
        assert {e.worker_id for e in c.enrolments} == wanted
    missing = client.post("/training/from-need/no-such-need", data={"csrf_token": csrf_of(page)})
    assert missing.status_code == 404


def _brute_force(s, period):
    """The rule of web.services.stats.TRAINING_RULE, counted the slow way."""
    from matcher.languages import language_of_country
    from models.languages import parse_requirement

    departed = {}
    for ev in s.scalars(select(StageEvent)).all():
        if ev.to_stage == "departed" and period.start_dt <= ev.at < period.end_dt:
            departed.setdefault(ev.application.worker_id, []).append(ev.application.order)
    basic = advanced = 0
    for wid, orders in departed.items():
        langs = set()
        for o in orders:
            if o.language_requirement:
                langs.add(parse_requirement(o.language_requirement).language)
            langs.add(language_of_country(o.country))
        mine = [e for e in s.scalars(select(Enrolment)).all() if e.worker_id == wid]
        if mine:
            done = [e for e in mine if e.status == "completed"]
            b = any(e.course.kind == "language" and e.course.language in langs for e in done)
            a = any(e.course.tier == "advanced" and (e.course.kind == "skill" or e.course.language in langs) for e in done)
        else:
            level = s.get(Worker, wid).language_training or "none"
            b, a = level != "none", level == "advanced"
        basic += b
        advanced += a
    return len(departed), basic, advanced


def test_the_indicators_equal_a_brute_force_count(app):
    rng = random.Random(17)
    day = dt.date(2026, 11, 20)
    with get_store(app).session() as s:
        orders = []
        for i, (country, req) in enumerate([("JP", "JLPT N4"), ("KR", None), ("DE", "Goethe A2"), ("TW", None), ("JP", None)]):
            o = JobOrder(order_id=f"ORD-T{i}", recruiter_id="REC-A", approval_no=f"T{i}/2026/DOLAB",
                         **legal_order(country=country, language_requirement=req))
            s.add(o)
            orders.append(o)
        courses = []
        for i in range(8):
            kind = rng.choice(["language", "language", "skill"])
            c = TrainingCourse(name=f"Lớp {i}", kind=kind, language=rng.choice(["ja", "ko", "de", "zh"]) if kind == "language" else None,
                               tier=rng.choice(["basic", "advanced"]), start_date=day - dt.timedelta(days=200),
                               end_date=day - dt.timedelta(days=100))
            s.add(c)
            courses.append(c)
        s.flush()
        for i in range(40):
            w = Worker(worker_id=f"W-T{i:02d}", full_name=f"Người {i}", **worker(
                phone=f"09{i:08d}", national_id=None, language_training=rng.choice(["none", "basic", "advanced", None])))
            s.add(w)
            s.flush()
            for c in rng.sample(courses, rng.choice([0, 0, 1, 2, 3])):
                s.add(Enrolment(course_id=c.id, worker_id=w.worker_id, enrolled_on=day - dt.timedelta(days=190),
                                status=rng.choice(["enrolled", "completed", "completed", "failed", "dropped"])))
            if rng.random() < 0.7:
                a = Application(worker_id=w.worker_id, order_id=rng.choice(orders).order_id, stage="departed",
                                created_by="t")
                when = dt.datetime(2026, rng.randint(1, 12), rng.randint(1, 28), 10)
                a.events.append(StageEvent(from_stage="selected", to_stage="departed", by="t", at=when))
                s.add(a)
        s.commit()
        period = stats.Period(dt.date(2026, 1, 1), dt.date(2026, 11, 30))
        got = stats.language_training(s, period)
        total, basic, advanced = _brute_force(s, period)
        assert (got["total"], got["basic_or_more"], got["advanced"]) == (total, basic, advanced)
        assert got["from_records"] + got["declared"] == total and got["from_records"] > 0 and got["declared"] > 0
        assert 0 < basic < total  # the draw exercises both outcomes


def test_erasing_a_worker_removes_the_training_records(app, client, auth):
    from web.services.privacy import erase_worker, worker_record

    with get_store(app).session() as s:
        c = TrainingCourse(name="Lớp", kind="language", language="ja", tier="basic", start_date=dt.date(2026, 1, 1),
                           end_date=dt.date(2026, 3, 1))
        s.add(c)
        s.flush()
        s.add(Enrolment(course_id=c.id, worker_id="W-PRIVATE", enrolled_on=dt.date(2026, 1, 1), status="completed"))
        s.commit()
        assert worker_record(s, "W-PRIVATE")["training"][0]["course"] == "Lớp"
        counts = erase_worker(s, "W-PRIVATE", "admin")
        s.commit()
        assert counts["enrolments"] == 1
        assert s.scalars(select(Enrolment)).all() == []
