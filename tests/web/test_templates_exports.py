"""Import templates and web exports (issue 18): the template has the header, one example row that
imports as it is, drop-downs for the closed vocabularies and a guide; an export from the web is
the interchange format, audited, and only of the kinds the user may handle."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from sqlalchemy import select

from data.exporters import GUIDE_SHEET, LISTS_SHEET, export_bytes, template_bytes, template_choices
from data.formats import SPECS, get_spec
from data.importers import import_file
from data.store import Store
from models import AuditEvent
from web.views.db import get_store


def test_each_template_imports_as_it_is(tmp_path):
    st = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    st.init_schema()
    try:
        with st.session() as s:
            for kind in ("recruiters", "orders", "workers"):
                report = import_file(s, kind, template_bytes(kind), partial=False, user="t", filename=f"{kind}.xlsx")
                assert report.committed and not report.errors, (kind, [str(e) for e in report.errors])
    finally:
        st.dispose()


def drop_downs(wb) -> dict[str, list[str]]:
    """Column name -> the values its drop-down offers (resolved on the sheet the list points at)."""
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        column = header[column_index_from_string(str(dv.sqref).split(":")[0].rstrip("0123456789")) - 1]
        sheet, cells = dv.formula1.rsplit("!", 1)
        source = wb[sheet.strip("'")]
        out[column] = [row[0].value for row in source[cells.replace("$", "")]]
    return out


def test_the_template_drop_downs_offer_the_names_people_type():
    """The lists hold "Nữ", "THPT", "Thực tập sinh kỹ năng (TITP)", not female, upper_secondary, titp;
    the guide gives both, FORMAT.md's code after the name."""
    codes = set()
    for spec in SPECS.values():
        codes |= {code for c in spec.columns if c.names is not None for code in c.allowed}
    for kind in ("workers", "orders", "recruiters"):
        wb = load_workbook(io.BytesIO(template_bytes(kind)))
        assert wb.sheetnames == [kind, GUIDE_SHEET, LISTS_SHEET] and wb[LISTS_SHEET].sheet_state == "hidden"
        lists = drop_downs(wb)
        spec = get_spec(kind)
        expected = {c.name for c in spec.columns if c.allowed or c.type == "bool"}
        assert set(lists) == expected
        for column, values in lists.items():
            assert not set(values) & codes, (kind, column, values)  # names, never codes
        if kind == "workers":
            assert lists["gender"] == ["Nam", "Nữ", "Khác"]
            assert "THPT" in lists["education"] and "Cao đẳng" in lists["education"]
            assert lists["consent_share"] == ["có", "không"]
            assert len(lists["ethnicity"]) == 54 and "Tày" in lists["ethnicity"]
            guide = {r[0]: r[3] for r in wb[GUIDE_SHEET].iter_rows(min_row=2, values_only=True)}
            assert "Nữ = female" in guide["gender"] and "THPT = upper_secondary" in guide["education"]
            assert wb.worksheets[0].max_row == 2 and len(guide) == len(spec.columns)
        if kind == "orders":
            assert lists["gender"] == ["Không yêu cầu", "Nam", "Nữ"]
            assert "Thực tập sinh kỹ năng (TITP)" in lists["programme"]


def test_a_template_filled_with_every_drop_down_value_imports(tmp_path):
    """Each kind's template with one row per value of its longest list, every list's values used
    (a shorter list starts again), the other cells from the example row: no error, and the codes
    stored are the ones the names stand for."""
    st = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    st.init_schema()
    try:
        with st.session() as s:
            for kind, prefix in (("recruiters", "R"), ("orders", "O"), ("workers", "W")):
                wb = load_workbook(io.BytesIO(template_bytes(kind)))
                lists = drop_downs(wb)
                ws = wb.worksheets[0]
                header = [c.value for c in ws[1]]
                example = [c.value for c in ws[2]]
                spec = get_spec(kind)
                n = max(len(v) for v in lists.values())
                for i in range(n):
                    row = list(example)
                    for column, values in lists.items():
                        row[header.index(column)] = values[i % len(values)]
                    if kind == "recruiters":
                        row[header.index("licence_no")] = f"{i + 1}/LĐTBXH-GP"
                    if i:  # the example's own id (R001, the recruiter the orders name) on the first row
                        row[header.index(spec.id_column)] = f"{prefix}{i + 1:05d}"
                    for j, value in enumerate(row, start=1):
                        ws.cell(row=i + 2, column=j, value=value)
                buf = io.BytesIO()
                wb.save(buf)
                report = import_file(s, kind, buf.getvalue(), user="t", filename=f"mau-{kind}.xlsx")
                assert report.committed and not report.errors, (kind, [str(e) for e in report.errors])
                assert report.created == n
                exported = list(csv.DictReader(io.StringIO(export_bytes(s, kind, ".csv").decode("utf-8-sig"))))
                for column, values in lists.items():  # each name stored as its FORMAT.md code
                    codes = dict(template_choices(spec.by_name[column]))
                    assert {r[column] for r in exported} == {codes[v] for v in values}, (kind, column)
    finally:
        st.dispose()


def test_staff_download_templates_and_exports(app, client, auth):
    auth.as_user("counsellor")
    r = client.get("/counsellor/import/template/workers.xlsx")
    assert r.status_code == 200 and r.data.startswith(b"PK")
    assert client.get("/counsellor/import/template/recruiters.xlsx").status_code == 404  # admin only
    page = client.get("/counsellor/import").get_data(as_text=True)
    assert 'id="template-workers"' in page and 'id="export-workers"' in page
    csv = client.get("/counsellor/export/workers.csv")
    assert csv.status_code == 200 and "W-CONSENT" in csv.get_data(as_text=True)
    assert csv.headers["Cache-Control"] == "no-store"
    xlsx = client.get("/counsellor/export/workers.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "worker_id" and {r[0] for r in rows[1:]} >= {"W-CONSENT", "W-PRIVATE"}
    with get_store(app).session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.entity == "workers")).all()
        assert [e.detail["format"] for e in events] == ["csv", "xlsx"] and events[1].detail["rows"] == len(rows) - 1
    assert client.get("/counsellor/export/workers.pdf").status_code == 404
