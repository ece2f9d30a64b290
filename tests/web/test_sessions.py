"""Server-side sessions (issue 14, items 5 and 13): the cookie carries only a random session id,
logout and deactivation end the session for every copy of the cookie, and a session ends at its
absolute lifetime however often it is used (web.views.sessions)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from data.settings import SettingsError
from models import User, UserSession
from models.entities import utcnow
from web.views import sessions
from web.views.db import get_store

from webtesting import AuthActions, csrf_of, make_app

COOKIE = "matcher_session"
PAGE = "/counsellor/orders"  # any signed-in page


def _copy(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def _signed_in(client) -> bool:
    r = client.get(PAGE)
    assert r.status_code in (200, 302)
    return r.status_code == 200


def _rows(app, username):
    with get_store(app).session() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return s.scalars(select(UserSession).where(UserSession.user_id == uid).order_by(UserSession.id)).all()


class Clock:
    """A clock the sessions read (``web.views.sessions.utcnow``), moved by hand."""

    def __init__(self, monkeypatch):
        self.now = utcnow()
        monkeypatch.setattr(sessions, "utcnow", lambda: self.now)

    def advance(self, **kw):
        self.now += dt.timedelta(**kw)


def test_a_cookie_copied_before_logout_is_refused_after_logout(app, auth, client):
    assert auth.login("counsellor").status_code == 302
    thief = _copy(app, client)
    assert _signed_in(thief)
    assert auth.logout().status_code == 302
    assert not _signed_in(thief)
    assert not _signed_in(client)
    [row] = _rows(app, "counsellor")
    assert row.revoked_at is not None and row.revoked_reason == "logout"


def test_logout_ends_only_that_session(app, client):
    other = app.test_client()
    AuthActions(client).login("counsellor")
    AuthActions(other).login("counsellor")
    AuthActions(client).logout()
    assert not _signed_in(client) and _signed_in(other)


def test_signing_in_over_an_open_session_ends_the_old_one(app, auth, client):
    auth.as_user("reca")
    thief = _copy(app, client)
    assert thief.get("/recruiter/orders").status_code == 200
    assert auth.login("counsellor").status_code == 302
    assert thief.get("/recruiter/orders").status_code == 302
    assert _rows(app, "reca")[0].revoked_reason == "replaced"
    assert _signed_in(client)


def test_the_lifetime_is_absolute_even_when_used_every_ten_minutes(app, auth, client, monkeypatch):
    clock = Clock(monkeypatch)
    lifetime = app.config["MATCHER"]["session_lifetime_hours"]
    assert lifetime == 8
    assert auth.login("counsellor").status_code == 302
    for _ in range(lifetime * 6 - 1):  # up to 7 h 50 min of steady use
        clock.advance(minutes=10)
        assert _signed_in(client), clock.now
    clock.advance(minutes=10)  # 8 hours after the sign-in
    assert not _signed_in(client)
    [row] = _rows(app, "counsellor")
    assert row.expires_at - row.created_at == dt.timedelta(hours=lifetime)
    assert row.last_seen_at > row.created_at  # the use was recorded, the end did not move


def test_an_idle_session_ends_after_the_idle_limit(app, auth, client, monkeypatch):
    clock = Clock(monkeypatch)
    assert app.config["MATCHER"]["session_idle_minutes"] == 60
    auth.login("counsellor")
    clock.advance(minutes=59)
    assert _signed_in(client)
    clock.advance(minutes=59)  # 59 minutes since the last use: still fine
    assert _signed_in(client)
    clock.advance(minutes=60)
    assert not _signed_in(client)
    clock.advance(seconds=1)
    assert not _signed_in(client)  # ended for good, not only while idle
    assert _rows(app, "counsellor")[0].revoked_reason == "idle"


def test_no_idle_limit_when_set_to_zero(db_url, tmp_path, monkeypatch):
    app = make_app(db_url, tmp_path, session_idle_minutes=0, session_lifetime_hours=2)
    try:
        clock = Clock(monkeypatch)
        client = app.test_client()
        AuthActions(client).login("counsellor")
        clock.advance(minutes=119)
        assert _signed_in(client)
        clock.advance(minutes=1)
        assert not _signed_in(client)
    finally:
        get_store(app).dispose()


def test_deactivating_a_user_ends_their_open_session_for_good(app, client):
    AuthActions(client).login("counsellor")
    assert _signed_in(client)
    admin = app.test_client()
    AuthActions(admin).login("admin")
    uid = _rows(app, "counsellor")[0].user_id
    token = csrf_of(admin.get("/admin/users").get_data(as_text=True))
    assert admin.post(f"/admin/users/{uid}/active", data={"active": "false", "csrf_token": token}).status_code == 302
    assert not _signed_in(client)
    assert _rows(app, "counsellor")[0].revoked_reason == "deactivate"
    # enabling the account again does not bring the old cookie back
    assert admin.post(f"/admin/users/{uid}/active", data={"active": "true", "csrf_token": token}).status_code == 302
    assert not _signed_in(client)
    assert AuthActions(client).login("counsellor").status_code == 302


def test_the_cookie_holds_only_a_random_session_id(app, auth, client):
    auth.login("counsellor")
    value = client.get_cookie(COOKIE).value
    data = app.session_interface.get_signing_serializer(app).loads(value)
    assert set(data) <= {sessions.COOKIE_KEY, "csrf_token", "lang", "_permanent"}
    with get_store(app).session() as s:
        password_hash = s.scalar(select(User.password_hash).where(User.username == "counsellor"))
        row = s.scalar(select(UserSession))
    pieces = {password_hash[i:i + 8] for i in range(len(password_hash) - 7)}
    assert not any(p in value or p in str(data) for p in pieces)
    assert "uid" not in data and "pw" not in data
    # the table keeps only the id's digest
    raw = data[sessions.COOKIE_KEY]
    assert len(raw) >= 40 and row.token_hash != raw and raw not in row.token_hash


def test_a_cookie_forged_with_a_user_id_signs_nobody_in(app, client):
    """The old cookie format (uid + the end of the hash) no longer authenticates."""
    with get_store(app).session() as s:
        user = s.scalar(select(User).where(User.username == "admin"))
        uid, pw = user.id, user.password_hash[-16:]
    with client.session_transaction() as sess:
        sess["uid"], sess["pw"] = uid, pw
    assert not _signed_in(client)
    with client.session_transaction() as sess:
        assert "uid" not in sess and "pw" not in sess  # the old keys are dropped from the cookie


def test_an_unknown_or_expired_session_id_is_refused(app, client):
    with client.session_transaction() as sess:
        sess[sessions.COOKIE_KEY] = "made-up-session-id"
    assert not _signed_in(client)
    AuthActions(client).as_user("counsellor")
    assert _signed_in(client)
    with get_store(app).session() as s:
        s.execute(update(UserSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert not _signed_in(client)
    with client.session_transaction() as sess:
        assert sessions.COOKIE_KEY not in sess  # the dead id is dropped from the cookie


def test_old_ended_sessions_are_deleted_at_a_later_sign_in(app, auth):
    auth.login("counsellor")
    auth.logout()
    with get_store(app).session() as s:
        s.execute(update(UserSession).values(expires_at=utcnow() - sessions.KEEP_ENDED - dt.timedelta(days=1)))
    auth.login("counsellor")
    assert len(_rows(app, "counsellor")) == 1


@pytest.mark.parametrize(("name", "value"), [("session_lifetime_hours", 0), ("session_idle_minutes", -5)])
def test_bad_session_settings_stop_the_start(db_url, tmp_path, name, value):
    from web import create_app

    with pytest.raises(SettingsError, match=name):
        create_app({"TESTING": True, "database_url": db_url, "instance_path": str(tmp_path), name: value})


def test_the_cookie_lifetime_follows_the_setting(db_url, tmp_path):
    app = make_app(db_url, tmp_path, session_lifetime_hours=3)
    try:
        assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=3)
    finally:
        get_store(app).dispose()


def test_a_restore_does_not_bring_back_a_session_ended_after_the_snapshot(app, auth, client, tmp_path, monkeypatch):
    """The snapshot holds the session open; after logout and restore the copied cookie stays dead."""
    from web.cli import main

    auth.login("counsellor")
    thief = _copy(app, client)
    monkeypatch.setenv("MATCHER_DATABASE_URL", app.config["MATCHER"]["database_url"])
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    snapshot = tmp_path / "snap.backup"
    get_store(app).dispose()  # the CLI works on the database alone, as with the server stopped
    assert main(["backup", str(snapshot)]) == 0
    auth.logout()
    get_store(app).dispose()
    assert main(["restore", str(snapshot)]) == 0
    get_store(app).dispose()
    assert not _signed_in(thief)
    assert not _signed_in(client)
    assert {r.revoked_reason for r in _rows(app, "counsellor")} == {"restore"}
    assert AuthActions(client).login("counsellor").status_code == 302


def test_a_page_answered_after_a_language_switch_does_not_bring_the_old_language_back(app, auth, client):
    """The cookie is written only when the session changes: a page asked for before a language
    switch (with the old cookie) and answered after it sets no cookie, so the browser keeps the
    language just chosen. Before, every answer re-sent the session it had read."""
    auth.login("counsellor")
    client.get(PAGE)  # the first page stores the CSRF token in the session
    assert "Set-Cookie" not in client.get(PAGE).headers  # nothing changed: nothing written
    old = client.get_cookie(COOKIE).value
    assert client.get(PAGE + "?lang=en").headers.get("Set-Cookie", "").startswith(COOKIE)
    late = app.test_client()  # the request sent before the switch, with the cookie of then
    late.set_cookie(COOKIE, old)
    answer = late.get(PAGE)
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert 'lang="en"' in client.get(PAGE).get_data(as_text=True)  # the browser's language stays English
