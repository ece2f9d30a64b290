"""The worker's timeline (web.services.timeline): notes and contacts added on the worker's page, shown
newest first together with stage changes, consent changes, edits and "matches shown"; erased
and exported with the worker, moved with a merged duplicate."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from models import AuditEvent, WorkerNote
from web.views.db import get_store
from webtesting import csrf_of

URL = "/counsellor/workers/W-CONSENT"


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _csrf(client):
    return csrf_of(client.get(URL).get_data(as_text=True))


def _post(client, **form):
    return client.post(URL + "/notes", data={"csrf_token": _csrf(client), **form})


def test_note_is_stored_audited_and_shown_newest_first_with_the_history(app, staff):
    r = _post(staff, kind="call", day="2026-02-20", body="Gọi điện: anh Đức muốn đi Hàn Quốc", follow_up="2026-03-05")
    assert r.status_code == 302 and r.headers["Location"].endswith("#timeline")
    assert _post(staff, kind="zalo", body="Đã gửi danh sách giấy tờ qua Zalo").status_code == 302
    with get_store(app).session() as s:
        notes = s.scalars(select(WorkerNote).where(WorkerNote.worker_id == "W-CONSENT").order_by(WorkerNote.id)).all()
        assert [(n.kind, n.day.isoformat(), n.follow_up and n.follow_up.isoformat(), n.by) for n in notes] == [
            ("call", "2026-02-20", "2026-03-05", "counsellor"), ("zalo", "2026-03-02", None, "counsellor")]
        audited = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "note")).all()
        assert [d["kind"] for d in audited] == ["call", "zalo"]
    page = staff.get(URL).get_data(as_text=True)
    section = page[page.index('id="timeline-entries"'):]
    zalo, call = section.index("Đã gửi danh sách giấy tờ"), section.index("anh Đức muốn đi Hàn Quốc")
    assert zalo < call  # newest first
    assert "Tin nhắn Zalo" in section and "Gọi điện" in section and "Hẹn gọi lại" in section
    # the seeded stage changes of application 1 and its consent are on the same timeline
    assert "→ Đã giới thiệu cho doanh nghiệp (đơn hàng ORD-A1)" in section


def test_edit_consent_and_matches_shown_enter_the_timeline(app, staff):
    staff.get(URL + "/matches")
    csrf = _csrf(staff)
    staff.post("/privacy/workers/W-CONSENT/consent", data={"action": "revoke", "csrf_token": csrf})
    section = staff.get(URL).get_data(as_text=True).split('id="timeline-entries"')[1]
    assert "Rút lại sự đồng ý" in section and "Đã xem đơn hàng phù hợp" in section
    # a revocation made after the matches were shown comes first
    assert section.index("Rút lại sự đồng ý") < section.index("Đã xem đơn hàng phù hợp")
    assert "Hồ sơ được nhập từ tệp" in section  # seeded without a "create" audit line


@pytest.mark.parametrize("form, message, english", [
    ({"kind": "call", "body": "  "}, "Hãy ghi nội dung.", "text is empty"),
    ({"kind": "fax", "body": "x"}, "Hãy chọn loại ghi chú", "must be one of note, call"),
    ({"kind": "call", "body": "x", "day": "31/02/2026"}, "Ngày không hợp lệ", "The &#39;day&#39; must be a date"),
    ({"kind": "call", "body": "x", "follow_up": "2026-13-01"}, "Ngày không hợp lệ", "The &#39;follow_up&#39; must be a date"),
    ({"kind": "call", "body": "x", "day": "2026-03-03"}, "Ngày ghi chú không được ở tương lai.", "may not be in the future"),
    ({"kind": "call", "body": "x", "day": "2026-02-20", "follow_up": "2026-02-19"}, "không được trước ngày ghi chú",
     "may not precede"),
    ({"kind": "call", "body": "x" * 4001}, "Nội dung dài quá 4000 ký tự.", "longer than 4000"),
])
def test_bad_note_is_refused_in_vietnamese_first_and_keeps_what_was_typed(app, staff, form, message, english):
    r = _post(staff, **form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    errors = page[page.index('id="note-errors"'):]
    assert message in errors and english in errors
    assert errors.index(message) < errors.index(english)  # Vietnamese first
    if form.get("day") == "31/02/2026":
        assert 'value="31/02/2026"' in page
    with get_store(app).session() as s:
        assert s.scalar(select(func.count()).select_from(WorkerNote)) == 0


def test_note_days_are_typed_the_vietnamese_way(app, staff):
    """"20/02/2026" is 20 February (issue 18: a typed dd/mm/yyyy date was refused)."""
    assert _post(staff, kind="call", body="Gọi lại", day="20/02/2026", follow_up="05/03/2026").status_code == 302
    with get_store(app).session() as s:
        note = s.scalars(select(WorkerNote)).one()
        assert (note.day, note.follow_up) == (dt.date(2026, 2, 20), dt.date(2026, 3, 5))


def test_note_needs_csrf(app, staff):
    assert staff.post(URL + "/notes", data={"kind": "call", "body": "x"}).status_code == 400


def test_notes_are_exported_and_erased_with_the_worker(app, staff):
    _post(staff, kind="visit", body="Đến thăm gia đình ở Hà Quảng")
    data = json.loads(staff.get("/privacy/workers/W-CONSENT/export").get_data(as_text=True))
    assert [(n["kind"], n["body"]) for n in data["notes"]] == [("visit", "Đến thăm gia đình ở Hà Quảng")]
    csrf = _csrf(staff)
    assert staff.post("/privacy/workers/W-CONSENT/erase", data={"confirm": "W-CONSENT", "csrf_token": csrf}).status_code == 302
    with get_store(app).session() as s:
        assert s.scalar(select(func.count()).select_from(WorkerNote)) == 0
        erasure = s.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
        assert erasure.detail["notes"] == 1


def test_notes_move_with_a_merged_duplicate(app):
    from models import Worker
    from web.services.merge import merge_workers

    with get_store(app).session() as s:
        s.add(WorkerNote(worker_id="W-PRIVATE", kind="note", day=dt.date(2026, 3, 1), body="n"))
        s.get(Worker, "W-PRIVATE").national_id = None  # a merge refuses two different CCCĐ numbers
        s.commit()
        result = merge_workers(s, "W-CONSENT", "W-PRIVATE", "counsellor")
        s.commit()
        assert result.notes == 1
        assert s.scalars(select(WorkerNote.worker_id)).all() == ["W-CONSENT"]
