"""Stored UTC times are shown, and days are counted, in Cao Bằng's time zone (issue 18:
"02/12/2026 20:36" was shown when it was already 03:36 on 3 December in Cao Bằng)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import AuditEvent, StageEvent, WorkerNote
from web.views.db import get_store

LATE_UTC = dt.datetime(2026, 3, 1, 20, 36)  # 02/03/2026 03:36 in Cao Bằng


@pytest.fixture
def admin(auth, client):
    auth.login("admin")
    return client


def test_audit_page_shows_and_filters_by_vietnam_time(app, admin):
    with get_store(app).session() as s:
        s.add(AuditEvent(username="counsellor", action="export", entity="worker", entity_id="W-LATE", at=LATE_UTC, detail={}))
        s.commit()
    rows = admin.get("/admin/audit?entity_id=W-LATE").get_data(as_text=True).split('id="audit-table"', 1)[1]
    assert "02/03/2026 03:36" in rows and "01/03/2026 20:36" not in rows
    assert 'datetime="2026-03-01T20:36:00Z"' in rows  # the machine-readable time says it is UTC
    # the days of the filter are Cao Bằng's: the event happened on 2 March there
    on_day = admin.get("/admin/audit?entity_id=W-LATE&date_from=2026-03-02&date_to=2026-03-02").get_data(as_text=True)
    assert "W-LATE" in on_day.split('id="audit-table"', 1)[1]
    day_before = admin.get("/admin/audit?entity_id=W-LATE&date_to=2026-03-01").get_data(as_text=True)
    assert "W-LATE" not in day_before.split('id="audit-table"', 1)[1]


def test_timeline_shows_vietnam_time_and_notes_at_their_local_noon(app, auth, client):
    with get_store(app).session() as s:
        app_id = 1
        s.add(StageEvent(application_id=app_id, from_stage="sent", to_stage="interviewed", by="counsellor", at=LATE_UTC))
        s.add(WorkerNote(worker_id="W-CONSENT", kind="call", day=dt.date(2026, 2, 20), body="Gọi điện hỏi giấy tờ",
                         by="counsellor", at=dt.datetime(2026, 2, 25, 3, 0)))
        s.commit()
    auth.login("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    section = page[page.index('id="timeline-entries"'):]
    stage = re.search(r"<time[^>]*>([^<]+)</time>\s*<strong>Giai đoạn Đã giới thiệu cho doanh nghiệp → Đã phỏng vấn", section)
    assert stage and stage.group(1) == "02/03/2026 03:36"
    # a note written later about 20/02 stands at noon of 20/02 in Cao Bằng
    note = re.search(r"<time[^>]*>([^<]+)</time>\s*<strong>Gọi điện</strong>", section)
    assert note and note.group(1) == "20/02/2026 12:00"
