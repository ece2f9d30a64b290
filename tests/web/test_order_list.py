"""Every list of orders shows each order's legality (legal and open, blocked with its reason,
not open with its reason); the counsellor's order list searches, filters and paginates."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import JobOrder
from web.views.db import get_store
from webtesting import TODAY, legal_order


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _row(html: str, oid: str) -> str:
    m = re.search(rf'<tr id="order-{re.escape(oid)}">(.*?)</tr>', html, re.S)
    assert m, f"{oid} not listed"
    return m.group(1)


def _all(client, query: str) -> str:
    """Every page of the counsellor's order list for ``query``, following the pager."""
    bodies, page = [], 1
    while True:
        response = client.get(f"/counsellor/orders?{query}&page={page}")
        assert response.status_code == 200
        bodies.append(response.get_data(as_text=True))
        if "»</a>" not in bodies[-1]:
            return "".join(bodies)
        page += 1


def _ids(html: str) -> list[str]:
    return re.findall(r'<tr id="order-([^"]+)">', html)


def _add_late_order(app) -> None:
    """An order still marked open whose deadline has passed: not open, though legal."""
    with get_store(app).session() as s:
        s.add(JobOrder(order_id="ORD-LATE", recruiter_id="REC-A", approval_no="L1/2026/DOLAB", **legal_order(
            title="Thợ mộc xây dựng", deadline=TODAY - dt.timedelta(days=3))))
        s.commit()


def test_badges_blocked_not_open_and_open(app, staff):
    _add_late_order(app)
    html = _all(staff, "status=all")
    blocked = _row(html, "ORD-BX")
    assert 'class="badge blocked"' in blocked and "Đang tuyển" not in blocked
    assert "môi giới" in blocked  # the reason is named
    late = _row(html, "ORD-LATE")
    assert "Không mở tuyển" in late and "Đang tuyển" not in late
    assert "hạn" in late  # the deadline reason
    legal = _row(html, "ORD-A1")
    assert 'class="badge open"' in legal and "Đang tuyển" in legal


def test_search_is_whole_word_and_diacritics_insensitive(staff):
    html = _all(staff, "status=all&q=tho+han")
    assert {"ORD-A1", "ORD-BX"} <= set(_ids(html))
    assert "ORD-A2" not in _ids(html) and "ORD-B1" not in _ids(html)
    by_recruiter = _ids(_all(staff, "status=all&q=B%E1%BA%AFc+S%C6%A1n"))
    assert {"ORD-B1", "ORD-BX"} <= set(by_recruiter) and "ORD-A1" not in by_recruiter
    # "ha" is not a whole word of "hàn": nothing of the seeded orders matches
    assert "ORD-A1" not in _ids(_all(staff, "status=all&q=ha"))


def test_filters_country_programme_status_legality(app, staff):
    _add_late_order(app)
    tw = _ids(_all(staff, "status=all&country=tw"))
    assert {"ORD-A2", "ORD-B1"} <= set(tw) and "ORD-A1" not in tw
    titp = _ids(_all(staff, "status=all&programme=titp"))
    assert "ORD-A1" in titp and "ORD-A2" not in titp
    blocked_html = _all(staff, "status=all&legality=blocked")
    assert "ORD-BX" in _ids(blocked_html) and "ORD-A1" not in _ids(blocked_html)
    assert all('class="badge blocked"' in _row(blocked_html, oid) for oid in _ids(blocked_html))
    not_open = _ids(_all(staff, "status=all&legality=not_open"))
    assert "ORD-LATE" in not_open and "ORD-BX" not in not_open and "ORD-A1" not in not_open
    legal = _ids(_all(staff, "legality=open"))
    assert "ORD-A1" in legal and "ORD-BX" not in legal and "ORD-LATE" not in legal
    draft = _ids(_all(staff, "status=draft"))
    assert "ORD-A1" not in draft


def test_pagination_covers_every_order_once(app, staff):
    with get_store(app).session() as s:
        s.add_all(JobOrder(order_id=f"ORD-P{i:02d}", recruiter_id="REC-A", approval_no=f"P{i}/2026/DOLAB",
                           **legal_order(title=f"Công nhân bốcxếp {i}")) for i in range(30))
        s.commit()
    first = staff.get("/counsellor/orders?status=all&q=bocxep").get_data(as_text=True)
    assert len(_ids(first)) == 25 and "Số đơn hàng: 30" in first and "1 / 2" in first
    second = staff.get("/counsellor/orders?status=all&q=bocxep&page=2").get_data(as_text=True)
    assert len(_ids(second)) == 5
    assert sorted(_ids(first) + _ids(second)) == [f"ORD-P{i:02d}" for i in range(30)]
    # the pager keeps the search and filters
    assert "q=bocxep" in first and "status=all" in first


@pytest.mark.parametrize("query, status", [
    ("page=abc", 200), ("page=-3", 200), ("legality=evil", 200), ("status=x", 200),
    ("programme=%00", 400),  # a NUL character is refused everywhere (web.views.params.refuse_nul_bytes)
    ("country=%F0%9F%92%A9", 200), ("q=" + "a" * 5000, 200),
])
def test_bad_arguments_never_crash(staff, query, status):
    assert staff.get(f"/counsellor/orders?{query}").status_code == status


def test_recruiter_and_admin_lists_show_the_badge(client, auth):
    auth.as_user("recb")
    html = client.get("/recruiter/orders").get_data(as_text=True)
    assert 'class="badge blocked"' in _row(html, "ORD-BX")
    assert 'class="badge open"' in _row(html, "ORD-B1")
    auth.as_user("admin")
    html = client.get("/admin/recruiters/REC-B").get_data(as_text=True)
    assert 'class="badge blocked"' in html and "môi giới" in html
