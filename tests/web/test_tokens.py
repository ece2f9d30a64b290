"""Personal API tokens expire and record their last use (issue 14, item 13)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from data.settings import SettingsError, load_settings
from models import User
from models.entities import utcnow
from web.views.auth import TOKEN_TOUCH_SECONDS
from web.services.accounts import issue_token
from web.views.db import get_store


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_row(app, username: str) -> User:
    with get_store(app).session() as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
        return user


def set_token_times(app, username: str, **values) -> None:
    with get_store(app).session() as s:
        s.execute(update(User).where(User.username == username).values(**values))


def test_a_token_works_until_it_expires_then_gets_401_with_a_message(app, client):
    before = utcnow()
    with get_store(app).session() as s:
        token = issue_token(s, "counsellor")
    expires = token_row(app, "counsellor").api_token_expires_at
    assert dt.timedelta(days=90) <= expires - before <= dt.timedelta(days=90, minutes=1)
    assert client.get("/api/workers", headers=bearer(token)).status_code == 200
    set_token_times(app, "counsellor", api_token_expires_at=utcnow() - dt.timedelta(seconds=1))
    refused = client.get("/api/workers", headers=bearer(token))
    assert refused.status_code == 401
    error = refused.get_json()["error"]
    assert error["detail"]["reason"] == "token_expired"
    assert "hết hạn" in error["message_vi"] and "expired" in error["message"] and "new one" in error["message"]
    # A new token replaces the expired one.
    with get_store(app).session() as s:
        fresh = issue_token(s, "counsellor")
    assert client.get("/api/workers", headers=bearer(fresh)).status_code == 200
    assert client.get("/api/workers", headers=bearer(token)).status_code == 401


def test_the_lifetime_follows_the_setting(db_url, tmp_path):
    from webtesting import make_app

    app = make_app(db_url, tmp_path, token_lifetime_days=2)
    try:
        client = app.test_client()
        with get_store(app).session() as s:
            token = issue_token(s, "admin", lifetime_days=2)
        assert client.get("/api/orders", headers=bearer(token)).status_code == 200
        expires = token_row(app, "admin").api_token_expires_at
        assert dt.timedelta(days=2) - dt.timedelta(minutes=1) <= expires - utcnow() <= dt.timedelta(days=2)
        # A token issued before tokens expired (no expiry stored) gets the lifetime from its next use.
        set_token_times(app, "admin", api_token_expires_at=None, api_token_last_used_at=None)
        assert client.get("/api/orders", headers=bearer(token)).status_code == 200
        legacy = token_row(app, "admin")
        assert legacy.api_token_expires_at is not None
        assert dt.timedelta(days=2) - dt.timedelta(minutes=1) <= legacy.api_token_expires_at - utcnow() <= dt.timedelta(days=2)
    finally:
        get_store(app).dispose()
    with pytest.raises(SettingsError, match="token_lifetime_days.*at least 1"):
        load_settings(str(tmp_path / "none"), {"token_lifetime_days": 0}, environ={})


def test_last_use_is_written_at_most_once_a_minute(app, client):
    with get_store(app).session() as s:
        token = issue_token(s, "reca")
    assert token_row(app, "reca").api_token_last_used_at is None
    assert client.get("/api/orders", headers=bearer(token)).status_code == 200
    first = token_row(app, "reca").api_token_last_used_at
    assert first is not None and utcnow() - first < dt.timedelta(seconds=30)
    # Within the minute another call writes nothing ...
    recent = utcnow() - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS - 20)
    set_token_times(app, "reca", api_token_last_used_at=recent)
    assert client.get("/api/orders", headers=bearer(token)).status_code == 200
    assert token_row(app, "reca").api_token_last_used_at == recent
    # ... after it, the next call records the new time.
    old = utcnow() - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS + 5)
    set_token_times(app, "reca", api_token_last_used_at=old)
    assert client.get("/api/orders", headers=bearer(token)).status_code == 200
    assert token_row(app, "reca").api_token_last_used_at > old + dt.timedelta(seconds=30)
    # A refused call (an expired token) records no use.
    set_token_times(app, "reca", api_token_expires_at=utcnow() - dt.timedelta(days=1), api_token_last_used_at=old)
    assert client.get("/api/orders", headers=bearer(token)).status_code == 401
    assert token_row(app, "reca").api_token_last_used_at == old


def test_the_user_list_shows_expiry_and_last_use(app, client, auth):
    with get_store(app).session() as s:
        issue_token(s, "reca")
        issue_token(s, "recb")
        issue_token(s, "counsellor")
    set_token_times(app, "recb", api_token_last_used_at=dt.datetime(2026, 3, 1, 2, 30))
    set_token_times(app, "counsellor", api_token_expires_at=dt.datetime(2026, 1, 5, 1, 0))
    auth.as_user("admin")
    html = client.get("/admin/users").get_data(as_text=True)

    def cell(name: str) -> str:
        return html.split(f'id="token-{name}"', 1)[1].split("</small>", 1)[0]

    assert "hết hạn" in cell("reca") and "chưa dùng" in cell("reca")
    assert "dùng lần cuối" in cell("recb") and "01/03/2026 09:30" in cell("recb")  # shown in Vietnam time
    assert "đã hết hạn lúc" in cell("counsellor") and "05/01/2026 08:00" in cell("counsellor")
    assert 'id="token-admin"' not in html  # no token, nothing shown


def test_the_cli_prints_the_expiry(tmp_path, db_url, capsys):
    from data.store import Store
    from web.cli import main

    fresh = Store(db_url)
    fresh.reset()
    with fresh.session() as s:
        s.add(User(username="lan", password_hash="x", role="counsellor", active=True, failed_logins=0))
    fresh.dispose()
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.json").write_text(json.dumps({"database_url": db_url, "secret_key": "cli-test-secret",
                                                  "token_lifetime_days": 7}))
    assert main(["--instance", str(inst), "user", "token", "lan"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() and "valid 7 days" in out.err
    check = Store(db_url)
    try:
        with check.session() as s:
            user = s.scalar(select(User).where(User.username == "lan"))
            assert dt.timedelta(days=7) - dt.timedelta(minutes=1) <= user.api_token_expires_at - utcnow() <= dt.timedelta(days=7)
    finally:
        check.dispose()
