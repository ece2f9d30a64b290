"""Counts read the way the page's language writes numbers (issue 18: "2924" in one place and
"2.924" in another): with more than a thousand workers, the list and the dashboard say 1.0xx in
Vietnamese and 1,0xx in English, never the bare digits."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from models import Worker
from web.views.db import get_store


def test_counts_of_a_thousand_and_more_carry_the_languages_separator(app, auth, client):
    with get_store(app).session() as s:
        s.add_all([Worker(worker_id=f"W-MANY{i:04d}", full_name="Nông Văn Thắng", birth_date=dt.date(1998, 1, 1),
                          extra={}) for i in range(1000)])
        s.commit()
        total = s.scalar(select(func.count()).select_from(Worker))
    vi, en = f"{total:,}".replace(",", "."), f"{total:,}"
    auth.login("counsellor")
    listing = client.get("/counsellor/workers").get_data(as_text=True)
    assert f"{vi} người" in listing and f"{total} người" not in listing
    assert f"{en} workers" in client.get("/counsellor/workers?lang=en").get_data(as_text=True)
    dashboard = client.get("/dashboard/?lang=vi&from=2000-01-01&to=2099-12-31").get_data(as_text=True)
    applicants = re.search(r"Người lao động đăng ký \(([\d.,]+)\)", dashboard).group(1)
    assert "." in applicants and int(applicants.replace(".", "")) >= 1000
