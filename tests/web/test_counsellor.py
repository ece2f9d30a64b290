"""Counsellor pages: search, profiles with validation and optimistic locking, import with
preview, matches with reasons, shortlist and stage moves, summary, allocation, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Application, AuditEvent, Worker
from web.views.db import get_store
from webtesting import csrf_of

NEW_WORKER = {
    "full_name": "Lục Văn Sáng",
    "birth_date": "1999-04-02",
    "gender": "male",
    "commune": "Xã Quảng Uyên",
    "ethnicity": "Nùng",
    "education": "lower_secondary",
    "skills": "xây dựng; cốp pha",
    "experience": "thợ xây: 2",
    "languages": "JLPT N5 (2025-12)",
    "language_training": "basic",
    "preferred_countries": "JP",
    "min_wage_vnd": "12.000.000",
    "consent_share": "true",
    "phone": "0911222333",
}


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _form_page(client, url):
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page)
    return page, csrf_of(page), version.group(1) if version else None


def _audits(app, action, entity_id=None):
    with get_store(app).session() as s:
        q = select(AuditEvent).where(AuditEvent.action == action)
        if entity_id:
            q = q.where(AuditEvent.entity_id == entity_id)
        return s.scalars(q).all()


@pytest.mark.parametrize("query", ["Đức", "duc", "NGUYEN VAN", "hop giang", "0912345678", "hàn điện", "han dien"])
def test_search_is_diacritics_insensitive(staff, query):
    page = staff.get("/counsellor/workers", query_string={"q": query}).get_data(as_text=True)
    assert "W-CONSENT" in page, query


def test_create_profile_with_errors_beside_the_fields(app, staff):
    page, csrf, _ = _form_page(staff, "/counsellor/workers/new")
    bad = staff.post("/counsellor/workers/new", data={**NEW_WORKER, "birth_date": "31/02/1999", "phone": "12",
                                                      "experience": "thợ xây", "languages": "JLPT N9",
                                                      "full_name": "", "csrf_token": csrf})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for field, message in (
        ("birth_date", "Cần một ngày dạng NN/TT/NNNN"),
        ("phone", "Số điện thoại không hợp lệ"),
        ("experience", "nghề: số năm"),
        ("languages", "Không đọc được chứng chỉ"),
        ("full_name", "Bắt buộc nhập"),
    ):
        assert re.search(rf'id="e-{field}"[^>]*>[^<]*{re.escape(message)}', html), field
    assert 'value="Xã Quảng Uyên"' in html  # what was typed is kept
    good = staff.post("/counsellor/workers/new", data={**NEW_WORKER, "csrf_token": csrf})
    assert good.status_code == 302
    wid = good.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"W\d{5}", wid), wid  # the form and sequence of the imported ids (W00001...), issue 18
    with get_store(app).session() as s:
        before = max(int(i[1:]) for i in s.scalars(select(Worker.worker_id)) if re.fullmatch(r"W\d{5}", i) and i != wid)
        assert int(wid[1:]) == before + 1
        w = s.get(Worker, wid)
        assert (w.full_name, w.min_wage_vnd, w.consent_share) == ("Lục Văn Sáng", 12_000_000, True)
        assert [c.raw for c in w.certificates] == ["JLPT N5 (2025-12)"]
        assert w.experience == [{"occupation": "thợ xây", "years": 2.0}]
        assert w.consent_date is not None
    # The new worker is ranked at once (the engine was updated, not rebuilt from scratch).
    assert staff.get(f"/counsellor/workers/{wid}/matches").status_code == 200


def test_edit_conflict_is_reported_and_nothing_is_overwritten(app, staff, client):
    page, csrf, version = _form_page(staff, "/counsellor/workers/W-CONSENT/edit")
    fields = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
    data = {**fields, "gender": "male", "education": "upper_secondary", "language_training": "basic",
            "consent_share": "true", "csrf_token": csrf, "version_id": version}
    # Another counsellor saves first.
    first = staff.post("/counsellor/workers/W-CONSENT/edit", data={**data, "commune": "Phường Sông Hiến"})
    assert first.status_code == 302
    # The stale form is refused with a clear message, and the first save stands.
    stale = staff.post("/counsellor/workers/W-CONSENT/edit", data={**data, "commune": "Xã Trùng Khánh"})
    assert stale.status_code == 409
    assert "vừa được người khác lưu" in stale.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(Worker, "W-CONSENT").commune == "Phường Sông Hiến"


def test_profile_views_are_audited_and_lists_mask(app, staff):
    for path in ("/counsellor/workers/W-PRIVATE", "/counsellor/workers/W-PRIVATE/edit",
                 "/counsellor/workers/W-PRIVATE/summary", "/counsellor/workers/W-PRIVATE/matches"):
        assert staff.get(path).status_code == 200
    pages = sorted(e.detail["page"] for e in _audits(app, "view", "W-PRIVATE"))
    assert pages == ["edit", "matches", "profile", "summary"]
    assert all(e.username == "counsellor" for e in _audits(app, "view", "W-PRIVATE"))
    listing = staff.get("/counsellor/workers?q=mai").get_data(as_text=True)
    assert "0987654321" not in listing and "004198009999" not in listing


def test_matches_show_reasons_gaps_and_blocked_orders(staff):
    html = staff.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in html and 'id="match-ORD-BX"' not in html
    assert "Vì sao phù hợp" in html and "Điểm theo từng yếu tố" in html
    blocked = html.split('id="blocked"', 1)[1]
    assert "ORD-BX" in blocked and "môi giới" in blocked
    english = staff.get("/counsellor/workers/W-CONSENT/matches?lang=en").get_data(as_text=True)
    assert "Why it fits" in english


def test_shortlist_and_move_through_the_stages(app, staff):
    page = staff.get("/counsellor/workers/W-PRIVATE/matches").get_data(as_text=True)
    response = staff.post("/counsellor/shortlist", data={"worker_id": "W-PRIVATE", "order_id": "ORD-A2", "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    with get_store(app).session() as s:
        app_ = s.scalar(select(Application).where(Application.worker_id == "W-PRIVATE", Application.order_id == "ORD-A2"))
        aid, version = app_.id, app_.version_id
        assert app_.stage == "shortlisted"
    token = csrf_of(staff.get("/counsellor/workers/W-PRIVATE").get_data(as_text=True))
    for stage in ("sent", "interviewed", "selected", "departed"):
        r = staff.post(f"/counsellor/applications/{aid}/move", data={"to": stage, "version_id": version, "csrf_token": token})
        assert r.status_code == 302, stage
        with get_store(app).session() as s:
            version = s.get(Application, aid).version_id
    # A final stage cannot move; a stale version is refused.
    assert staff.post(f"/counsellor/applications/{aid}/move", data={"to": "withdrawn", "version_id": version, "csrf_token": token}).status_code == 409
    assert staff.post(f"/counsellor/applications/{aid}/move", data={"to": "rejected", "version_id": 1, "csrf_token": token}).status_code == 409
    with get_store(app).session() as s:
        a = s.get(Application, aid)
        assert a.stage == "departed"
        assert [e.to_stage for e in a.events] == ["shortlisted", "sent", "interviewed", "selected", "departed"]
        assert a.order.places_filled == 1


def test_a_blocked_order_cannot_be_shortlisted(staff):
    token = csrf_of(staff.get("/counsellor/workers/W-PRIVATE").get_data(as_text=True))
    r = staff.post("/counsellor/shortlist", data={"worker_id": "W-PRIVATE", "order_id": "ORD-BX", "csrf_token": token})
    assert r.status_code == 422
    assert "môi giới" in r.get_data(as_text=True)


def test_summary_has_a_print_stylesheet(staff):
    html = staff.get("/counsellor/workers/W-CONSENT/summary").get_data(as_text=True)
    assert 'href="/static/print.css" media="print"' in html
    assert "Tóm tắt hồ sơ" in html and "Đơn hàng phù hợp nhất" in html
    with staff.get("/static/print.css") as css:
        assert css.status_code == 200 and b"@page" in css.data


CSV_OK = (
    "worker_id,full_name,birth_date,commune,skills,consent_share,phone\n"
    "W-IMP1,Bế Thị Hoa,2000-01-02,Xã Bảo Lạc,may công nghiệp,true,0911000111\n"
    "W-IMP2,Đàm Văn Quý,1997-09-30,Xã Hà Quảng,hàn,false,\n"
)
CSV_BAD = CSV_OK + "W-IMP3,Ma Văn Tú,30/02/1998,Xã Thạch An,,,\n"


def _upload(client, data: bytes, name: str, kind: str = "workers"):
    import io

    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    return client.post("/counsellor/import", data={"kind": kind, "csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_import_preview_then_all_or_nothing_then_partial(app, staff):
    preview = _upload(staff, CSV_BAD.encode(), "workers.csv")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "W-IMP1" in html and "W-IMP3" in html and "Dòng 4" in html
    token = re.search(r'/counsellor/import/([\w-]+)"', html).group(1)
    csrf = csrf_of(html)
    with get_store(app).session() as s:
        assert s.get(Worker, "W-IMP1") is None  # the preview stores nothing
    refused = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "Không lưu dòng nào" in refused.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(Worker, "W-IMP1") is None
    # The upload is consumed; upload again and store the good rows.
    html = _upload(staff, CSV_BAD.encode(), "workers.csv").get_data(as_text=True)
    token = re.search(r'/counsellor/import/([\w-]+)"', html).group(1)
    done = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html), "partial": "true"})
    assert done.status_code == 200 and "2 thêm mới" in done.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(Worker, "W-IMP1").full_name == "Bế Thị Hoa" and s.get(Worker, "W-IMP3") is None
    assert [e.detail["created"] for e in _audits(app, "import")] == [2]
    # The imported worker is found by the search and ranked.
    assert "W-IMP1" in staff.get("/counsellor/workers?q=be thi hoa").get_data(as_text=True)
    assert staff.get("/counsellor/workers/W-IMP1/matches").status_code == 200


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (b"MZ\x90\x00binary", "virus.exe", 415, "virus.exe: có phần mở rộng &#39;.exe&#39;; chỉ nhận tệp .csv"),
        (b"PK\x03\x04", "fake.csv", 415, "không khớp"),
        (b"not a zip", "book.xlsx", 415, "không khớp"),
        ("họ tên".encode("utf-16"), "utf16.csv", 422, "UTF-8"),
        (b"", "empty.csv", 422, "empty.csv: tệp rỗng"),
    ],
)
def test_upload_type_checks(staff, data, name, status, message):
    response = _upload(staff, data, name)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_upload_size_limit(db_url, tmp_path):
    from webtesting import AuthActions, make_app

    app = make_app(db_url, tmp_path, max_upload_mb=1)
    client = app.test_client()
    AuthActions(client).login("counsellor")
    from werkzeug.test import encode_multipart

    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    # Encoded in memory: werkzeug's builder would spool a body this large to a temporary file.
    boundary, body = encode_multipart({"kind": "workers", "csrf_token": token})
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + b"worker_id\n" + b"x" * (1024 * 1024 + 10) + b"\r\n"
    body = body[: -len(f"--{boundary}--\r\n")] + part + f"--{boundary}--\r\n".encode()
    with client.post("/counsellor/import", data=body,
                     content_type=f"multipart/form-data; boundary={boundary}") as response:
        assert response.status_code == 413
        assert "Tệp quá lớn" in response.get_data(as_text=True)
    get_store(app).dispose()


def test_recruiters_cannot_import_and_counsellors_only_workers(staff):
    response = _upload(staff, CSV_OK.encode(), "orders.csv", kind="orders")
    assert response.status_code == 400


def test_allocation_review_then_accept(app, staff):
    page = staff.get("/counsellor/allocation").get_data(as_text=True)
    result = staff.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "40"})
    assert result.status_code == 200
    html = result.get_data(as_text=True)
    pairs = re.findall(r'name="pair" value="([^"]+)"', html)
    assert pairs, "the allocation proposed no pair"
    workers = [p.split("|")[0] for p in pairs]
    assert len(workers) == len(set(workers))  # one order per worker
    assert "W-CONSENT" not in workers  # already has an open application
    with get_store(app).session() as s:
        assert s.scalar(select(Application).where(Application.worker_id == workers[0])) is None  # nothing stored yet
    accepted = staff.post("/counsellor/allocation/accept", data={"csrf_token": csrf_of(html), "pair": pairs[:3]})
    assert accepted.status_code == 302
    with get_store(app).session() as s:
        stored = {(a.worker_id, a.order_id) for a in s.scalars(select(Application).where(Application.stage == "shortlisted"))}
    assert {tuple(p.split("|")) for p in pairs[:3]} <= stored


def test_blocked_page_lists_the_brokerage_order(staff):
    html = staff.get("/counsellor/blocked").get_data(as_text=True)
    assert 'id="blocked-ORD-BX"' in html
    assert 'id="blocked-ORD-A1"' not in html
