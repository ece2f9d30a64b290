"""Background jobs (web.services.jobs, web.views.jobs) on the thread backend, through the web:
a report job's workbook equals the direct download's, a job that raises ends failed with its
message shown, progress is written as it goes, a job is its creator's and the administrators'
alone, a large import runs as a job (all or nothing kept), and a job whose process died is
marked failed."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from models import AuditEvent, Job, User
from web.services import jobs as job_service
from web.views.db import get_store
from webtesting import FAST_HASH, csrf_of

PERIOD = {"from": "2026-01-01", "to": "2026-03-02"}


@pytest.fixture
def staff(auth, client):
    auth.login("counsellor")
    return client


def cells(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's values, row by row (what a person sees in the workbook)."""
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def start(client, page: str, **form) -> str:
    """Post the start form found on ``page``; the job page's URL it redirects to."""
    csrf = csrf_of(client.get(page).get_data(as_text=True))
    response = client.post("/jobs/start", data={"csrf_token": csrf, **form})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert re.fullmatch(r"/jobs/\d+", response.location)
    return response.location


def poll(client, url: str, timeout: float = 60.0) -> str:
    """The job page once the job ended, reloading it as the browser's refresh would."""
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(url).get_data(as_text=True)
        status = re.search(r'id="job-status" data-status="(\w+)"', html).group(1)
        if status in ("done", "failed"):
            return html
        assert '<meta http-equiv="refresh"' in html and "<progress" in html
        assert time.monotonic() < deadline, f"job still {status}"
        time.sleep(0.1)


def test_a_report_job_gives_the_direct_downloads_workbook(app, staff):
    page = "/intel/report?from=2026-01-01&to=2026-03-02"
    assert 'id="report-job"' in staff.get(page).get_data(as_text=True)
    url = start(staff, page, kind="period_report", **PERIOD)
    html = poll(staff, url)
    assert 'data-status="done"' in html and "Đã xong" in html and "<script" not in html
    assert '<meta http-equiv="refresh"' not in html  # ended: the page stops refreshing
    link = re.search(r'id="job-download" href="([^"]+)"', html).group(1)
    got = staff.get(link)
    assert got.status_code == 200 and got.mimetype == job_service.XLSX
    assert 'filename="bao-cao-2026-01-01-2026-03-02.xlsx"' in got.headers["Content-Disposition"]
    direct = staff.get("/intel/report.xlsx?from=2026-01-01&to=2026-03-02")
    assert cells(got.data) == cells(direct.data)
    assert len(cells(got.data)) >= 3  # summary, targets and breakdowns: a real report
    job_id = int(url.rsplit("/", 1)[1])
    with get_store(app).session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity == "period_report")).all()
        row = s.get(Job, job_id)
        assert (row.status, row.progress_done, row.progress_total, row.error) == ("done", 3, 3, None)
        assert row.started_at <= row.finished_at
    assert [e.detail.get("job") for e in events if e.detail.get("job")] == [job_id]
    assert all(e.username == "counsellor" for e in events)
    listing = staff.get("/jobs").get_data(as_text=True)
    assert f'href="/jobs/{job_id}"' in listing and "Bảng tính báo cáo định kỳ" in listing


def test_a_training_needs_job_gives_the_direct_downloads_workbook(app, staff):
    url = start(staff, "/intel/needs", kind="training_needs")
    html = poll(staff, url)
    link = re.search(r'id="job-download" href="([^"]+)"', html).group(1)
    assert cells(staff.get(link).data) == cells(staff.get("/intel/needs.xlsx").data)


def test_a_job_that_raises_ends_failed_with_its_message_shown(app, staff):
    with get_store(app).session() as s:
        uid = s.scalar(select(User.id).where(User.username == "counsellor"))
    settings = app.config["MATCHER"]
    job_id = job_service.enqueue(get_store(app), settings, "period_report", {"start": "2026-02-30", "end": "2026-03-01"}, uid)
    html = poll(staff, f"/jobs/{job_id}")
    assert 'data-status="failed"' in html and "Bị lỗi" in html
    assert 'id="job-error"' in html and "day is out of range for month" in html
    assert 'id="job-download"' not in html
    assert staff.get(f"/jobs/{job_id}/download").status_code == 404


def test_a_bad_period_is_refused_before_any_job(app, staff):
    csrf = csrf_of(staff.get("/intel/report").get_data(as_text=True))
    refused = staff.post("/jobs/start", data={"csrf_token": csrf, "kind": "period_report", "from": "2026-03-02", "to": "2026-01-01"})
    assert refused.status_code == 422 and "Kỳ báo cáo không hợp lệ" in refused.get_data(as_text=True)
    far = staff.post("/jobs/start", data={"csrf_token": csrf, "kind": "period_report", "from": "01/01/2026", "to": "31/12/9999"})
    assert far.status_code == 422  # a date outside 1900-2100, as everywhere a person types one
    assert staff.post("/jobs/start", data={"kind": "period_report", **PERIOD}).status_code == 400  # no CSRF token
    with get_store(app).session() as s:
        assert s.scalar(select(Job.id)) is None


def test_progress_is_written_as_the_job_goes_and_throttled(app, monkeypatch):
    """A job function reports five steps; each report reaches the row (throttle 0) and the row's
    progress only grows; with the default throttle, reports in quick succession write once."""
    seen: list[tuple[int, int, str]] = []

    def counting(ctx):
        for i in range(1, 6):
            ctx.progress(i, 5, f"bước {i}", f"step {i}")
            with ctx.store.session() as s:
                row = s.get(Job, ctx.job_id)
                seen.append((row.progress_done, row.progress_total, row.message_en))
        return {"counted": 5}

    monkeypatch.setitem(job_service.KINDS, "counting", counting)
    monkeypatch.setattr(job_service, "PROGRESS_EVERY", 0.0)
    st = get_store(app)
    settings = {**app.config["MATCHER"], "job_backend": "inline"}
    job_id = job_service.enqueue(st, settings, "counting", {})
    assert seen == [(i, 5, f"step {i}") for i in range(1, 6)]
    with st.session() as s:
        assert (s.get(Job, job_id).status, s.get(Job, job_id).result) == ("done", {"counted": 5})

    p = job_service.Progress(st, job_id, every=30.0)
    for i in range(10):
        p(i, 10)
    assert p.writes == 1  # the first report; the others wait for the throttle or the flush
    p.flush()
    assert p.writes == 2
    with st.session() as s:
        assert s.get(Job, job_id).progress_done == 9


def test_a_job_is_its_creators_and_the_administrators(app, staff, auth, client):
    url = start(staff, "/intel/report", kind="period_report", **PERIOD)
    poll(staff, url)
    download = url + "/download"
    assert staff.get(download).status_code == 200
    with get_store(app).session() as s:
        s.add(User(username="counsellor2", password_hash=generate_password_hash("x-pass-123", method=FAST_HASH),
                   role="counsellor", active=True, failed_logins=0))
    other = app.test_client()
    from webtesting import AuthActions

    AuthActions(other).as_user("counsellor2")
    assert other.get(url).status_code == 404
    assert other.get(download).status_code == 404
    assert f'href="{url}"' not in other.get("/jobs").get_data(as_text=True)
    admin = app.test_client()
    AuthActions(admin).as_user("admin")
    assert admin.get(url).status_code == 200 and admin.get(download).status_code == 200
    assert f'href="{url}"' in admin.get("/jobs").get_data(as_text=True)
    recruiter = app.test_client()
    AuthActions(recruiter).as_user("reca")
    assert recruiter.get(url).status_code == 403 and recruiter.get(download).status_code == 403
    # only an administrator may rebuild the index
    csrf = csrf_of(staff.get("/jobs").get_data(as_text=True))
    assert staff.post("/jobs/start", data={"csrf_token": csrf, "kind": "engine_index"}).status_code == 400


def test_an_administrator_rebuilds_the_index_as_a_job(app, auth, client):
    auth.as_user("admin")
    html = client.get("/jobs").get_data(as_text=True)
    assert 'id="start-index"' in html
    url = start(client, "/jobs", kind="engine_index")
    done = poll(client, url)
    assert 'data-status="done"' in done and "Chỉ mục đã được dựng và lưu" in done
    from data.vectorfile import index_dir

    assert any(index_dir(app.instance_path).iterdir())  # the saved vectors the next engine loads


CSV = "worker_id,full_name,birth_date,commune,skills,consent_share,phone\n" + "".join(
    f"W-BIG{i},Bế Thị Hoa {i},2000-01-0{i},Xã Bảo Lạc,may công nghiệp,true,091100011{i}\n" for i in range(1, 4))


def _upload(client, data: bytes):
    token = csrf_of(client.get("/counsellor/import").get_data(as_text=True))
    html = client.post("/counsellor/import", data={"kind": "workers", "csrf_token": token,
                                                   "file": (io.BytesIO(data), "workers.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    return html, re.search(r'/counsellor/import/([\w-]+)"', html).group(1)


@pytest.fixture
def big_import_app(db_url, tmp_path):
    from webtesting import make_app

    app = make_app(db_url, tmp_path, background_import_rows=2)
    yield app
    get_store(app).dispose()


def test_an_import_above_the_threshold_runs_as_a_job_all_or_nothing(big_import_app):
    from webtesting import AuthActions
    from models import Worker

    app = big_import_app
    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    bad = CSV + "W-BIG9,Ma Văn Tú,30/02/1998,Xã Thạch An,,,\n"
    html, token = _upload(client, bad.encode())
    response = client.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html)})
    assert response.status_code == 303 and re.fullmatch(r"/jobs/\d+", response.location)
    page = poll(client, response.location)
    assert "Không lưu dòng nào vì tệp có lỗi" in page and "30/02/1998" in page
    with get_store(app).session() as s:
        assert s.scalar(select(Worker.worker_id).where(Worker.worker_id.like("W-BIG%"))) is None  # nothing stored
    assert list(job_service.result_dir(app.instance_path).glob("input-*")) == []  # the input is deleted
    html, token = _upload(client, CSV.encode())
    response = client.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html)})
    page = poll(client, response.location)
    assert "Đã lưu: 3 thêm mới, 0 cập nhật, 0 không đổi." in page
    with get_store(app).session() as s:
        assert len(s.scalars(select(Worker.worker_id).where(Worker.worker_id.like("W-BIG%"))).all()) == 3
        imports = s.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
        assert imports and imports[-1].username == "counsellor"
    assert "Hoa 1" in client.get("/counsellor/workers?q=W-BIG1").get_data(as_text=True)


def test_a_small_import_stays_synchronous(app, staff):
    html, token = _upload(staff, CSV.encode())
    done = staff.post(f"/counsellor/import/{token}", data={"csrf_token": csrf_of(html)})
    assert done.status_code == 200 and "Đã lưu: 3 thêm mới" in done.get_data(as_text=True)
    with get_store(app).session() as s:
        assert s.scalar(select(Job.id)) is None


def test_jobs_whose_process_died_are_marked_failed(app, staff):
    st = get_store(app)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    now = job_service.utcnow()
    with st.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "counsellor"))
        old = Job(kind="period_report", status="running", args={}, backend="rq", created_by=uid,
                  started_at=now - dt.timedelta(minutes=10), heartbeat_at=now - dt.timedelta(minutes=5))
        fresh = Job(kind="period_report", status="running", args={}, backend="rq", created_by=uid,
                    started_at=now, heartbeat_at=now)
        orphan = Job(kind="period_report", status="queued", args={}, backend="thread", created_by=uid,
                     worker=f"{job_service.socket.gethostname()}:{pid}")
        killed = Job(kind="period_report", status="running", args={}, backend="thread", created_by=uid,
                     started_at=now, heartbeat_at=now, worker=f"{job_service.socket.gethostname()}:{pid}")
        s.add_all([old, fresh, orphan, killed])
        s.flush()
        ids = old.id, fresh.id, orphan.id, killed.id
    html = staff.get(f"/jobs/{ids[0]}").get_data(as_text=True)  # reading a job page looks for them
    assert 'data-status="failed"' in html and "process running this job stopped" in html
    with st.session() as s:
        assert [s.get(Job, i).status for i in ids] == ["failed", "running", "failed", "failed"]
    assert job_service.fail_stale(st) == []


def test_erasing_a_worker_deletes_the_job_files_that_name_them(app, staff):
    url = start(staff, "/intel/needs", kind="training_needs")
    poll(staff, url)
    sheet = cells(staff.get(url + "/download").data)["Danh sách"]
    wid = next(row[2] for row in sheet[2:] if row[2] and str(row[2]).startswith("W"))
    csrf = csrf_of(staff.get(f"/privacy/workers/{wid}").get_data(as_text=True))
    assert staff.post(f"/privacy/workers/{wid}/erase", data={"confirm": wid, "csrf_token": csrf}).status_code == 302
    assert staff.get(url + "/download").status_code == 404
    assert "Tệp kết quả không còn" in staff.get(url).get_data(as_text=True)
    assert list(job_service.result_dir(app.instance_path).iterdir()) == []


def test_matcher_jobs_list_prints_the_jobs_and_marks_the_dead_ones(app, monkeypatch, capsys):
    from web.cli import main

    st = get_store(app)
    monkeypatch.setenv("MATCHER_DATABASE_URL", st.url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", app.instance_path)
    settings = {**app.config["MATCHER"], "job_backend": "inline"}
    done = job_service.enqueue(st, settings, "period_report", {"start": PERIOD["from"], "end": PERIOD["to"]})
    with st.session() as s:
        dead = Job(kind="engine_index", status="running", args={}, backend="rq",
                   heartbeat_at=job_service.utcnow() - dt.timedelta(hours=1))
        s.add(dead)
        s.flush()
        dead_id = dead.id
    assert main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{done}\tperiod_report\tdone\t3/3" in out
    assert f"{dead_id}\tengine_index\tfailed" in out and f"marked failed (their process stopped): {dead_id}" in out


def test_result_files_are_deleted_a_day_after_the_job_ended(app, staff):
    url = start(staff, "/intel/report", kind="period_report", **PERIOD)
    poll(staff, url)
    job_id = int(url.rsplit("/", 1)[1])
    st = get_store(app)
    with st.session() as s:
        s.get(Job, job_id).finished_at = job_service.utcnow() - dt.timedelta(hours=23)
    staff.get("/jobs")
    assert staff.get(url + "/download").status_code == 200  # 23 hours: still kept
    with st.session() as s:
        s.get(Job, job_id).finished_at = job_service.utcnow() - dt.timedelta(hours=25)
    staff.get("/jobs")  # the list clears what expired
    assert staff.get(url + "/download").status_code == 404
    assert "Tệp kết quả không còn" in staff.get(url).get_data(as_text=True)
    assert list(job_service.result_dir(app.instance_path).iterdir()) == []
    with st.session() as s:
        assert s.get(Job, job_id).result["expired"] is True
