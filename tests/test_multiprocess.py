"""Several web processes on one database: gunicorn with 3 workers on loopback, on the suite's
database (one SQLite file, or PostgreSQL with MATCHER_TEST_DATABASE_URL), under a bounded
concurrent load of API writes (application stage moves) and reads. No request may fail and no
write may be lost: every accepted move is in the database afterwards (stage events and audit
lines counted), and each application ends at the stage its moves imply.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
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
    from web.services.accounts import issue_token
    from web.views.db import get_store

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


@contextlib.contextmanager
def running_gunicorn(db_url, tmp_path, workers: int, **settings: str):
    """gunicorn with ``workers`` workers on a free loopback port, on ``db_url``; yields the base
    URL. ``settings`` are extra MATCHER_* settings. The log must hold no traceback at the end."""
    port = _free_port()
    env = {**os.environ, "MATCHER_DATABASE_URL": db_url, "MATCHER_SECRET_KEY": "multiprocess-test-secret-key",
           "MATCHER_ENCODER": "hashing", "MATCHER_TODAY": "2026-03-02", "MATCHER_INSTANCE_PATH": str(tmp_path / "instance"),
           **{"MATCHER_" + k.upper(): v for k, v in settings.items()}}
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen([GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120", "web:create_app()"],
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
        yield base
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


@pytest.fixture
def gunicorn(db_url, tmp_path, seeded_app_db):
    with running_gunicorn(db_url, tmp_path, 3) as base:
        yield base, seeded_app_db


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


LOGIN_ATTEMPTS = 50


def _login(base: str, username: str, password: str) -> int:
    """GET the sign-in form (cookie and CSRF token), POST the password; the status, redirects
    not followed. The cookie is carried by hand: it is marked Secure and this is plain http."""
    import re

    with urllib.request.urlopen(base + "/auth/login", timeout=60) as r:
        cookie = r.headers["Set-Cookie"].split(";", 1)[0]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": csrf}).encode()
    req = urllib.request.Request(base + "/auth/login", data=body, method="POST", headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_concurrent_wrong_passwords_on_two_workers_stay_within_the_lockout(db_url, tmp_path):
    """LOGIN_ATTEMPTS wrong passwords at once against 2 gunicorn workers (each throttling in its
    own memory): at most MAX_FAILURES passwords are checked (the database lock-out holds across
    workers), the rest are refused, and the right password sent afterwards is refused while locked."""
    from webtesting import PASSWORDS, make_app

    from data.store import Store
    from web.views.auth import MAX_FAILURES
    from web.views.db import get_store

    get_store(make_app(db_url, tmp_path)).dispose()
    with running_gunicorn(db_url, tmp_path, 2) as base:
        statuses: list[int] = []
        lock = threading.Lock()

        def attempt(i: int):
            status = _login(base, "counsellor", f"wrong-password-{i}")
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(LOGIN_ATTEMPTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        last = _login(base, "counsellor", PASSWORDS["counsellor"])
    assert len(statuses) == LOGIN_ATTEMPTS and 302 not in statuses
    assert set(statuses) <= {401, 429}  # 401: every refused sign-in alike; 429: the address throttle
    assert last in (401, 429)  # refused: locked (or throttled), never signed in
    store = Store(db_url)
    with store.session() as s:
        checked = s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
        bad = [e for e in checked if e.detail.get("reason") == "bad"]
        locks = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lock"))
    store.dispose()
    assert len(bad) <= MAX_FAILURES - 1  # the MAX_FAILURES-th wrong password locks instead
    assert locks >= 1
