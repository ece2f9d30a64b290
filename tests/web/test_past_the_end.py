"""A page number past the end of a list shows its last page, not an empty table under a
non-zero count (issue 18; the audit log did so already): the worker search, the counsellor's
order list and the workers behind a training need."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def _table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def _ids(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


@pytest.mark.parametrize(
    "url, table, pattern",
    [
        ("/counsellor/workers", "workers", r'href="/counsellor/workers/([^"/]+)"'),
        ("/counsellor/orders", "orders", r'href="/counsellor/orders/([^"/?]+)"'),
    ],
)
def test_a_page_past_the_end_shows_the_last_page(staff, url, table, pattern):
    first = staff.get(url).get_data(as_text=True)
    m = re.search(r"Trang 1 / (\d+)", first)
    assert m, "the seeded lists span more than one page"
    last = int(m.group(1))
    assert last >= 2
    expected = staff.get(f"{url}?page={last}").get_data(as_text=True)
    for asked in (last + 1, 99999, 10**30):
        got = staff.get(f"{url}?page={asked}")
        assert got.status_code == 200
        html = got.get_data(as_text=True)
        assert f"Trang {last} / {last}" in html
        rows = _ids(_table(html, table), pattern)
        assert rows == _ids(_table(expected, table), pattern) and rows, asked


def test_page_of_clamps_to_the_last_page(app):
    from web.views.params import page_of

    for query, total, expected in (("", 60, (1, 3)), ("?page=2", 60, (2, 3)), ("?page=9", 60, (3, 3)),
                                   ("?page=9", 0, (1, 1)), ("?page=x", 10, (1, 1)), ("?page=-3", 60, (1, 3))):
        with app.test_request_context(f"/{query}"):
            assert page_of(total, 25) == expected, query


def test_a_need_page_past_the_end_lists_its_workers(staff):
    needs = staff.get("/intel/needs").get_data(as_text=True)
    key = re.search(r'href="/intel/needs/([^"?]+)"', needs).group(1)
    pattern = r'href="/counsellor/workers/([^"/]+)"'
    first = _ids(_table(staff.get(f"/intel/needs/{key}").get_data(as_text=True), "need-workers"), pattern)
    past = _ids(_table(staff.get(f"/intel/needs/{key}?page=99999").get_data(as_text=True), "need-workers"), pattern)
    assert past and (past == first or not set(past) & set(first))  # the last page, never an empty one
