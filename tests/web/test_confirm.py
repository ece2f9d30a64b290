"""Destructive buttons ask first (issue 18), through one script file the Content-Security-Policy
allows; the print stylesheet lets the summary flow instead of cutting it at 270 mm."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def test_destructive_forms_carry_a_question_and_the_script_is_served(staff, auth, client):
    privacy = staff.get("/privacy/workers/W-CONSENT").get_data(as_text=True)
    assert re.search(r'<button type="submit" class="danger" id="erase" data-confirm="Xóa vĩnh viễn[^"]+Không thể hoàn tác', privacy)
    assert re.search(r'id="revoke-consent" data-confirm="[^"]*rút lại sự đồng ý', privacy)
    assert '<script src="/static/confirm.js" defer></script>' in privacy
    profile = staff.get("/counsellor/workers/W-CONSENT").get_data(as_text=True)
    assert "confirm.js" in profile
    assert "<script" not in staff.get("/counsellor/workers").get_data(as_text=True)  # no JavaScript elsewhere
    assert re.search(r'<select id="to-1"[^>]*data-confirm-values="rejected withdrawn" data-confirm="Kết thúc', profile)
    with staff.get("/static/confirm.js") as script:
        assert script.status_code == 200 and b"window.confirm" in script.data and b"data-confirm-values" in script.data
        assert "script-src 'self'" in script.headers.get("Content-Security-Policy", "")
    auth.logout()
    auth.login("admin")
    recruiter = client.get("/admin/recruiters/REC-A").get_data(as_text=True)
    assert re.search(r'<select id="status" name="status" data-confirm-values="suspended revoked" data-confirm="Đình chỉ', recruiter)
    board = client.get("/counsellor/orders/ORD-A1/board").get_data(as_text=True)
    assert re.search(r'<select id="board-to" name="to" data-confirm-values="rejected withdrawn" data-confirm="Kết thúc', board)
    assert "confirm.js" in board
    auth.logout()
    auth.login("reca")
    order = client.get("/recruiter/orders/ORD-A1").get_data(as_text=True)
    assert re.search(r'id="close-order" data-confirm="Đóng đơn hàng\?', order)
    assert re.search(r'<select id="to-1" name="to" data-confirm-values="rejected withdrawn" data-confirm="Kết thúc', order)


def test_print_stylesheet_lets_the_summary_flow(client):
    with client.get("/static/print.css") as response:
        css = response.get_data(as_text=True)
    assert "270mm" not in css and "overflow: hidden" not in css
    assert "thead { display: table-header-group; }" in css
    assert re.search(r"tr, li[^{]*\{ break-inside: avoid", css)


def test_disabling_a_user_asks_first_is_destructive_and_never_offered_on_ones_own_row(app, auth, client):
    """The administrator's "Vô hiệu hóa" is a red button that asks first (confirm.js); their own row
    has none, and the server refuses it anyway; a new user's role is preselected as the least
    powerful one and a form without a role creates nobody."""
    from sqlalchemy import func, select

    from models import User
    from web.views.db import get_store
    from webtesting import csrf_of

    auth.login("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    with get_store(app).session() as s:
        ids = {u.username: u.id for u in s.scalars(select(User))}
        before = s.scalar(select(func.count()).select_from(User))
    assert '<script src="/static/confirm.js" defer></script>' in html
    counsellor = ids["counsellor"]
    assert re.search(rf'<button class="danger" type="submit" id="disable-{counsellor}" data-confirm="Vô hiệu hóa tài '
                     r'khoản counsellor\? Người này bị đăng xuất ngay', html)
    assert f'id="disable-{ids["admin"]}"' not in html  # not on one's own row
    assert len(re.findall(r'id="disable-\d+"', html)) == len(ids) - 1
    refused = client.post(f"/admin/users/{ids['admin']}/active", data={"csrf_token": csrf_of(html), "active": "false"})
    assert refused.status_code == 400 and "Bạn không thể tự vô hiệu hóa" in refused.get_data(as_text=True)
    assert re.search(r'<option value="recruiter"\s+selected', html)  # the least powerful role
    no_role = client.post("/admin/users", data={"csrf_token": csrf_of(html), "username": "moi",
                                                "password": "a-good-password-2026"})
    assert no_role.status_code == 422 and "Vai trò phải là một trong" in no_role.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.get(User, ids["admin"]).active is True
        assert s.scalar(select(func.count()).select_from(User)) == before


def test_every_button_that_asks_is_styled_destructive_and_its_page_loads_the_script():
    """Issue 18: destructive buttons styled as such ("Xóa vĩnh viễn" was an ordinary blue button):
    a button with data-confirm is a .danger button, and a page holding one (itself or through a
    partial it includes) sets `confirm = true`, so confirm.js is loaded."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    sources = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.html")}
    asking = {name for name, text in sources.items() if "data-confirm=" in text}
    assert {"admin/users.html", "privacy/worker.html", "recruiter/order.html"} <= asking
    for name in asking:
        for button in re.findall(r"<button[^>]*data-confirm=[^>]*>", sources[name]):
            assert re.search(r'class="[^"]*\bdanger\b', button), (name, button)
    for name in asking:
        if not Path(name).name.startswith("_"):
            pages = [name]
        else:  # a partial: the pages that include it, or call one of its macros that asks
            macros = [m for m, body in re.findall(r"{% macro (\w+)\((.*?){% endmacro %}", sources[name], re.S)
                      if "data-confirm=" in body]
            pages = [p for p, text in sources.items()
                     if f'include "{name}"' in text
                     or (f'from "{name}" import' in text and any(re.search(rf"\b{m}\(", text) for m in macros))]
        assert pages, name
        for page in pages:
            assert "{% set confirm = true %}" in sources[page], (name, page)
