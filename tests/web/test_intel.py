"""Labour-market pages, the report command and the period workbook: the training needs agree
with a brute-force count, a need leads to its workers in one click, the period report's totals
equal the dashboard's, and the workbook opens in LibreOffice."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from collections import defaultdict

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from data import history as history_mod
from data.synthetic import generate
from matcher import rules
from models import JobOrder, Recruiter, Worker
from web.services import reports, stats
from web.views.db import get_store
from webtesting import TODAY

YEAR = stats.Period(dt.date(TODAY.year - 1, 1, 1), TODAY)


@pytest.fixture
def app_h(app):
    """The web test app plus a synthetic history (past orders, applications, stage events)."""
    data = generate(seed=7, workers=30, orders=40, recruiters=12, today=TODAY)
    with get_store(app).session() as s:
        history_mod.save(s, history_mod.build(data, seed=3, years=2, process=history_mod.Process(per_month=8)))
        s.commit()
    return app


@pytest.fixture
def staff(app_h, client, auth):
    auth.as_user("counsellor")
    return client


def brute_force(s, day):
    """worker x legal open order, rules.worker_gates directly: key -> worker -> orders."""
    recruiters = s.scalars(select(Recruiter).options(selectinload(Recruiter.status_history))).all()
    orders = s.scalars(select(JobOrder).options(selectinload(JobOrder.recruiter))).all()
    rates = reports.rates(s)
    dups = rules.find_duplicate_codes(recruiters, orders)
    open_ = [o for o in orders if o.places_left > 0 and not any(
        r.severity == "block" for r in rules.order_gates(o, o.recruiter, day, rates, duplicates=dups))]
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    workers = s.scalars(select(Worker).options(selectinload(Worker.certificates)).where(Worker.active.is_(True))).all()
    for w in workers:
        prefs = [c.upper() for c in w.preferred_countries or []]
        for o in open_:
            if prefs and o.country.upper() not in prefs:
                continue  # training needs count only workers who want the market
            keys, hard = [], False
            for r in rules.worker_gates(w, o, day):
                if r.code == "language_gap":
                    lang = rules.parse_requirement(o.language_requirement).language
                    keys.append(f"lang-{lang}-{r.detail['need_level']}")
                elif r.code == "eps_topik_required" and r.detail["assessment"] != "eps_topik_undated":
                    keys.append("eps-topik")
                elif r.code == "experience_short":
                    keys.append(f"trade-{o.programme or 'general'}")
                elif r.severity in ("fail", "block"):
                    hard = True
            if not hard and len(keys) == 1:
                out[keys[0]][w.worker_id].add(o.order_id)
    return out


def _expected(app):
    with get_store(app).session() as s:
        return brute_force(s, TODAY)


def test_needs_page_agrees_with_brute_force(app_h, staff):
    expected = _expected(app_h)
    assert expected
    html = staff.get("/intel/needs").get_data(as_text=True)
    rows = re.findall(r'<tr data-need="([^"]+)">.*?class="workers-link" href="([^"]+)">(\d+)</a>', html, re.S)
    assert {k: int(n) for k, _, n in rows} == {k: len(v) for k, v in expected.items()}


def _all_pages(client, href: str) -> str:
    """The bodies of a paginated page, following its "next" links."""
    bodies = []
    while href:
        page = client.get(href)
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        bodies.append(body)
        nxt = re.search(r'<a href="(\?[^"]+)">[^<]*»</a>', body)
        href = href.split("?")[0] + nxt.group(1).replace("&amp;", "&") if nxt else None
    return "".join(bodies)


def test_need_page_rows_are_paginated(app_h, staff, monkeypatch):
    import web.views.intel

    monkeypatch.setattr(web.views.intel, "PAGE", 2)
    key, workers = max(_expected(app_h).items(), key=lambda kv: len(kv[1]))
    assert len(workers) > 2
    first = staff.get(f"/intel/needs/{key}").get_data(as_text=True)
    assert len(re.findall(r'<tr data-worker="', first)) == 2
    assert f"1 / {-(-len(workers) // 2)}" in first
    seen = re.findall(r'<tr data-worker="([^"]+)">', _all_pages(staff, f"/intel/needs/{key}"))
    assert len(seen) == len(set(seen)) and set(seen) == set(workers)
    assert staff.get(f"/intel/needs/{key}?page=x").status_code == 200


def test_one_click_from_a_need_to_its_workers(app_h, staff):
    expected = _expected(app_h)
    html = staff.get("/intel/needs").get_data(as_text=True)
    for key, href, _ in re.findall(r'<tr data-need="([^"]+)">.*?class="workers-link" href="([^"]+)">(\d+)</a>', html, re.S):
        body = _all_pages(staff, href)
        assert set(re.findall(r'<tr data-worker="([^"]+)">', body)) == set(expected[key])
        for wid in expected[key]:
            assert f'href="/counsellor/workers/{wid}"' in body
    assert staff.get("/intel/needs/lang-xx-9").status_code == 404


def test_report_training_needs_command_json(app_h, db_url, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    capsys.readouterr()
    assert main(["report", "training-needs", "--today", TODAY.isoformat(), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = _expected(app_h)
    assert {n["key"]: set(n["worker_ids"]) for n in out["needs"]} == {k: set(v) for k, v in expected.items()}
    for n in out["needs"]:
        assert n["orders"] == len({o for os in expected[n["key"]].values() for o in os})


def test_report_training_needs_command_xlsx(app_h, db_url, monkeypatch, tmp_path):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    path = tmp_path / "needs.xlsx"
    assert main(["report", "training-needs", "--today", TODAY.isoformat(), "--xlsx", str(path)]) == 0
    wb = load_workbook(path)
    ws = wb["Nhu cầu đào tạo"]
    expected = _expected(app_h)
    counts = sorted(ws.cell(row=r, column=5).value for r in range(4, ws.max_row + 1))
    assert counts == sorted(len(v) for v in expected.values())
    assert "Danh sách" in wb.sheetnames and "Chính sách hỗ trợ" in wb.sheetnames


def test_period_report_totals_equal_the_dashboard(app_h):
    with get_store(app_h).session() as s:
        r = reports.period_report(s, YEAR)
        assert r.placements == stats.placements(s, YEAR)
        assert r.language == stats.language_training(s, YEAR)
        assert r.demand == stats.open_places(s, YEAR)
        assert r.applicants == stats.applicants(s, YEAR)
        assert r.blocked == stats.blocked_orders(s, YEAR)
        assert r.placements["departed"] > 0, "the history should have departures in the period"
        for dim, _, _ in reports.DIMENSIONS:
            rows = r.breakdowns[dim]
            assert sum(x[1] for x in rows) == r.advised
            assert sum(x[2] for x in rows) == r.placements["placed"]
            assert sum(x[3] for x in rows) == r.placements["departed"]
            assert sum(x[5] for x in rows) == (r.language["advanced"] if r.language["basis"] == "departed" else 0)


def test_period_page_and_workbook_match_the_dashboard_page(app_h, staff):
    q = f"from={YEAR.start.isoformat()}&to={YEAR.end.isoformat()}"
    dash = staff.get(f"/dashboard/?{q}").get_data(as_text=True)
    departed_dash = re.search(r'id="kpi-departed"><div>[^<]*</div><div class="value">(\d+) / 150', dash).group(1)
    page = staff.get(f"/intel/report?{q}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'id="total-departed">(\d+)<', html).group(1) == departed_dash
    assert 'id="report-xlsx"' in html and "<script" not in html
    resp = staff.get(f"/intel/report.xlsx?{q}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["Tổng hợp"]
    values = {ws.cell(row=r, column=2).value: ws.cell(row=r, column=3).value for r in range(4, ws.max_row + 1)}
    with get_store(app_h).session() as s:
        place = stats.placements(s, YEAR)
        assert values["Departed"] == place["departed"] == int(departed_dash)
        assert values["Selected (incl. departed)"] == place["placed"]
        assert values["Open legal places at the period's end"] == stats.open_places(s, YEAR)["total"]
        assert values["Blocked orders at the period's end"] == stats.blocked_orders(s, YEAR)["total"]
    by_market = wb["Theo thị trường"]
    last = [c.value for c in by_market[by_market.max_row]]
    assert last[0] == "Tổng / Total" and last[3] == place["departed"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_period_workbook_opens_in_libreoffice(app_h, db_url, monkeypatch, tmp_path):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    path = tmp_path / "report.xlsx"
    assert main(["report", "period", "--from", YEAR.start.isoformat(), "--to", YEAR.end.isoformat(),
                 "--xlsx", str(path)]) == 0
    out = tmp_path / "pdf"
    profile = tmp_path / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    pdf = out / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_period_command_rejects_bad_arguments(app_h, db_url, monkeypatch, tmp_path, capsys):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    assert main(["report", "period", "--from", "2026-03-01", "--to", "2026-01-01", "--xlsx", str(tmp_path / "a.xlsx")]) == 2
    assert main(["report", "period", "--from", "2026-01-01", "--to", "2026-03-01", "--xlsx", str(tmp_path / "a.csv")]) == 2
    assert "must end in .xlsx" in capsys.readouterr().err


def test_forecast_page_states_the_method_and_the_interval(app_h, staff):
    html = staff.get("/intel/forecast").get_data(as_text=True)
    assert "GLM Poisson" in html and "mô phỏng ngẫu nhiên" in html and 'id="backtest"' in html
    assert "statsmodels" not in html and "tests/" not in html  # no developer text on a user page
    assert 'id="conversion"' in html and 'id="forecast-numbers"' in html
    assert "<svg" in html and "<script" not in html
    with get_store(app_h).session() as s:
        f = reports.forecast(s, TODAY)
        departed = stats.placements(s, stats.Period.year_to_date(TODAY))["departed"]
    assert f.low <= f.mean <= f.high
    assert f.departed == departed  # one departure per worker in the history


def test_trends_page(app_h, staff):
    resp = staff.get(f"/intel/trends?from={TODAY.year - 2}-01-01&to={TODAY.isoformat()}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="trend-country"' in html and 'id="blocked-month"' in html and "<svg" in html
    assert staff.get("/intel/trends?from=2026-13-01").status_code == 422


@pytest.mark.parametrize("path", ["/intel/needs", "/intel/trends", "/intel/forecast", "/intel/report",
                                  "/intel/report.xlsx", "/intel/needs.xlsx"])
def test_recruiters_may_not_see_the_intelligence_pages(app, client, auth, path):
    assert client.get(path).status_code == 302  # anonymous: to the sign-in page
    auth.as_user("reca")
    assert client.get(path).status_code == 403


def test_vietnamese_first_with_english_switch(app_h, staff):
    vi = staff.get("/intel/needs").get_data(as_text=True)
    assert "Nhu cầu đào tạo từ các đơn hàng đang mở" in vi
    en = staff.get("/intel/needs?lang=en").get_data(as_text=True)
    assert "Training needs from the open orders" in en


def test_dashboard_period_accepts_dates_typed_dd_mm_yyyy(app_h, staff):
    iso = staff.get(f"/dashboard/?from={YEAR.start.isoformat()}&to={YEAR.end.isoformat()}").get_data(as_text=True)
    typed = staff.get(f"/dashboard/?from={YEAR.start:%d/%m/%Y}&to={YEAR.end:%d/%m/%Y}")
    assert typed.status_code == 200
    html = typed.get_data(as_text=True)
    kpi = r'id="kpi-departed"><div>[^<]*</div><div class="value">(\d+) / 150'
    assert re.search(kpi, html).group(1) == re.search(kpi, iso).group(1)
    assert "Cần một ngày" not in html
    bad = staff.get("/dashboard/?from=31/02/2027").get_data(as_text=True)
    assert "Cần một ngày dạng NN/TT/NNNN" in bad
