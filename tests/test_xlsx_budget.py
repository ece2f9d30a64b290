"""Workbooks are streamed within a budget of rows x columns (issue 14, item 6): a small upload that
expands to millions of cells is refused with its size and the limit, before and while it is read,
whatever its dimension claims."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from data.formats import FieldError
from data.importers import MAX_XLSX_CELLS, import_file, preview, read_table

HEADER = ["worker_id", "full_name", "birth_date", "commune", "skills"]


def workbook(rows: int, columns: int = len(HEADER)) -> bytes:
    """A workers sheet of ``rows`` data rows (plus the header), ``columns`` wide, written streaming."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("workers")
    ws.append((HEADER + [f"extra_{i}" for i in range(columns - len(HEADER))])[:columns])
    for n in range(rows):
        base = [f"W{n:06d}", "Nông Văn A", "2000-01-02", "Xã Bảo Lạc", "hàn"]
        ws.append((base + ["x"] * (columns - len(base)))[:columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_dimension(data: bytes, ref: str | None) -> bytes:
    """The same workbook with the first sheet's ``<dimension>`` set to ``ref`` (None: removed)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = body.decode("utf-8")
                if "<dimension" not in xml:  # the write-only writer leaves it out: put one in
                    xml = xml.replace("<sheetData", '<dimension ref="A1"/><sheetData', 1)
                xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>' if ref else "", xml, count=1)
                body = xml.encode("utf-8")
            dst.writestr(item, body)
    return out.getvalue()


def test_the_default_budget_refuses_a_generated_workbook_past_it():
    rows = MAX_XLSX_CELLS // len(HEADER)  # + the header row: one row past the budget
    data = workbook(rows)
    assert len(data) < 3_000_000  # a few MB on disk ...
    with pytest.raises(FieldError) as err:
        read_table(data, "big.xlsx")
    message = str(err.value)
    assert message.startswith("big.xlsx: ")
    assert f"{MAX_XLSX_CELLS:,} cells" in message and "max_xlsx_cells" in message
    assert "dòng" in message and "giới hạn là 200.000 ô" in message  # Vietnamese first
    assert "rows" in message and "columns" in message
    # Exactly at the budget is accepted and read whole (40 rows x 5 columns = 200 cells).
    header, table = read_table(workbook(39), "fits.xlsx", max_cells=200)
    assert header == HEADER and len(table) == 39 and table[-1].number == 40


def test_the_declared_dimension_is_refused_before_reading():
    data = with_dimension(workbook(3), "A1:Z100000")
    with pytest.raises(FieldError, match=r"declares 100,000 rows × 26 columns = 2,600,000 cells"):
        read_table(data, "claims.xlsx")


@pytest.mark.parametrize("ref", ["A1:B2", None])
def test_a_dimension_that_lies_or_is_missing_neither_hides_rows_nor_the_size(ref):
    # Small claim, bigger sheet: every row is read (none silently dropped) ...
    header, table = read_table(with_dimension(workbook(50), ref), "lies.xlsx")
    assert header == HEADER and len(table) == 50 and table[-1].cells[0] == "W000049"
    # ... and the real size still counts while streaming.
    with pytest.raises(FieldError, match=r"has at least 41 rows × 5 columns = 205 cells; the limit is 200 cells"):
        read_table(with_dimension(workbook(50), ref), "lies.xlsx", max_cells=200)


def test_a_workbook_that_inflates_past_the_budget_is_refused_before_parsing():
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for n in range(40):  # 40 different 32,000-character names: 1.3 MB of shared strings
        wb.active.append([f"W{n}", f"{n:02d}" + "a" * 32_000, "2000-01-02", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    assert len(buf.getvalue()) < 50_000
    with pytest.raises(FieldError, match=r"bomb.xlsx: .*expands to [\d,]+ bytes, more than 100 cells can need"):
        read_table(buf.getvalue(), "bomb.xlsx", max_cells=100)
    assert len(read_table(buf.getvalue(), "bomb.xlsx")[1]) == 40  # within the default budget


def test_import_and_preview_refuse_it_naming_the_file_and_store_nothing(session):
    data = workbook(60)
    p = preview(session, "workers", data, filename="workers.xlsx", max_cells=100)
    assert not p.ok and p.rows == [] and "workers.xlsx" in p.errors[0].message
    report = import_file(session, "workers", data, partial=True, filename="workers.xlsx", max_cells=100)
    assert not report.committed and report.created == 0
    assert "the limit is 100 cells" in report.errors[0].message


def test_the_cli_reads_the_budget_from_the_settings(tmp_path, db_url, capsys):
    from data.store import Store
    from web.cli import main

    store = Store(db_url)
    store.reset()
    store.dispose()
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "max_xlsx_cells": 100}))
    path = tmp_path / "workers.xlsx"
    path.write_bytes(workbook(60))
    assert main(["--instance", str(inst), "import", "workers", str(path)]) == 1
    assert "workers.xlsx: " in capsys.readouterr().err
    (inst / "config.json").write_text(json.dumps({"database_url": db_url}))
    assert main(["--instance", str(inst), "import", "workers", str(path)]) == 0
