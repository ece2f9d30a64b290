"""Import templates and web exports (issue 18): the template has the header, one example row that
imports as it is, drop-downs for the closed vocabularies and a guide; an export from the web is
the interchange format, audited, and only of the kinds the user may handle."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from data.exporters import template_bytes
from data.formats import get_spec
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


def test_the_template_has_drop_downs_and_a_guide():
    wb = load_workbook(io.BytesIO(template_bytes("workers")))
    ws = wb["workers"]
    header = [c.value for c in ws[1]]
    assert header == [c.name for c in get_spec("workers").columns]
    lists = {str(dv.sqref).split(":")[0][:-1]: dv.formula1 for dv in ws.data_validations.dataValidation}
    col = {name: i for i, name in enumerate(header)}
    from openpyxl.utils import get_column_letter

    assert "female" in lists[get_column_letter(col["gender"] + 1)]
    assert "upper_secondary" in lists[get_column_letter(col["education"] + 1)]
    guide = wb["Hướng dẫn - Guide"]
    assert guide.max_row == len(header) + 1


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
