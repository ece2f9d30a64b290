"""Recruiter pages (post/edit/close own orders, warnings before a blocked order is saved,
candidates), administrator pages (licence status, users, audit log) and the dashboard."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import JobOrder, LicenceStatusChange, Recruiter, User
from web.services.charts import bar_chart
from web.views.db import get_store
from webtesting import csrf_of

LEGAL = {
    "title": "Công nhân chế biến thực phẩm",
    "country": "TW",
    "programme": "general",
    "required_skills": "đóng gói; vận hành máy",
    "positions": "4",
    "monthly_wage": "30000",
    "wage_currency": "TWD",
    "contract_months": "36",
    "service_fee_vnd": "20.000.000",
    "brokerage_fee_vnd": "0",
    "approval_no": "R-77/2026/DOLAB",
    "approval_date": "2026-02-10",
    "deadline": "2026-05-30",
}


@pytest.fixture
def reca(auth, client):
    auth.login("reca")
    return client


def _post_order(client, data, url="/recruiter/orders/new"):
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page)
    extra = {"version_id": version.group(1)} if version else {}
    return client.post(url, data={**data, **extra, "csrf_token": csrf_of(page)})


def test_illegal_fee_is_refused_with_reasons_then_legal_order_saved(app, reca):
    illegal = _post_order(reca, {**LEGAL, "service_fee_vnd": "150000000"})
    assert illegal.status_code == 422
    html = illegal.get_data(as_text=True)
    assert "CHƯA được lưu" in html and "Tiền dịch vụ" in html
    assert 'id="confirm_blocked"' in html
    with get_store(app).session() as s:
        assert s.scalar(select(JobOrder).where(JobOrder.title == LEGAL["title"])) is None
    saved = _post_order(reca, LEGAL)
    assert saved.status_code == 302
    oid = saved.headers["Location"].rsplit("/", 1)[-1]
    with get_store(app).session() as s:
        o = s.get(JobOrder, oid)
        assert (o.recruiter_id, o.status, o.service_fee_vnd) == ("REC-A", "open", 20_000_000)
    page = reca.get(f"/recruiter/orders/{oid}").get_data(as_text=True)
    assert "Ứng viên phù hợp" in page


def test_confirmed_blocked_order_is_stored_as_a_draft_and_never_ranked(app, reca, auth, client):
    response = _post_order(reca, {**LEGAL, "brokerage_fee_vnd": "5000000", "confirm_blocked": "true"})
    assert response.status_code == 302
    oid = response.headers["Location"].rsplit("/", 1)[-1]
    with get_store(app).session() as s:
        assert s.get(JobOrder, oid).status == "draft"
    assert "môi giới" in reca.get(f"/recruiter/orders/{oid}").get_data(as_text=True)
    auth.login("counsellor")
    html = client.get("/counsellor/workers/W-CONSENT/matches?top=100").get_data(as_text=True)
    assert f'id="match-{oid}"' not in html


def test_missing_approval_warns(reca):
    response = _post_order(reca, {**LEGAL, "approval_no": "", "approval_date": ""})
    assert response.status_code == 422
    assert "chấp thuận" in response.get_data(as_text=True)


def test_form_validation_messages(reca):
    response = _post_order(reca, {**LEGAL, "positions": "", "country": "Japon", "min_age": "40", "max_age": "20"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="e-positions"[^>]*>Bắt buộc nhập', html)
    assert re.search(r'id="e-country"[^>]*>&#39;Japon&#39; không phải mã hay tên một nước', html)  # "Japan" would be read as JP
    assert re.search(r'id="e-max_age"[^>]*>Tuổi tối đa phải lớn hơn', html)


def test_edit_and_close_own_order_only(app, reca, auth, client):
    edited = _post_order(reca, {**LEGAL, "title": "Thợ hàn kết cấu (sửa)", "country": "JP", "programme": "titp",
                                "monthly_wage": "185000", "wage_currency": "JPY", "service_fee_vnd": "30000000",
                                "approval_no": "A1/2026/DOLAB"}, url="/recruiter/orders/ORD-A1/edit")
    assert edited.status_code == 302
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A1").title == "Thợ hàn kết cấu (sửa)"
    page = reca.get("/recruiter/orders/ORD-A1").get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    assert reca.post("/recruiter/orders/ORD-A1/close", data={"csrf_token": csrf_of(page), "version_id": version}).status_code == 302
    with get_store(app).session() as s:
        assert s.get(JobOrder, "ORD-A1").status == "closed"
    assert reca.get("/recruiter/orders/ORD-A1/edit").status_code == 409
    auth.login("recb")
    token = csrf_of(client.get("/recruiter/orders").get_data(as_text=True))
    assert client.post("/recruiter/orders/ORD-A2/close", data={"csrf_token": token, "version_id": "1"}).status_code == 404


def test_candidates_show_contacts_only_once_sent(reca):
    html = reca.get("/recruiter/orders/ORD-A1?top=50").get_data(as_text=True)
    card = html.split('id="cand-W-CONSENT"', 1)[1].split("</article>", 1)[0]
    assert "0912345678" in card  # application 1 is at "sent"
    html = reca.get("/recruiter/orders/ORD-A2?top=50").get_data(as_text=True)
    assert "0912345678" not in html and "*******678" in html
    assert "Hoàng Thị Mai" not in html


# ----------------------------------------------------------------------------- administrator


@pytest.fixture
def admin(auth, client):
    auth.login("admin")
    return client


def _change_status(client, rid, status, day="2026-03-01", reason="Quyết định số 15/QĐ-BNV"):
    page = client.get(f"/admin/recruiters/{rid}").get_data(as_text=True)
    version = re.search(r'name="version_id" value="(\d+)"', page).group(1)
    return client.post(f"/admin/recruiters/{rid}/status", data={
        "csrf_token": csrf_of(page), "version_id": version, "status": status, "effective_date": day, "reason": reason})


def test_revoking_a_licence_removes_its_orders_from_every_ranking(app, admin):
    before = admin.get("/counsellor/workers/W-CONSENT/matches?top=100").get_data(as_text=True)
    assert 'id="match-ORD-A1"' in before
    assert 'id="match-W-CONSENT"' in admin.get("/counsellor/orders/ORD-A2").get_data(as_text=True)
    assert _change_status(admin, "REC-A", "revoked").status_code == 302
    after = admin.get("/counsellor/workers/W-CONSENT/matches?top=100").get_data(as_text=True)
    assert 'id="match-ORD-A1"' not in after and 'id="match-ORD-A2"' not in after
    assert "thu hồi" in after.split('id="blocked"', 1)[1]
    order_page = admin.get("/counsellor/orders/ORD-A2").get_data(as_text=True)
    assert 'id="order-blocked"' in order_page and 'id="match-W-CONSENT"' not in order_page
    with get_store(app).session() as s:
        r = s.get(Recruiter, "REC-A")
        assert r.status == "revoked"
        change = s.scalar(select(LicenceStatusChange).where(LicenceStatusChange.recruiter_id == "REC-A"))
        assert (change.status, change.reason, change.changed_by) == ("revoked", "Quyết định số 15/QĐ-BNV", "admin")
    audit = admin.get("/admin/audit?action=licence_status").get_data(as_text=True)
    assert "REC-A" in audit and "Bị thu hồi" in audit  # the status named, not its code
    # Reinstating brings the orders back.
    assert _change_status(admin, "REC-A", "active", day="2026-03-02", reason="Khôi phục theo QĐ 16").status_code == 302
    assert 'id="match-ORD-A1"' in admin.get("/counsellor/workers/W-CONSENT/matches?top=100").get_data(as_text=True)


def test_status_change_needs_date_and_reason(admin):
    response = _change_status(admin, "REC-B", "suspended", day="", reason="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Cần một ngày" in html and "Hãy ghi lý do" in html


def test_admin_creates_users_and_disables_them(app, admin, auth):
    page = admin.get("/admin/users").get_data(as_text=True)
    bad = admin.post("/admin/users", data={"csrf_token": csrf_of(page), "username": "hoa", "password": "short",
                                           "role": "counsellor"})
    assert bad.status_code == 422 and "ít nhất 10 ký tự" in bad.get_data(as_text=True)
    common = admin.post("/admin/users", data={"csrf_token": csrf_of(page), "username": "hoa", "password": "Password2026",
                                              "role": "counsellor"})
    assert common.status_code == 422 and "quá phổ biến" in common.get_data(as_text=True)
    ok = admin.post("/admin/users", data={"csrf_token": csrf_of(page), "username": "hoa", "password": "long-password-1",
                                          "role": "recruiter", "recruiter_id": "REC-B", "full_name": "Đinh Thị Hoa"})
    assert ok.status_code == 302
    with get_store(app).session() as s:
        uid = s.scalar(select(User.id).where(User.username == "hoa"))
    assert admin.post(f"/admin/users/{uid}/active", data={"csrf_token": csrf_of(page), "active": "false"}).status_code == 302
    auth.logout()
    assert auth.login("hoa", "long-password-1").status_code == 401


def test_audit_log_filters(app, admin):
    admin.get("/counsellor/workers/W-PRIVATE")
    filtered = admin.get("/admin/audit?action=view&entity=worker&entity_id=W-PRIVATE&user=admin").get_data(as_text=True)
    rows = filtered.split('id="audit-table"', 1)[1]
    assert rows.count("<tr>") == 2  # header + one event
    assert "W-PRIVATE" in rows
    empty = admin.get("/admin/audit?date_from=2099-01-01").get_data(as_text=True)
    assert "Không có sự kiện" in empty
    assert admin.get("/admin/audit?date_from=yesterday").status_code == 422


# ----------------------------------------------------------------------------- dashboard


def test_dashboard_figures_charts_and_tables(app, admin):
    html = admin.get("/dashboard/").get_data(as_text=True)
    assert "150" in html and "100%" in html and "15%" in html
    assert html.count("<svg") >= 10
    assert html.count("<figure") == html.count("<table")  # every chart with its numbers
    assert "Đài Loan" in html  # open places by country
    assert "Thuê phí môi giới" not in html
    blocked = html.split("Đơn hàng bị chặn theo lý do", 1)[1] if "Đơn hàng bị chặn theo lý do" in html else html
    assert "Thu tiền môi giới" in blocked


def test_dashboard_counts_departures(app, admin):
    from web.services import stats
    from web.views.db import get_store as store_of

    token = csrf_of(admin.get("/counsellor/workers/W-CONSENT").get_data(as_text=True))
    from models import Application

    for stage in ("interviewed", "selected", "departed"):
        with store_of(app).session() as s:
            version = s.get(Application, 1).version_id
        assert admin.post("/counsellor/applications/1/move", data={"to": stage, "version_id": version, "csrf_token": token}).status_code == 302
    import datetime as dt

    from models.formatting import local_today

    with store_of(app).session() as s:
        period = stats.Period(dt.date(2000, 1, 1), local_today())
        place = stats.placements(s, period)
        lang = stats.language_training(s, period)
    assert (place["placed"], place["departed"]) == (1, 1)
    assert (lang["basis"], lang["total"], lang["basic_or_more"], lang["share_basic"]) == ("departed", 1, 1, 1.0)
    html = admin.get(f"/dashboard/?from=2000-01-01&to={local_today().isoformat()}").get_data(as_text=True)
    assert re.search(r'id="kpi-departed".*?1 / 150', html, re.S)
    assert admin.get("/dashboard/?from=2026-05-01&to=2026-01-01").status_code == 422


def test_bar_chart_is_plain_svg_without_style():
    svg = str(bar_chart([("Nhật Bản", 12), ("<script>", 3.5)], "Chỗ trống", target=10))
    assert svg.startswith("<svg") and "style" not in svg and "<script>" not in svg
    assert "&lt;script&gt;" in svg and "Nhật Bản" in svg and "3,5" in svg


def test_nobody_disables_themselves_and_new_users_default_to_the_least_powerful_role(app, admin):
    """Issue 18/14: the administrator's own row offers no "Vô hiệu hóa", the route refuses it, and
    the new-user form preselects the recruiter role, not the administrator."""
    import re

    from sqlalchemy import select

    from models import User

    html = admin.get("/admin/users").get_data(as_text=True)
    assert 'id="self-row"' in html
    with get_store(app).session() as s:
        me = s.scalar(select(User).where(User.username == "admin"))
        my_id = me.id
    assert f'/admin/users/{my_id}/active' not in html
    assert re.search(r'<option value="recruiter"\s+selected', html)
    assert not re.search(r'<option value="admin"\s+selected', html)
    refused = admin.post(f"/admin/users/{my_id}/active", data={"csrf_token": csrf_of(html), "active": "false"})
    assert refused.status_code == 400
    with get_store(app).session() as s:
        assert s.get(User, my_id).active is True


def test_audit_page_past_the_end_shows_the_last_page(admin):
    admin.get("/counsellor/workers/W-PRIVATE")
    html = admin.get("/admin/audit?page=99999999999999999999").get_data(as_text=True)
    assert "W-PRIVATE" in html and "Không có sự kiện" not in html
