"""Long sections of the matches page fold away (issue 18: a worker's matches page was 22,000 px
tall): more than 20 blocked orders are listed in a closed <details>, fewer stay open."""

from __future__ import annotations

import re

from models import JobOrder
from web.views.db import get_store
from webtesting import legal_order


def _section(html, ident):
    return re.search(rf'<details class="section" id="{ident}"([^>]*)>', html)


def test_a_long_blocked_list_is_folded_and_a_short_one_open(app, client, auth):
    auth.as_user("counsellor")
    short = client.get("/counsellor/workers/W-CONSENT/matches").get_data(as_text=True)
    assert "open" in _section(short, "blocked-section").group(1)
    with get_store(app).session() as s:
        for i in range(25):
            s.add(JobOrder(order_id=f"ORD-BAD{i:02d}", recruiter_id="REC-B", approval_no=f"BAD{i}/2026/DOLAB",
                           **legal_order(title="Thợ hàn (thu phí môi giới)", brokerage_fee_vnd=10_000_000)))
        s.commit()
    long = client.get("/counsellor/workers/W-CONSENT/matches").get_data(as_text=True)
    folded = _section(long, "blocked-section")
    assert folded is not None and "open" not in folded.group(1)
    assert "ORD-BAD24" in long  # still on the page, one click away
