"""Every workbook and CSV the product writes neutralises formulas (issue 14, item 2).

Worker names, communes and order titles are typed as formulas; every download route that
answers a workbook or a CSV, and every CLI report, is then opened with openpyxl (or csv) and no
cell may be a formula or start with a formula character unescaped."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from data.sheets import save_workbook
from data.synthetic import generate
from data import history as history_mod
from models import JobOrder, Worker
from web.views.db import get_store
from webtesting import TODAY

POISON = ['=HYPERLINK("http://evil.example","bấm")', "+1+2", "-3+4", "@SUM(A1)", "\t=1+1", "=cmd|' /C calc'!A0"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _assert_inert_xlsx(data: bytes, where: str) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    texts = []
    for ws in wb.worksheets:
        assert not ws.title.startswith(FORMULA_START), where
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), (where, ws.title, cell.coordinate, cell.value)
                    texts.append(cell.value)
    return texts


@pytest.fixture
def poisoned(app):
    data = generate(seed=7, workers=30, orders=40, recruiters=12, today=TODAY)
    with get_store(app).session() as s:
        history_mod.save(s, history_mod.build(data, seed=3, years=2, process=history_mod.Process(per_month=8)))
        s.commit()
        for i, w in enumerate(s.scalars(select(Worker))):
            w.full_name = POISON[i % len(POISON)]
            w.commune = POISON[(i + 1) % len(POISON)]
        for i, o in enumerate(s.scalars(select(JobOrder))):
            o.title = POISON[i % len(POISON)]
        s.commit()
    return app


def test_the_writer_neutralises_text_and_keeps_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append([*POISON, 12.5, "'=already escaped", "thợ hàn"])
    path = tmp_path / "x.xlsx"
    save_workbook(wb, path)
    row = [c.value for c in load_workbook(path).active[1]]
    assert row[:len(POISON)] == ["'" + p for p in POISON]
    assert row[len(POISON):] == [12.5, "'=already escaped", "thợ hàn"]


def test_every_download_route_writes_inert_files(poisoned, client, auth):
    auth.as_user("admin")
    rules = [r for r in poisoned.url_map.iter_rules()
             if "GET" in r.methods and (r.rule.endswith((".xlsx", ".csv")) or "export" in r.rule)]
    assert {"/intel/needs.xlsx", "/intel/report.xlsx"} <= {r.rule for r in rules}
    seen_poison = False
    for rule in rules:
        url = rule.rule.replace("<wid>", "W-CONSENT")
        if "<" in url:
            continue
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        body = r.get_data()
        if body[:2] == b"PK" and "xlsx" in (r.mimetype or "") + url:
            texts = _assert_inert_xlsx(body, url)
            seen_poison |= any(t.startswith("'=HYPERLINK") for t in texts)
        elif "csv" in (r.mimetype or ""):
            for cell in (c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row):
                assert not cell.startswith(FORMULA_START), (url, cell)
    assert seen_poison, "the poisoned titles should appear (escaped) in a report"


def test_cli_reports_write_inert_workbooks(poisoned, db_url, monkeypatch, tmp_path):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    needs, period = tmp_path / "needs.xlsx", tmp_path / "period.xlsx"
    assert main(["report", "training-needs", "--today", TODAY.isoformat(), "--xlsx", str(needs)]) == 0
    assert main(["report", "period", "--from", f"{TODAY.year - 1}-01-01", "--to", TODAY.isoformat(),
                 "--xlsx", str(period)]) == 0
    for path in (needs, period):
        _assert_inert_xlsx(path.read_bytes(), path.name)
    for kind in ("workers", "orders"):
        out = tmp_path / f"{kind}.xlsx"
        assert main(["export", kind, str(out)]) == 0
        _assert_inert_xlsx(out.read_bytes(), out.name)
