"""Personal data (Decree 13/2023/ND-CP): consent with history, right of access, right to
deletion, masking in lists and logs, audit of every profile view."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from models import Application, AuditEvent, ConsentEvent, LanguageCertificate, StageEvent, Worker
from web.views.db import get_store
from webtesting import csrf_of

PHONE, NID = "0912345678", "004098001234"  # W-CONSENT's


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _csrf(client, wid="W-CONSENT"):
    return csrf_of(client.get(f"/privacy/workers/{wid}").get_data(as_text=True))


def test_consent_is_recorded_with_date_and_scope_and_revocable_with_history(app, staff):
    page = staff.get("/privacy/workers/W-PRIVATE").get_data(as_text=True)
    assert "Sự đồng ý chia sẻ hồ sơ" in page and "Chưa đồng ý hoặc đã rút lại" in page
    csrf = _csrf(staff, "W-PRIVATE")
    r = staff.post("/privacy/workers/W-PRIVATE/consent", data={
        "action": "grant", "scope": "Chia sẻ hồ sơ với doanh nghiệp được cấp phép", "consent_date": "2026-02-20",
        "csrf_token": csrf})
    assert r.status_code == 302
    assert staff.post("/privacy/workers/W-PRIVATE/consent", data={"action": "grant", "scope": " ", "csrf_token": csrf}).status_code == 400
    r = staff.post("/privacy/workers/W-PRIVATE/consent", data={"action": "revoke", "consent_date": "2026-03-01", "csrf_token": csrf})
    assert r.status_code == 302
    with get_store(app).session() as s:
        w = s.get(Worker, "W-PRIVATE")
        assert w.consent_share is False and w.consent_date.isoformat() == "2026-03-01"
        history = s.scalars(select(ConsentEvent).where(ConsentEvent.worker_id == "W-PRIVATE").order_by(ConsentEvent.id)).all()
        assert [(c.action, c.consent_date.isoformat(), c.scope, c.by) for c in history] == [
            ("grant", "2026-02-20", "Chia sẻ hồ sơ với doanh nghiệp được cấp phép", "counsellor"),
            ("revoke", "2026-03-01", "Chia sẻ hồ sơ với doanh nghiệp được cấp phép", "counsellor"),
        ]
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == "W-PRIVATE", AuditEvent.action.like("consent%"))).all()
        assert actions == ["consent_grant", "consent_revoke"]
    page = staff.get("/privacy/workers/W-PRIVATE").get_data(as_text=True)
    assert "Rút lại" in page and "Đồng ý" in page


def test_revoked_consent_hides_the_worker_from_recruiters(app, staff, auth, client):
    csrf = _csrf(staff)
    staff.post("/privacy/workers/W-CONSENT/consent", data={"action": "revoke", "csrf_token": csrf})
    auth.as_user("reca")
    assert client.get("/api/workers/W-CONSENT").status_code == 404


def test_export_holds_everything_about_the_worker_and_is_audited(app, staff):
    assert staff.get("/privacy/workers/W-CONSENT").status_code == 200
    r = staff.get("/privacy/workers/W-CONSENT/export")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert 'attachment; filename="worker-W-CONSENT.json"' == r.headers["Content-Disposition"]
    data = json.loads(r.get_data(as_text=True))
    assert data["worker"]["full_name"] == "Nguyễn Văn Đức"
    assert data["worker"]["phone"] == PHONE and data["worker"]["national_id"] == NID  # it is the worker's own data
    assert [c["raw"] for c in data["certificates"]] == ["JLPT N4 (2025-07)"]
    assert [(a["order_id"], a["stage"]) for a in data["applications"]] == [("ORD-A1", "sent")]
    assert [e["to_stage"] for e in data["applications"][0]["events"]] == ["shortlisted", "sent"]
    assert {e["action"] for e in data["audit_events"]} >= {"view"}  # the privacy page view before it
    with get_store(app).session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "export", AuditEvent.entity_id == "W-CONSENT")) == 1


def test_erase_deletes_the_worker_and_children_and_audits_without_personal_data(app, staff):
    csrf = _csrf(staff)
    staff.post("/privacy/workers/W-CONSENT/consent", data={"action": "grant", "scope": "s", "csrf_token": csrf})
    assert staff.post("/privacy/workers/W-CONSENT/erase", data={"confirm": "W-OTHER", "csrf_token": csrf}).status_code == 400
    r = staff.post("/privacy/workers/W-CONSENT/erase", data={"confirm": "W-CONSENT", "csrf_token": csrf})
    assert r.status_code == 302
    with get_store(app).session() as s:
        assert s.get(Worker, "W-CONSENT") is None
        for model, col in ((LanguageCertificate, LanguageCertificate.worker_id), (Application, Application.worker_id),
                           (ConsentEvent, ConsentEvent.worker_id)):
            assert s.scalar(select(func.count()).select_from(model).where(col == "W-CONSENT")) == 0
        assert s.scalar(select(func.count()).select_from(StageEvent).where(StageEvent.application_id == 1)) == 0
        erasure = s.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
        assert (erasure.entity, erasure.entity_id, erasure.username) == ("worker", "W-CONSENT", "counsellor")
        assert erasure.detail == {"stage_events": 2, "applications": 1, "certificates": 1, "consent_events": 1, "notes": 0,
                                  "enrolments": 0, "pending_uploads": 0, "documents": 0}
        text = json.dumps(erasure.detail, ensure_ascii=False)
        assert "Nguyễn" not in text and PHONE not in text and NID not in text
    assert staff.get("/counsellor/workers/W-CONSENT").status_code == 404
    # the engine forgets the worker too (rebuilt from the database)
    ranking = staff.get("/api/orders/ORD-A1/matches?top=100").get_json()
    assert "W-CONSENT" not in {m["item_id"] for m in ranking["matches"]}


def test_cli_worker_export_and_erase(app, tmp_path, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", get_store(app).url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    out = tmp_path / "w.json"
    assert main(["worker", "export", "W-PRIVATE", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["worker"]["full_name"] == "Hoàng Thị Mai"
    assert main(["worker", "erase", "W-PRIVATE"]) == 2  # --yes is required
    assert main(["worker", "erase", "W-PRIVATE", "--yes"]) == 0
    assert main(["worker", "erase", "W-PRIVATE", "--yes"]) == 1
    with get_store(app).session() as s:
        assert s.get(Worker, "W-PRIVATE") is None
        assert [e.username for e in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("export", "erase"))))] == ["cli", "cli"]
    printed = capsys.readouterr()
    assert "0987654321" not in printed.out + printed.err


def test_phone_and_national_id_stay_out_of_lists_logs_and_the_audit_log(app, staff, caplog):
    caplog.set_level(logging.DEBUG)
    listing = staff.get("/counsellor/workers").get_data(as_text=True)
    api = staff.get("/api/workers?limit=500").get_data(as_text=True)
    for text in (listing, api):
        assert PHONE not in text and NID not in text and "*******678" in text
    page, = [staff.get("/counsellor/workers/W-CONSENT/edit").get_data(as_text=True)]
    import re

    fields = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    r = staff.post("/counsellor/workers/W-CONSENT/edit", data={
        **fields, "phone": "0911222333", "gender": "male", "education": "upper_secondary", "language_training": "basic",
        "consent_share": "true", "csrf_token": csrf_of(page), "version_id": version})
    assert r.status_code == 302
    with get_store(app).session() as s:
        details = json.dumps([e.detail for e in s.scalars(select(AuditEvent))], ensure_ascii=False)
        update = s.scalars(select(AuditEvent).where(AuditEvent.action == "update", AuditEvent.entity_id == "W-CONSENT")).one()
    assert "phone" in update.detail["fields"]  # which field changed, not its value
    for secret in (PHONE, NID, "0911222333"):
        assert secret not in details
        assert secret not in caplog.text


def test_every_view_of_a_personal_profile_is_audited(app, staff, auth, client):
    for path in ("/counsellor/workers/W-CONSENT", "/privacy/workers/W-CONSENT", "/api/workers/W-CONSENT"):
        assert staff.get(path).status_code == 200
    auth.as_user("reca")
    assert client.get("/api/workers/W-CONSENT").status_code == 200
    with get_store(app).session() as s:
        views = s.scalars(select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.entity_id == "W-CONSENT")
                          .order_by(AuditEvent.id)).all()
    assert [(e.username, e.detail.get("page")) for e in views] == [
        ("counsellor", "profile"), ("counsellor", "privacy"), ("counsellor", "api"), ("reca", "api")]
