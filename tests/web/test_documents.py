"""Documents with expiry (issue 17): a scan is checked by content and size, kept with mode 600,
downloaded only by staff (audited), listed in the to-do list before it expires, and erased with
the worker."""

from __future__ import annotations

import datetime as dt
import io
import stat

from sqlalchemy import select

from models import AuditEvent, WorkerDocument
from web.views.db import get_store
from web.services.documents import document_dir
from webtesting import csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _add(client, page, **fields):
    data = {"csrf_token": csrf_of(page), "kind": "passport", "number": "C1234567", "issued_on": "01/02/2020",
            "expires_on": "01/04/2026", **fields}
    return client.post("/counsellor/workers/W-CONSENT/documents", data=data, content_type="multipart/form-data")


def test_a_scan_is_kept_privately_served_to_staff_and_listed_before_it_expires(app, client, auth):
    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    r = _add(client, page, file=(io.BytesIO(PDF), "ho-chieu.pdf"))
    assert r.status_code == 302, r.get_data(as_text=True)
    with get_store(app).session() as s:
        doc = s.scalars(select(WorkerDocument)).one()
        path = document_dir(app.instance_path) / doc.stored_name
        assert path.read_bytes() == PDF and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert "ho-chieu" not in doc.stored_name  # never the name the browser gave
    got = client.get(f"/counsellor/documents/{doc.id}")
    assert got.status_code == 200 and got.data == PDF and got.headers["Content-Type"] == "application/pdf"
    assert "attachment" in got.headers["Content-Disposition"] and got.headers["X-Content-Type-Options"] == "nosniff"
    todo = client.get("/counsellor/todo").get_data(as_text=True)
    assert "Hộ chiếu C1234567 của Nguyễn Văn Đức hết hạn ngày 01/04/2026" in todo
    worker = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    assert "sắp hết hạn" in worker.split('id="doc-', 1)[1]
    with get_store(app).session() as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == "W-CONSENT")))
        assert {"document_upload", "document_view"} <= actions
    auth.as_user("reca")
    assert client.get(f"/counsellor/documents/{doc.id}").status_code == 403


def test_bad_scans_and_dates_are_refused_and_nothing_is_kept(app, client, auth, monkeypatch):
    import web.views.documents

    monkeypatch.setattr(web.views.documents, "MAX_BYTES", 1000)
    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    fake = _add(client, page, file=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "scan.pdf"))
    assert fake.status_code == 422 and "Chỉ nhận bản chụp PDF, JPEG hoặc PNG" in fake.get_data(as_text=True)
    big = _add(client, page, file=(io.BytesIO(PDF + b"0" * 2000), "big.pdf"))
    assert big.status_code == 422 and "Tệp quá lớn" in big.get_data(as_text=True)
    dates = _add(client, page, issued_on="01/01/2025", expires_on="31/12/2024", number="C7654321")
    body = dates.get_data(as_text=True)
    assert dates.status_code == 422 and "Ngày hết hạn phải sau ngày cấp" in body and 'value="C7654321"' in body
    with get_store(app).session() as s:
        assert s.scalars(select(WorkerDocument)).all() == []
    assert list(document_dir(app.instance_path).iterdir()) == []


def test_documents_are_erased_with_the_worker(app, client, auth):
    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-PRIVATE").get_data(as_text=True)
    r = client.post("/counsellor/workers/W-PRIVATE/documents", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(page), "kind": "health_check", "expires_on": "01/09/2026",
        "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"x" * 100), "kham.png")})
    assert r.status_code == 302
    from web.services.privacy import erase_worker

    with get_store(app).session() as s:
        counts = erase_worker(s, "W-PRIVATE", "admin", app.instance_path)
        s.commit()
        assert counts["documents"] == 1 and s.scalars(select(WorkerDocument)).all() == []
    assert list(document_dir(app.instance_path).iterdir()) == []
