"""Several web processes on one database: gunicorn with 3 workers on loopback, on the suite's
database (one SQLite file, or PostgreSQL with MATCHER_TEST_DATABASE_URL), under a bounded
concurrent load of API writes (application stage moves) and reads. No request may fail and no
write may be lost: every accepted move is in the database afterwards (stage events and audit
lines counted), and each application ends at the stage its moves imply.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent / "web"))

from models import Application, AuditEvent, StageEvent  # noqa: E402

pytestmark = pytest.mark.slow

THREADS = 6
APPS_PER_THREAD = 2
MOVES_PER_APP = 4  # suggested -> shortlisted -> suggested -> ... (legal order checked each time)
REPO = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", **({"Content-Type": "application/json"} if data else {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:500]


@pytest.fixture
def seeded_app_db(db_url, tmp_path):
    """The web fixture's records plus THREADS * APPS_PER_THREAD applications at "suggested";
    returns (app ids, counsellor token)."""
    from webtesting import make_app

    from models import Worker
    from web.auth import issue_token
    from web.db import get_store

    app = make_app(db_url, tmp_path)
    store = get_store(app)
    with store.session() as s:
        workers = s.scalars(select(Worker.worker_id).where(Worker.worker_id != "W-CONSENT").order_by(Worker.worker_id)).all()
        apps = []
        for i, wid in enumerate(workers[: THREADS * APPS_PER_THREAD]):
            a = Application(worker_id=wid, order_id="ORD-A2" if i % 2 else "ORD-A1", stage="suggested", created_by="test")
            a.events.append(StageEvent(from_stage=None, to_stage="suggested", by="test"))
            s.add(a)
            apps.append(a)
        s.flush()
        ids = [a.id for a in apps]
        token = issue_token(s, "counsellor")
    store.dispose()
    assert len(ids) == THREADS * APPS_PER_THREAD
    return ids, token


@pytest.fixture
def gunicorn(db_url, tmp_path, seeded_app_db):
    port = _free_port()
    env = {**os.environ, "MATCHER_DATABASE_URL": db_url, "MATCHER_SECRET_KEY": "multiprocess-test-secret-key",
           "MATCHER_ENCODER": "hashing", "MATCHER_TODAY": "2026-03-02", "MATCHER_INSTANCE_PATH": str(tmp_path / "instance")}
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen([GUNICORN, "-w", "3", "-b", f"127.0.0.1:{port}", "--timeout", "120", "web:create_app()"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/openapi.json", timeout=5):
                break
        except OSError:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    try:
        yield base, seeded_app_db
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        text = (tmp_path / "gunicorn.log").read_text()
        assert "Traceback" not in text, text[-4000:]


def test_three_gunicorn_workers_lose_no_write(gunicorn, db_url):
    from data.store import Store

    base, (app_ids, token) = gunicorn
    store = Store(db_url)
    with store.session() as s:
        events_before = s.scalar(select(func.count()).select_from(StageEvent))
        audits_before = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "stage"))
    failures: list[str] = []
    done: list[int] = []
    reads: list[int] = []
    lock = threading.Lock()

    def client(mine: list[int]):
        for step in range(MOVES_PER_APP):
            to = "shortlisted" if step % 2 == 0 else "suggested"
            for aid in mine:
                status, body = _call(base, token, "POST", f"/api/applications/{aid}/stage", {"to": to})
                with lock:
                    (done.append(aid) if status == 200 else failures.append(f"move {aid} -> {to}: {status} {body}"))
            for path in ("/api/orders", f"/api/orders/ORD-A{1 + step % 2}/matches?top=5", "/api/workers?limit=20"):
                status, body = _call(base, token, "GET", path)
                with lock:
                    (reads.append(status) if status == 200 else failures.append(f"GET {path}: {status} {body}"))

    threads = [threading.Thread(target=client, args=(app_ids[i::THREADS],)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert failures == []
    assert len(done) == len(app_ids) * MOVES_PER_APP and len(reads) == THREADS * MOVES_PER_APP * 3
    with store.session() as s:
        events_after = s.scalar(select(func.count()).select_from(StageEvent))
        audits_after = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "stage"))
        stages = dict(s.execute(select(Application.id, Application.stage).where(Application.id.in_(app_ids))).all())
        versions = dict(s.execute(select(Application.id, Application.version_id).where(Application.id.in_(app_ids))).all())
    store.dispose()
    writes = len(app_ids) * MOVES_PER_APP
    assert events_after - events_before == writes
    assert audits_after - audits_before == writes
    final = "shortlisted" if MOVES_PER_APP % 2 else "suggested"
    assert set(stages.values()) == {final}
    assert set(versions.values()) == {1 + MOVES_PER_APP}
