"""«Việc cần làm» (issue 17): call-backs, expiring EPS-TOPIK passes, stuck applications,
orders closing with places left and ended classes without results, each from the records and
leaving the list once the work is done."""

from __future__ import annotations

import datetime as dt

from models import Application, Enrolment, JobOrder, LanguageCertificate, StageEvent, TrainingCourse, WorkerNote
from web.views.db import get_store
from web.views.todo import STUCK_DAYS

TODAY = dt.date(2026, 3, 2)  # the web test app's date


def _section(html, key):
    return html.split(f'id="todo-{key}"', 1)[1].split("</section>", 1)[0]


def test_the_list_gathers_each_kind_of_work(app, client, auth):
    with get_store(app).session() as s:
        s.add(WorkerNote(worker_id="W-CONSENT", kind="call", day=TODAY - dt.timedelta(days=3),
                         body="Gọi lại hỏi hộ chiếu", follow_up=TODAY + dt.timedelta(days=2), by="counsellor"))
        s.add(WorkerNote(worker_id="W-CONSENT", kind="call", day=TODAY, body="Việc của người khác",
                         follow_up=TODAY, by="admin"))
        s.add(LanguageCertificate(worker_id="W-PRIVATE", position=1, raw="EPS-TOPIK 160 (2024-04-10)", exam="eps_topik",
                                  language="ko", score=160, level=2, test_date=dt.date(2024, 4, 10)))
        app1 = s.get(Application, 1)
        for e in app1.events:
            e.at = dt.datetime.combine(TODAY - dt.timedelta(days=STUCK_DAYS["sent"] + 5), dt.time(9))
        s.get(JobOrder, "ORD-A2").deadline = TODAY + dt.timedelta(days=5)
        c = TrainingCourse(name="Tiếng Hàn EPS – khóa 1", kind="language", language="ko", tier="basic",
                           start_date=dt.date(2025, 11, 1), end_date=TODAY - dt.timedelta(days=1))
        c.enrolments.append(Enrolment(worker_id="W-PRIVATE", enrolled_on=dt.date(2025, 11, 1), status="enrolled"))
        s.add(c)
        s.commit()
    auth.as_user("counsellor")
    html = client.get("/counsellor/todo").get_data(as_text=True)
    assert "Gọi lại hỏi hộ chiếu" in _section(html, "call_back")
    assert "Việc của người khác" not in html  # another user's call-back is theirs
    assert "EPS-TOPIK 160 (10/04/2024)" in _section(html, "expiry") and "10/04/2026" in _section(html, "expiry")
    stuck = _section(html, "stuck")
    assert "Nguyễn Văn Đức" in stuck and "Đã giới thiệu cho doanh nghiệp" in stuck and "/counsellor/orders/ORD-A1/board" in stuck
    assert "ORD-A2" in _section(html, "deadline")
    assert "Tiếng Hàn EPS – khóa 1" in _section(html, "class_results")


def test_items_leave_the_list_once_done(app, client, auth):
    with get_store(app).session() as s:
        c = TrainingCourse(name="Lớp xong", kind="language", language="ja", tier="basic",
                           start_date=dt.date(2025, 11, 1), end_date=TODAY - dt.timedelta(days=1))
        c.enrolments.append(Enrolment(worker_id="W-PRIVATE", enrolled_on=dt.date(2025, 11, 1), status="completed"))
        s.add(c)
        s.get(JobOrder, "ORD-BX").deadline = TODAY + dt.timedelta(days=3)  # illegal (brokerage fee): not listed
        s.commit()
    auth.as_user("counsellor")
    html = client.get("/counsellor/todo").get_data(as_text=True)
    assert "Lớp xong" not in html and "ORD-BX" not in html
    assert "Nguyễn Văn Đức" not in _section(html, "stuck")  # application 1 moved recently
