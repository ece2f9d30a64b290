"""Workbooks are read within a budget of cells (issue 14, item 6): a small upload that expands to
millions of cells is refused with its size and the limit before openpyxl parses it (inflated size,
cell elements counted on the raw XML), by its declared dimension, and while it is streamed
(rows x columns, whatever the dimension claims)."""

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


def bomb(rows: int, columns: int) -> bytes:
    """A hand-written workbook of ``rows`` x ``columns`` numeric cells without a dimension: the
    attack of issue 14 (a few hundred KB that expand to millions of cells)."""
    ns = "http://schemas.openxmlformats.org/"
    row = "<row>" + "<c><v>1</v></c>" * columns + "</row>"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{ns}package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}spreadsheetml/2006/main"><sheetData>{row * rows}</sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_a_small_file_of_two_million_cells_is_refused_before_openpyxl_parses_it(monkeypatch):
    data = bomb(200_000, 10)
    assert len(data) < 300_000  # 2,000,000 cells in less than 300 KB
    import openpyxl

    def never(*a, **k):  # openpyxl would scan the whole sheet (it has no dimension)
        raise AssertionError("the workbook reached openpyxl")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(FieldError) as err:
        read_table(data, "big.xlsx")
    message = str(err.value)
    assert message.startswith("big.xlsx: ")
    assert f"more than {MAX_XLSX_CELLS:,} cells" in message and "max_xlsx_cells" in message
    assert message.index("giới hạn là 200.000 ô") < message.index("the limit is")  # Vietnamese first


def test_the_cell_count_is_exact_at_the_limit():
    # 10 x 20 numeric cells = 200: accepted at 200 (also across the counter's 1 MB chunks) ...
    header, table = read_table(bomb(20, 10), "fits.xlsx", max_cells=200)
    assert len(header) == 10 and len(table) == 19 and table[-1].number == 20
    # ... refused at 199; and a workbook written by openpyxl (prefix-free tags with attributes) too.
    with pytest.raises(FieldError, match="more than 199 cells"):
        read_table(bomb(20, 10), "over.xlsx", max_cells=199)
    big = bomb(8_000, 10)  # 1.3 MB of sheet XML: counted in two chunks
    assert len(read_table(big, "big.xlsx", max_cells=80_000)[1]) == 7_999
    with pytest.raises(FieldError, match="more than 79,999 cells"):
        read_table(big, "big.xlsx", max_cells=79_999)
    with pytest.raises(FieldError, match="more than 200 cells"):
        read_table(workbook(40), "openpyxl.xlsx", max_cells=200)  # 41 rows x 5 = 205 cells
    assert len(read_table(workbook(39), "openpyxl.xlsx", max_cells=200)[1]) == 39


def test_the_declared_dimension_is_refused_before_reading():
    data = with_dimension(workbook(3), "A1:Z100000")
    with pytest.raises(FieldError, match=r"declares 100,000 rows × 26 columns = 2,600,000 cells"):
        read_table(data, "claims.xlsx")


def sparse(far_row: int) -> bytes:
    """A header and one value far below it: few cells, a tall rectangle."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["W1", "Nông Văn A", "2000-01-02", "Xã Bảo Lạc", "hàn"])
    ws.cell(row=far_row, column=1, value="W2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("ref", ["A1:B2", None])
def test_a_dimension_that_lies_or_is_missing_neither_hides_rows_nor_the_size(ref):
    # Small claim, bigger sheet: every row is read (none silently dropped) ...
    header, table = read_table(with_dimension(workbook(50), ref), "lies.xlsx")
    assert header == HEADER and len(table) == 50 and table[-1].cells[0] == "W000049"
    header, table = read_table(with_dimension(sparse(30), ref), "lies.xlsx", max_cells=200)
    assert [r.number for r in table] == [2, 30]
    # ... and the rows x columns met while streaming still count (12 cells, 41 x 5 past 200).
    with pytest.raises(FieldError, match=r"has at least 41 rows × 5 columns = 205 cells; the limit is 200 cells"):
        read_table(with_dimension(sparse(500), ref), "lies.xlsx", max_cells=200)


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
