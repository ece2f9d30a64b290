"""The allocation page with a priority floor: solved by the Lagrangian bonus, it says so and
states the proven bound on the optimum, in Vietnamese first."""

from __future__ import annotations

import re

from webtesting import AuthActions, csrf_of


def test_a_priority_floor_is_met_and_its_bound_shown(app):
    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    page = client.get("/counsellor/allocation").get_data(as_text=True)
    r = client.post("/counsellor/allocation", data={"csrf_token": csrf_of(page), "size": "60", "priority_share": "100"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:500]
    assert 'title="lagrangian (priority share)"' in html
    assert "Tối ưu có tỷ lệ tối thiểu người thuộc diện ưu tiên" in html
    m = re.search(r"tổng điểm tối ưu không vượt quá ([\d.,]+) \(chênh lệch tối đa ([\d.,]+)\)", html)
    assert m, html[html.find("allocation-summary"):][:600]
    total = re.search(r"tổng điểm ([\d.,]+) \(cách chọn", html).group(1)
    as_float = lambda s: float(s.replace(".", "").replace(",", "."))  # noqa: E731 - Vietnamese digits
    assert as_float(m.group(1)) >= as_float(total) - 0.01
