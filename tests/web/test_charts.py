"""Charts drawn for reading (issue 18): labels wrap instead of being cut, every month is shown,
places are grouped by the vocabulary's trade."""

from __future__ import annotations

import datetime as dt
import re

from web.services.charts import FONT, bar_chart, month_rows, wrap_label


def test_labels_wrap_on_two_lines_and_say_when_they_are_shortened():
    assert wrap_label("Công ty Cổ phần Nhân lực Quốc tế Bản Giốc", 22) == ["Công ty Cổ phần Nhân", "lực Quốc tế Bản Giốc"]
    long = wrap_label("Kinh nghiệm nghề / thi tay nghề (kỹ năng đặc định SSW) cho người đã về nước", 22)
    assert len(long) == 2 and long[-1].endswith("…")
    assert wrap_label("TITP", 22) == ["TITP"]


def test_the_svg_keeps_every_label_whole_in_its_title_and_uses_a_readable_font():
    label = "Kinh nghiệm nghề / thi tay nghề (kỹ năng đặc định SSW)"
    svg = str(bar_chart([(label, 3), ("Tiếng Nhật bậc A2", 5)], "x"))
    assert f"<title>{label}</title>" in svg
    sizes = {int(x) for x in re.findall(r'font-size="(\d+)"', svg)}
    assert min(sizes) >= 13 and FONT >= 14
    assert svg.count("<tspan") == 3  # the long label on two lines, the short one on one


def test_every_month_of_the_period_is_a_row():
    rows = month_rows({"2025-11": 4, "2026-02": 7}, dt.date(2025, 11, 5), dt.date(2026, 2, 1))
    assert rows == [("11/2025", 4), ("12/2025", 0), ("01/2026", 0), ("02/2026", 7)]


def test_open_places_add_up_by_trade_not_by_title(app):
    from models import JobOrder
    from web.services import stats
    from web.views.db import get_store
    from webtesting import legal_order

    with get_store(app).session() as s:
        s.add(JobOrder(order_id="ORD-W2", recruiter_id="REC-A", approval_no="W2/2026/DOLAB",
                       **legal_order(title="溶接 Thợ hàn bán tự động CO2 – Gifu")))
        s.commit()
        period = stats.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 2))
        by = dict(stats.open_places(s, period)["by_occupation"])
    assert any(k.lower() == "thợ hàn" and v >= 10 for k, v in by.items()), by


def test_every_chart_keeps_its_data_table_under_it(app, auth, client):
    """Issue 18: "The data table stays under each chart": each figure.chart on the pages with
    charts holds the drawing first and a table of the same figures after it (a reader, a screen
    reader or a printout without images still has the numbers)."""
    from webtesting import TODAY

    auth.login("admin")
    day = TODAY.isoformat()
    pages = ["/dashboard/", f"/intel/trends?from=2025-01-01&to={day}", "/intel/needs", "/intel/forecast"]
    need = re.search(r'href="(/intel/needs/[^"]+)"', client.get("/intel/needs").get_data(as_text=True))
    if need:
        pages.append(need.group(1))
    figures = 0
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        for figure, after in re.findall(r'<figure class="chart">(.*?)</figure>(\s*(?:<div class="table-wrap">)?<table)?',
                                        html, re.S):
            figures += 1
            assert "<svg" in figure, (url, figure[:200])
            inside = "<table" in figure and figure.index("<svg") < figure.index("<table")
            assert inside or after, (url, figure[:200])  # in the figure, under the drawing, or right after it
    assert figures >= 12
