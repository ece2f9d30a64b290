"""Licence verification (issue 13, DOMAIN.md fraud sign 3): a look-alike enterprise with the
same licence number holds both out, the administrator's queue lists them, and verifying the
genuine one in the admin UI releases its orders in the next ranking without a restart."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEvent, Recruiter
from web.views.db import get_store
from webtesting import csrf_of


def _add_look_alike(app):
    with get_store(app).session() as s:
        s.add(Recruiter(recruiter_id="REC-X", name="Cong ty CP Nhan luc Quoc te An Binh", licence_no="101/LDTBXH-GP",
                        status="active", markets=["JP"], website="anbinh-jobs.com", extra={}))
        s.commit()


def test_verifying_the_genuine_enterprise_releases_its_orders(app, client, auth):
    auth.as_user("counsellor")
    assert 'id="match-ORD-A1"' in client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    _add_look_alike(app)
    page = client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' not in page  # both holders are held out

    auth.as_user("admin")
    listing = client.get("/admin/recruiters").get_data(as_text=True)
    queue = listing.split('id="licence-queue"', 1)[1].split("</section>", 1)[0]
    assert "Cần xác minh giấy phép" in listing and "REC-A" in queue and "REC-X" in queue
    assert "không phải .vn" in queue
    with get_store(app).session() as s:
        version = s.get(Recruiter, "REC-A").version_id
    r = client.post("/admin/recruiters/REC-A/verify",
                    data={"csrf_token": csrf_of(listing), "version_id": version, "next": "list"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert r.headers["Location"].endswith("/admin/recruiters"), r.headers["Location"]
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is not None
    after = client.get("/admin/recruiters").get_data(as_text=True)
    queue = after.split('id="licence-queue"', 1)[1].split("</section>", 1)[0] if 'id="licence-queue"' in after else ""
    assert "REC-A" not in queue and "REC-X" not in queue
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is not None
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "licence_verified")).all()

    auth.as_user("counsellor")
    page = client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in page
    blocked = client.get("/counsellor/blocked").get_data(as_text=True)
    assert "REC-X" not in blocked or "An Binh" in blocked  # the look-alike has no orders to list


def test_verify_refuses_a_future_date_and_a_stale_form(app, client, auth):
    auth.as_user("admin")
    page = client.get("/admin/recruiters/REC-A").get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    bad = client.post("/admin/recruiters/REC-A/verify",
                      data={"csrf_token": csrf_of(page), "version_id": version, "verified_on": "2999-01-01"})
    assert bad.status_code == 400 and "tương lai" in bad.get_data(as_text=True)
    stale = client.post("/admin/recruiters/REC-A/verify",
                        data={"csrf_token": csrf_of(page), "version_id": int(version) + 5})
    assert stale.status_code == 409


REGISTER = (
    "licence_no,name,licence_date,status\n"
    "101/LĐTBXH-GP,{name},15/03/2019,còn hiệu lực\n"
)


def _upload(client, page, text, name="register.csv"):
    import io

    return client.post("/admin/recruiters/register",
                       data={"csrf_token": csrf_of(page), "file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data")


def test_the_regulator_list_uploaded_in_the_admin_ui_verifies_and_releases(app, client, auth):
    _add_look_alike(app)
    with get_store(app).session() as s:
        genuine = s.get(Recruiter, "REC-A").name
    auth.as_user("counsellor")
    assert 'id="match-ORD-A1"' not in client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)
    auth.as_user("admin")
    page = client.get("/admin/recruiters/register").get_data(as_text=True)
    r = _upload(client, page, REGISTER.format(name=genuine))
    body = r.get_data(as_text=True)
    assert r.status_code == 200, body
    assert 'id="verified-count">1<' in body
    assert 'id="mismatch-REC-X"' in body and "mạo danh" in body  # same number, look-alike name
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is not None
        assert s.get(Recruiter, "REC-X").licence_verified_on is None
        check = s.scalars(select(AuditEvent).where(AuditEvent.action == "licence_register_check")).one()
        assert check.detail["verified"] == ["REC-A"]
    auth.as_user("counsellor")
    assert 'id="match-ORD-A1"' in client.get("/counsellor/workers/W-CONSENT/matches?top=50").get_data(as_text=True)


def test_a_register_file_with_errors_changes_nothing(app, client, auth):
    auth.as_user("admin")
    page = client.get("/admin/recruiters/register").get_data(as_text=True)
    r = _upload(client, page, REGISTER.format(name="Công ty A") + "x,,31/02/2020,maybe\n")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Không thay đổi gì" in body and "dòng 3, cột name" in body and "row 3, column status" in body
    wrong = _upload(client, page, "not a register", name="list.xlsx")
    assert wrong.status_code == 422 and "Chỉ nhận tệp .csv" in wrong.get_data(as_text=True)
    assert "list.xlsx: không phải bảng tính .xlsx" in wrong.get_data(as_text=True)  # why, in the importer's words
    with get_store(app).session() as s:
        assert s.get(Recruiter, "REC-A").licence_verified_on is None


def test_look_alike_signs_show_on_the_enterprise_and_its_orders(app, client, auth):
    with get_store(app).session() as s:
        genuine = s.get(Recruiter, "REC-A")
        genuine.licence_verified_on = genuine.licence_date or __import__("datetime").date(2026, 1, 5)
        b = s.get(Recruiter, "REC-B")
        b.name, b.website = genuine.name.upper() + " VIỆT", "https://rec-b-jobs.com/"
        s.commit()
        b_order = next(o.order_id for o in b.orders)
    auth.as_user("admin")
    page = client.get("/admin/recruiters/REC-B").get_data(as_text=True)
    signs = page.split('id="look-alike-signs"', 1)[1].split("</section>", 1)[0]
    assert 'data-code="look_alike_name"' in signs and "REC-A" in signs
    assert 'data-code="website_not_vn"' in signs and "rec-b-jobs.com" in signs
    listing = client.get("/admin/recruiters").get_data(as_text=True)
    row = listing.split('id="signs-REC-B"', 1)[1].split("</td>", 1)[0]
    assert "sign-look_alike_name" in row and "sign-website_not_vn" in row
    assert 'id="signs-REC-A"></td>' in listing  # the verified original carries no sign
    auth.as_user("counsellor")
    order_page = client.get(f"/counsellor/orders/{b_order}").get_data(as_text=True)
    assert "gần giống tên doanh nghiệp đã xác minh" in order_page and "không thuộc tên miền .vn" in order_page
