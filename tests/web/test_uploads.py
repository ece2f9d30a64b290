"""Spreadsheet uploads: the workbook budget on the web (issue 14, item 6) and previews that do not
linger (item 10)."""

from __future__ import annotations

import io
import os
import re
import stat
import time
from pathlib import Path

import pytest

from web.views.db import get_store
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
    assert "các trang tính của tệp có hơn 100 ô" in errors  # Vietnamese first, then English
    assert "the limit is 100 cells" in errors
    assert not re.search(r'/counsellor/import/[\w-]+"', html)  # nothing to store: no store button
    assert upload(client, small_workbook(10), "it.xlsx").status_code == 200  # 11 x 5 = 55 cells


# ----------------------------------------------------------------------------- previews do not linger

CSV_OK = (
    "worker_id,full_name,birth_date,commune,skills,consent_share\n"
    "W-UP1,Bế Thị Hoa,2000-01-02,Xã Bảo Lạc,may công nghiệp,true\n"
)


def uploads_dir(app) -> Path:
    return Path(app.instance_path) / "uploads"


def pending_files(app) -> list[str]:
    d = uploads_dir(app)
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def token_of(html: str) -> str:
    return re.search(r'/counsellor/import/([\w-]+)"', html).group(1)


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def test_a_preview_is_kept_private_and_deleted_once_stored(app, staff):
    html = upload(staff, CSV_OK.encode(), "workers.csv").get_data(as_text=True)
    token = token_of(html)
    assert pending_files(app) == [f"{token}.csv"]
    assert stat.S_IMODE(os.stat(uploads_dir(app)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(uploads_dir(app) / f"{token}.csv").st_mode) == 0o600
    assert "60 phút" in html  # the page says how long the file is kept
    done = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html)})
    assert done.status_code == 200 and pending_files(app) == []


def test_cancel_deletes_the_preview_and_only_the_owner_can(app, staff):
    html = upload(staff, CSV_OK.encode(), "workers.csv").get_data(as_text=True)
    token = token_of(html)
    assert f'formaction="/counsellor/import/{token}/cancel"' in html
    # Another staff member cannot cancel (nor store) someone else's upload.
    other = app.test_client()
    AuthActions(other).login("admin")
    page = other.get("/counsellor/import").get_data(as_text=True)
    assert other.post(f"/counsellor/import/{token}/cancel", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert pending_files(app) == [f"{token}.csv"]
    cancelled = staff.post(f"/counsellor/import/{token}/cancel", data={"csrf_token": csrf_of(html)})
    assert cancelled.status_code == 302 and cancelled.headers["Location"].endswith("/counsellor/import")
    assert pending_files(app) == []
    assert "Đã hủy nhập" in staff.get("/counsellor/import").get_data(as_text=True)
    gone = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html)})
    assert gone.status_code == 404 and "đã hủy" in gone.get_data(as_text=True)
    again = staff.post(f"/counsellor/import/{token}/cancel", data={"csrf_token": csrf_of(html)})
    assert again.status_code == 302  # cancelling twice is harmless
    from models import Worker

    with get_store(app).session() as s:
        assert s.get(Worker, "W-UP1") is None


def test_previews_older_than_the_limit_are_deleted_on_upload_and_at_start(app, staff, db_url, tmp_path):
    d = uploads_dir(app)
    d.mkdir(parents=True, exist_ok=True)
    old, fresh = d / "oldtoken.csv", d / "freshtoken.csv"
    for path in (old, fresh):
        path.write_text(CSV_OK, encoding="utf-8")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))
    token = token_of(upload(staff, CSV_OK.encode(), "workers.csv").get_data(as_text=True))
    assert pending_files(app) == sorted(["freshtoken.csv", f"{token}.csv"])
    # At start-up too: a preview left by a previous run is removed.
    os.utime(fresh, (two_hours_ago, two_hours_ago))
    restarted = make_app(db_url, tmp_path)
    try:
        assert pending_files(restarted) == [f"{token}.csv"]
    finally:
        get_store(restarted).dispose()


def test_erasing_a_worker_deletes_the_pending_uploads_that_mention_it(app, staff):
    by_name = upload(staff, (CSV_OK + "W-UP2,Nguyễn Văn Đức,1998-05-17,Phường Hợp Giang,hàn,true\n").encode(),
                     "names.csv").get_data(as_text=True)
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["worker_id", "full_name", "birth_date", "national_id"])
    wb.active.append(["W-UP3", "Ai Đó", "1998-05-17", "004098001234"])  # W-CONSENT's CCCĐ
    buf = io.BytesIO()
    wb.save(buf)
    by_id = upload(staff, buf.getvalue(), "ids.xlsx").get_data(as_text=True)
    unrelated = upload(staff, CSV_OK.encode(), "other.csv").get_data(as_text=True)
    tokens = [token_of(h) for h in (by_name, by_id, unrelated)]
    assert len(pending_files(app)) == 3
    page = staff.get("/privacy/workers/W-CONSENT").get_data(as_text=True)
    erased = staff.post("/privacy/workers/W-CONSENT/erase", data={"csrf_token": csrf_of(page), "confirm": "W-CONSENT"})
    assert erased.status_code == 302
    assert pending_files(app) == [f"{tokens[2]}.csv"]
    from sqlalchemy import select

    from models import AuditEvent

    with get_store(app).session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "erase", AuditEvent.entity_id == "W-CONSENT"))
        assert event.detail["pending_uploads"] == 2
        assert "Nguyễn" not in str(event.detail)


def test_the_cli_erasure_deletes_them_too(app, db_url, capsys):
    import json

    from web.cli import main

    inst = Path(app.instance_path)
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "secret_key": "cli-test-secret"}))
    d = uploads_dir(app)
    d.mkdir(parents=True, exist_ok=True)
    (d / "mention.csv").write_text("worker_id,full_name\nX,nguyễn văn đức\n", encoding="utf-8")  # case aside
    (d / "nobody.csv").write_text(CSV_OK, encoding="utf-8")
    assert main(["--instance", str(inst), "worker", "erase", "W-CONSENT", "--yes"]) == 0
    assert "1 pending_uploads" in capsys.readouterr().out
    assert pending_files(app) == ["nobody.csv"]
