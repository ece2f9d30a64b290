"""The web verbs of the ``matcher`` command: user add, user token, demo."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from data.store import Store
from models import User, Worker
from web import create_app
from web.cli import main
from web.views.db import get_store


def _instance(tmp_path, db_url):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "secret_key": "cli-test-secret"}))
    return str(inst)


def test_user_add_reads_the_password_from_stdin_and_token_works(tmp_path, db_url, monkeypatch, capsys):
    fresh = Store(db_url)
    fresh.reset()
    fresh.dispose()
    inst = _instance(tmp_path, db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    assert main(["--instance", inst, "user", "add", "lan", "--role", "counsellor", "--full-name", "Nông Thị Lan"]) == 0
    assert "user lan added" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--instance", inst, "user", "add", "lan2", "--role", "counsellor"]) == 1
    err = capsys.readouterr().err
    assert err.index("ít nhất 10 ký tự") < err.index("at least 10 characters")
    monkeypatch.setattr("sys.stdin", io.StringIO("caobang2026\n"))
    assert main(["--instance", inst, "user", "add", "lan2", "--role", "counsellor"]) == 1
    assert "too common" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    assert main(["--instance", inst, "user", "add", "rec", "--role", "recruiter"]) == 1
    assert "--recruiter ID" in capsys.readouterr().err
    assert main(["--instance", inst, "user", "token", "lan"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["--instance", inst, "user", "token", "nobody"]) == 1
    app = create_app({"instance_path": inst})
    try:
        with get_store(app).session() as s:
            user = s.scalar(select(User).where(User.username == "lan"))
            assert user.full_name == "Nông Thị Lan" and user.api_token_hash and token not in user.api_token_hash
        client = app.test_client()
        assert client.get("/api/workers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        login = client.get("/auth/login").get_data(as_text=True)
        import re

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        signed_in = client.post("/auth/login", data={"username": "lan", "password": "a-good-password", "csrf_token": csrf})
        assert signed_in.status_code == 302
    finally:
        get_store(app).dispose()


def test_demo_creates_data_and_users_without_serving(tmp_path, db_url, capsys):
    inst = _instance(tmp_path, db_url)
    code = main(["--instance", inst, "demo", "--no-serve", "--database-url", db_url,
                 "--workers", "25", "--orders", "40", "--recruiters", "12"])
    assert code == 0
    out = capsys.readouterr().out
    for name in ("admin", "counsellor", "recruiter"):
        assert f"  {name}" in out
    password = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("counsellor"))
    store = Store(db_url)
    try:
        with store.session() as s:
            assert s.query(Worker).count() == 25
            roles = {u.username: (u.role, u.recruiter_id) for u in s.scalars(select(User))}
            assert roles["admin"] == ("admin", None) and roles["recruiter"][0] == "recruiter"
            assert roles["recruiter"][1] is not None
            # three years of history: departures, and the classes behind the training indicators
            import datetime as dt

            from models import TrainingCourse
            from web.services import stats

            period = stats.Period(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
            assert stats.placements(s, period)["departed"] > 0
            assert s.query(TrainingCourse).count() > 0
            assert stats.language_training(s, period)["from_records"] > 0
    finally:
        store.dispose()
    assert "history of 3 years" in out
    app = create_app({"instance_path": inst, "demo": True, "encoder": "hashing"})
    try:
        client = app.test_client()
        import re

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True)).group(1)
        assert client.post("/auth/login", data={"username": "counsellor", "password": password, "csrf_token": csrf}).status_code == 302
        assert "Chế độ trình diễn" in client.get("/counsellor/workers").get_data(as_text=True)
    finally:
        get_store(app).dispose()


def test_user_password_resets_with_the_policy_and_ends_sessions(tmp_path, db_url, monkeypatch, capsys):
    from models import AuditEvent, UserSession
    from web.views import sessions

    inst = _instance(tmp_path, db_url)
    app = create_app({"instance_path": inst, "TESTING": True})
    store = get_store(app)
    try:
        store.reset()
        with app.app_context(), store.session() as s:
            from web.services.accounts import create_user

            user = create_user(s, "lan", "a-good-password", "counsellor")
            sessions.open_session(s, user)
        monkeypatch.setattr("sys.stdin", io.StringIO("matkhau1234\n"))
        assert main(["--instance", inst, "user", "password", "lan"]) == 1
        assert "quá phổ biến" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
        assert main(["--instance", inst, "user", "password", "nobody"]) == 1
        assert "No user named 'nobody'" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO("mây trắng trên núi\n"))
        assert main(["--instance", inst, "user", "password", "lan"]) == 0
        assert "1 open sessions ended" in capsys.readouterr().out
        with store.session() as s:
            user = s.scalar(select(User).where(User.username == "lan"))
            assert user.must_change_password is True
            assert s.scalar(select(UserSession.revoked_reason)) == "password_reset"
            event = s.scalar(select(AuditEvent).where(AuditEvent.action == "password_reset"))
            assert event.detail["via"] == "cli" and "mây" not in json.dumps(event.detail)
    finally:
        store.dispose()
