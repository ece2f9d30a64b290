"""Spreadsheet uploads: the workbook budget on the web (issue 14, item 6) and previews that do not
linger (item 10)."""

from __future__ import annotations

import io
import re

import pytest

from web.db import get_store
from webtesting import AuthActions, csrf_of, make_app


def upload(client, data: bytes, name: str, kind: str = "workers"):
    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    return client.post("/counsellor/import", data={"kind": kind, "csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def small_workbook(rows: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["worker_id", "full_name", "birth_date", "commune", "skills"])
    for n in range(rows):
        ws.append([f"W-UP{n:03d}", "Bế Thị Hoa", "2000-01-02", "Xã Bảo Lạc", "may"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def tight_app(db_url, tmp_path):
    app = make_app(db_url, tmp_path, max_xlsx_cells=100)
    yield app
    get_store(app).dispose()


def test_an_upload_past_the_cell_budget_is_refused_with_its_size(tight_app):
    client = tight_app.test_client()
    AuthActions(client).login("counsellor")
    response = upload(client, small_workbook(30), "nhieu.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = html.split('id="import-errors"', 1)[1].split("</ul>", 1)[0]
    assert "trang tính đầu tiên quá lớn" in errors and "31 dòng × 5 cột = 155 ô" in errors
    assert "the limit is 100 cells" in errors
    assert not re.search(r'/counsellor/import/[\w-]+"', html)  # nothing to store: no store button
    assert upload(client, small_workbook(10), "it.xlsx").status_code == 200  # 11 x 5 = 55 cells
