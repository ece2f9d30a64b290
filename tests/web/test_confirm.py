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
    assert re.search(r'<button type="submit" class="danger" id="erase" data-confirm="Xoá vĩnh viễn[^"]+Không thể hoàn tác', privacy)
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
