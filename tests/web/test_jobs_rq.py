"""The same job run both ways: on RQ over a real redis-server (an in-process SimpleWorker, and
``matcher jobs worker --burst`` in its own process, which opens the database from the URL the job
carries) and on the thread backend, giving the same workbook. SQLite and PostgreSQL alike.

Redis: ``MATCHER_TEST_REDIS_URL`` when set (.ci/run starts redis-server and sets it), else a
redis-server of this machine started for the test on a free port (.ci/setup installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Job, User
from web.services import jobs as job_service
from web.views.db import get_store
from test_jobs import PERIOD, cells, poll, start
from webtesting import AuthActions, make_app

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    given = os.environ.get("MATCHER_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (bash .ci/setup installs it) and MATCHER_TEST_REDIS_URL is not set")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    from redis import Redis

    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            Redis.from_url(url).ping()
            break
        except Exception:  # noqa: BLE001 - not listening yet
            assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def rq_app(db_url, tmp_path, redis_url):
    app = make_app(db_url, tmp_path, job_backend="rq", redis_url=redis_url)
    job_service.rq_queue(app.config["MATCHER"]).empty()  # nothing left by an earlier run
    yield app
    get_store(app).dispose()


def test_a_report_job_gives_the_same_workbook_on_rq_and_on_the_thread_backend(rq_app, tmp_path):
    from rq import SimpleWorker

    app = rq_app
    settings = app.config["MATCHER"]
    client = app.test_client()
    AuthActions(client).as_user("counsellor")
    url = start(client, "/intel/report", kind="period_report", **PERIOD)
    page = client.get(url).get_data(as_text=True)
    assert 'data-status="queued"' in page and '<meta http-equiv="refresh"' in page  # waits for a worker
    queue = job_service.rq_queue(settings)
    assert queue.count == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    html = poll(client, url, timeout=5)
    assert 'data-status="done"' in html
    by_rq = client.get(url + "/download")
    assert by_rq.status_code == 200

    # the same job handed to `matcher jobs worker` in a process of its own (RQ's forking worker)
    second = start(client, "/intel/report", kind="period_report", **PERIOD)
    env = {**os.environ, "MATCHER_REDIS_URL": settings["redis_url"], "MATCHER_INSTANCE_PATH": str(tmp_path / "cli")}
    run = subprocess.run([sys.executable, "-m", "web.cli", "jobs", "worker", "--burst"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    poll(client, second, timeout=5)
    by_cli = client.get(second + "/download")

    st = get_store(app)
    with st.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "counsellor"))
        rows = {r.id: r for r in s.scalars(select(Job))}
    thread_id = job_service.enqueue(st, {**settings, "job_backend": "thread"}, "period_report",
                                    {"start": PERIOD["from"], "end": PERIOD["to"]}, uid)
    done = job_service.wait(st, thread_id, timeout=60)
    assert done.status == "done" and done.backend == "thread"
    by_thread = client.get(f"/jobs/{thread_id}/download")
    assert cells(by_rq.data) == cells(by_thread.data) == cells(by_cli.data)
    assert cells(by_rq.data) == cells(client.get("/intel/report.xlsx?from=2026-01-01&to=2026-03-02").data)
    assert sorted(r.backend for r in rows.values()) == ["rq", "rq"]
    assert all(r.status == "done" and r.progress_done == r.progress_total == 3 for r in rows.values())


def test_a_failing_job_on_rq_is_marked_failed_not_lost(rq_app):
    from rq import SimpleWorker

    app = rq_app
    st, settings = get_store(app), app.config["MATCHER"]
    job_id = job_service.enqueue(st, settings, "period_report", {"start": "2026-02-30", "end": "2026-03-01"})
    queue = job_service.rq_queue(settings)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    row = job_service.wait(st, job_id, timeout=5)
    assert row.status == "failed" and "day is out of range for month" in row.error


def test_redis_unreachable_fails_the_job_with_a_message(app):
    st = get_store(app)
    settings = {**app.config["MATCHER"], "job_backend": "rq", "redis_url": f"redis://127.0.0.1:{_free_port()}/0"}
    job_id = job_service.enqueue(st, settings, "period_report", {"start": PERIOD["from"], "end": PERIOD["to"]})
    with st.session() as s:
        row = s.get(Job, job_id)
        assert row.status == "failed" and "could not hand the job to Redis" in row.error
