"""One person, one profile on the counsellor's pages: the CCCĐ checked by the form, the
ethnic group as a select list, the worker search by id and CCCĐ, merging a duplicate (and the
``matcher worker merge`` verb)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Application, AuditEvent, Worker
from web.views.db import get_store
from webtesting import csrf_of, worker

NEW = {
    "full_name": "Lục Văn Sáng", "birth_date": "1999-04-02", "gender": "male", "ethnicity": "Nùng",
    "language_training": "basic", "preferred_countries": "JP", "phone": "0911222333",
}


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _new(client, **values):
    page = client.get("/counsellor/workers/new").get_data(as_text=True)
    return client.post("/counsellor/workers/new", data={**NEW, **values, "csrf_token": csrf_of(page)})


def _error(html: str, field: str) -> str:
    m = re.search(rf'id="e-{field}"[^>]*>(.*?)</p>', html, re.S)
    return m.group(1) if m else ""


def test_the_form_refuses_a_national_id_held_by_another_profile(app, staff):
    r = _new(staff, national_id="004 098 001 234", birth_date="1998-05-17")
    assert r.status_code == 422
    assert "đã thuộc hồ sơ W-CONSENT" in _error(r.get_data(as_text=True), "national_id")
    r = _new(staff, national_id="004099001234", birth_date="1999-04-02")
    assert r.status_code == 302
    with get_store(app).session() as s:
        assert s.scalar(select(Worker.worker_id).where(Worker.national_id == "004099001234")) is not None


@pytest.mark.parametrize(("nid", "gender", "fragment"), [
    ("003099001234", "male", "không phải mã tỉnh"),
    ("004199001234", "male", "giới tính nữ"),
    ("004097001234", "male", "năm sinh 1997"),
    ("123456789", "male", "CMND"),
])
def test_the_form_checks_the_national_id_against_the_person(staff, nid, gender, fragment):
    r = _new(staff, national_id=nid, gender=gender)
    assert r.status_code == 422
    assert fragment in _error(r.get_data(as_text=True), "national_id")


def test_the_ethnic_group_is_a_select_of_the_54_groups(app, staff):
    page = staff.get("/counsellor/workers/new").get_data(as_text=True)
    select_html = re.search(r'<select id="f-ethnicity".*?</select>', page, re.S).group(0)
    assert len(re.findall(r"<option value=\"[^\"]+\"", select_html)) == 54
    assert '<option value="Sán Chay"' in select_html and '<option value="Lô Lô"' in select_html
    assert _new(staff, ethnicity="Người Mỹ").status_code == 422
    # an old free-text value is shown as stored, and saved as the official name
    with get_store(app).session() as s:
        s.get(Worker, "W-PRIVATE").ethnicity = "Nung"
    edit = staff.get("/counsellor/workers/W-PRIVATE/edit").get_data(as_text=True)
    assert '<option value="Nung" selected>' in edit
    version = re.search(r'name="version_id" value="(\d+)"', edit).group(1)
    fields = dict(re.findall(r'<input id="f-([a-z_]+)" name="[a-z_]+" value="([^"]*)"', edit))
    fields.update(ethnicity="Nung", gender="female", language_training="basic", education="upper_secondary")
    r = staff.post("/counsellor/workers/W-PRIVATE/edit", data={**fields, "version_id": version, "csrf_token": csrf_of(edit)})
    assert r.status_code == 302
    with get_store(app).session() as s:
        assert s.get(Worker, "W-PRIVATE").ethnicity == "Nùng"


@pytest.mark.parametrize("query", ["W-CONSENT", "w-consent", "004098001234", "0912345678"])
def test_search_finds_by_worker_id_and_national_id(staff, query):
    page = staff.get("/counsellor/workers", query_string={"q": query}).get_data(as_text=True)
    assert "W-CONSENT" in page and "W-PRIVATE" not in page, query


def test_search_for_a_name_is_whole_word(app, staff):
    with get_store(app).session() as s:
        s.add_all([Worker(worker_id="W-ANH", full_name="Hoàng Thị Ánh", **worker(national_id=None, gender="female")),
                   Worker(worker_id="W-KHANH", full_name="Nông Văn Khánh", **worker(national_id=None)),
                   Worker(worker_id="W-THANH", full_name="Lý Văn Thanh", **worker(national_id=None))])
    page = staff.get("/counsellor/workers", query_string={"q": "anh"}).get_data(as_text=True)
    assert "W-ANH" in page and "W-KHANH" not in page and "W-THANH" not in page


def _duplicate(app) -> None:
    """W-DUP: W-CONSENT registered a second time (before CCCĐ numbers were unique), with an
    application of its own."""
    with get_store(app).session() as s:
        s.add(Worker(worker_id="W-DUP", full_name="Nguyễn Văn Đức", **worker(national_id=None, phone=None)))
        s.flush()
        s.add(Application(worker_id="W-DUP", order_id="ORD-A2", stage="withdrawn", created_by="counsellor"))


def test_merge_in_the_ui_keeps_history_and_removes_the_duplicate_everywhere(app, staff):
    _duplicate(app)
    ranked = staff.get("/api/orders/ORD-A1/matches?top=100").get_json()
    assert "W-DUP" in {m["item_id"] for m in ranked["matches"]}  # before: the same person twice
    page = staff.get("/counsellor/allocation").get_data(as_text=True)
    alloc = staff.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "40", "q": "duc"})
    assert "W-DUP|" in alloc.get_data(as_text=True)
    profile = staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    assert re.search(r'id="possible-duplicates".*W-DUP', profile, re.S)
    r = staff.post("/counsellor/workers/W-CONSENT/merge",
                   data={"other": "W-DUP", "confirm": "W-DUP", "csrf_token": csrf_of(profile)})
    assert r.status_code == 302
    ranked = staff.get("/api/orders/ORD-A1/matches?top=100").get_json()
    assert "W-DUP" not in {m["item_id"] for m in ranked["matches"]}
    assert "W-CONSENT" in {m["item_id"] for m in ranked["matches"]} or any(
        b["item_id"] == "W-CONSENT" for b in ranked.get("ineligible", []))
    found = staff.get("/counsellor/workers", query_string={"q": "nguyen van duc"}).get_data(as_text=True)
    assert "<small>W-CONSENT</small>" in found and "<small>W-DUP</small>" not in found
    page = staff.get("/counsellor/allocation").get_data(as_text=True)
    alloc = staff.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "40", "q": "duc"})
    assert "W-DUP|" not in alloc.get_data(as_text=True)
    merged = staff.get("/counsellor/workers/W-DUP").get_data(as_text=True)
    assert 'id="merged-into"' in merged and "W-CONSENT" in merged
    with get_store(app).session() as s:
        assert s.get(Worker, "W-DUP").merged_into == "W-CONSENT"
        assert {a.order_id for a in s.scalars(select(Application).where(Application.worker_id == "W-CONSENT"))} == {"ORD-A1", "ORD-A2"}
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "merge")).one()
        assert (audit.username, audit.entity_id, audit.detail["merged"]) == ("counsellor", "W-CONSENT", "W-DUP")


def test_merge_mistakes_get_a_clear_message(app, staff):
    _duplicate(app)
    page = staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    csrf = csrf_of(page)
    assert staff.post("/counsellor/workers/W-CONSENT/merge", data={"other": "W-DUP", "confirm": "W-DU", "csrf_token": csrf}).status_code == 400
    r = staff.post("/counsellor/workers/W-CONSENT/merge", data={"other": "W-PRIVATE", "confirm": "W-PRIVATE", "csrf_token": csrf})
    assert r.status_code == 422 and "CCCD khác nhau" in r.get_data(as_text=True)
    r = staff.post("/counsellor/workers/W-CONSENT/merge", data={"other": "W-CONSENT", "confirm": "W-CONSENT", "csrf_token": csrf})
    assert r.status_code == 422
    with get_store(app).session() as s:
        assert s.scalars(select(Worker.worker_id).where(Worker.merged_into.is_not(None))).all() == []


def test_recruiters_cannot_merge(app, auth, client):
    auth.login("reca")
    assert client.post("/counsellor/workers/W-CONSENT/merge", data={"other": "W-DUP", "confirm": "W-DUP"}).status_code in (400, 403)


def test_cli_worker_merge(app, tmp_path, monkeypatch, capsys):
    from web.cli import main

    _duplicate(app)
    monkeypatch.setenv("MATCHER_DATABASE_URL", get_store(app).url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    assert main(["worker", "merge", "W-CONSENT", "W-DUP"]) == 0
    assert "merged W-DUP into W-CONSENT" in capsys.readouterr().out
    assert main(["worker", "merge", "W-CONSENT", "W-DUP"]) == 1
    assert "đã được gộp vào W-CONSENT" in capsys.readouterr().out
    with get_store(app).session() as s:
        assert s.get(Worker, "W-DUP").merged_into == "W-CONSENT"
        assert s.scalars(select(AuditEvent.username).where(AuditEvent.action == "merge")).all() == ["cli"]
