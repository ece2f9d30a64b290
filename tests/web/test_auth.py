"""Sign-in, lockout, CSRF, API tokens, security headers and start-up checks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data.settings import SettingsError
from models import AuditEvent, User
from web import create_app
from web.views.auth import LOCK_MINUTES, MAX_FAILURES
from web.services.accounts import AuthError, create_user, issue_token
from web.views.db import get_store
from web.views.security import CSP

from webtesting import PASSWORDS, csrf_of


def _user(app, name):
    with get_store(app).session() as s:
        return s.scalar(select(User).where(User.username == name))


def test_login_page_is_vietnamese_first(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Đăng nhập" in html and "Mật khẩu" in html
    assert 'lang="vi"' in html
    english = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert "Sign in" in english and 'lang="en"' in english


@pytest.mark.parametrize(
    ("username", "home"),
    [("counsellor", "/counsellor/workers"), ("admin", "/admin/recruiters"), ("reca", "/recruiter/orders")],
)
def test_login_goes_to_the_role_home(auth, client, username, home):
    response = auth.login(username)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_is_refused_and_audited(app, auth):
    response = auth.login("counsellor", "wrong-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    with get_store(app).session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert event.detail["username_tried"] == "counsellor"


def test_unknown_user_gets_the_same_answer(auth):
    response = auth.login("nobody", "whatever-123")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)


def test_lockout_after_five_failures_for_fifteen_minutes(app, auth, client):
    assert (MAX_FAILURES, LOCK_MINUTES) == (5, 15)
    for _ in range(MAX_FAILURES - 1):
        assert auth.login("counsellor", "wrong-password").status_code == 401
    locked = auth.login("counsellor", "wrong-password")
    assert locked.status_code == 401
    assert "tạm khóa 15 phút" in locked.get_data(as_text=True)
    # Even the right password is refused while locked.
    assert auth.login("counsellor").status_code == 401
    user = _user(app, "counsellor")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert dt.timedelta(minutes=14) < user.locked_until - now <= dt.timedelta(minutes=15)
    # Fifteen minutes later the right password works again and resets the counter.
    with get_store(app).session() as s:
        s.scalar(select(User).where(User.username == "counsellor")).locked_until = now - dt.timedelta(seconds=1)
    assert auth.login("counsellor").status_code == 302
    assert _user(app, "counsellor").failed_logins == 0
    with get_store(app).session() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "lock")) is not None


def _failure(auth, username, password):
    """Status and error paragraph of a failed sign-in."""
    import re

    response = auth.login(username, password)
    html = response.get_data(as_text=True)
    return response.status_code, re.search(r'<p class="error"[^>]*id="login-error">(.*?)</p>', html, re.S).group(1)


def _lock_out(auth, username):
    for _ in range(MAX_FAILURES):
        auth.login(username, "wrong-password")


def _disable(app, username):
    with get_store(app).session() as s:
        s.scalar(select(User).where(User.username == username)).active = False


def test_every_failed_sign_in_gets_the_same_answer(app, auth):
    """Issue 14, item 13: an unknown name, a wrong password, a locked account (with its right
    password) and a disabled account (with its right or a wrong password) are answered alike."""
    answers = {"unknown": _failure(auth, "nobody-here", "whatever-123"),
               "wrong": _failure(auth, "counsellor", "wrong-password")}
    _lock_out(auth, "reca")
    answers["locked, right password"] = _failure(auth, "reca", PASSWORDS["reca"])
    answers["locked, wrong password"] = _failure(auth, "reca", "wrong-password")
    _disable(app, "recb")
    answers["disabled, right password"] = _failure(auth, "recb", PASSWORDS["recb"])
    answers["disabled, wrong password"] = _failure(auth, "recb", "wrong-password")
    assert len(set(answers.values())) == 1, answers
    status, message = answers["unknown"]
    assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu" in message
    with get_store(app).session() as s:  # the audit log keeps the real reason
        reasons = [e.detail["reason"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")
                                                          .order_by(AuditEvent.id))]
    assert reasons[:2] == ["bad", "bad"] and reasons[-4:] == ["locked", "locked", "inactive", "inactive"]


def test_a_locked_or_disabled_account_never_has_its_password_checked(app, auth, monkeypatch):
    """Its own hash is never compared (so a right password cannot be told from a wrong one),
    yet every failure does the same hashing work once (the dummy hash)."""
    import web.views.auth as auth_mod

    real = auth_mod.check_password_hash
    calls = []

    def counting(hash_, password):
        calls.append("dummy" if hash_ == auth_mod._DUMMY_HASH else "real")
        return real(hash_, password)

    _lock_out(auth, "reca")
    _disable(app, "recb")
    monkeypatch.setattr(auth_mod, "check_password_hash", counting)
    for username in ("reca", "recb", "nobody-here"):
        for password in (PASSWORDS.get(username, "x-password-1"), "wrong-password"):
            calls.clear()
            assert auth.login(username, password).status_code == 401
            assert calls == ["dummy"], (username, password)
    calls.clear()
    auth.login("counsellor", "wrong-password")
    assert calls == ["real"]


def test_a_success_resets_the_failure_count(app, auth):
    for _ in range(MAX_FAILURES - 1):
        auth.login("counsellor", "wrong-password")
    assert auth.login("counsellor").status_code == 302
    auth.logout()
    for _ in range(MAX_FAILURES - 1):
        assert auth.login("counsellor", "wrong-password").status_code == 401
    assert auth.login("counsellor").status_code == 302


def test_disabled_user_cannot_sign_in_and_loses_its_session(app, auth, client):
    auth.login("counsellor")
    assert client.get("/counsellor/workers").status_code == 200
    with get_store(app).session() as s:
        s.scalar(select(User).where(User.username == "counsellor")).active = False
    assert client.get("/counsellor/workers").status_code == 302
    assert auth.login("counsellor").status_code == 401


def test_logout_ends_the_session(auth, client):
    auth.login("counsellor")
    assert auth.logout().status_code == 302
    response = client.get("/counsellor/workers")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_login_redirects_only_to_local_paths(auth, client):
    token = auth.csrf_token()
    bad = client.post("/auth/login?next=https://evil.example/", data={"username": "counsellor", "password": PASSWORDS["counsellor"], "csrf_token": token})
    assert bad.headers["Location"] == "/counsellor/workers"
    client.post("/auth/logout", data={"csrf_token": csrf_of(client.get("/counsellor/workers").get_data(as_text=True))})
    token = auth.csrf_token()
    good = client.post("/auth/login?next=/dashboard/", data={"username": "counsellor", "password": PASSWORDS["counsellor"], "csrf_token": token})
    assert good.headers["Location"] == "/dashboard/"


# ----------------------------------------------------------------------------- CSRF


def test_forms_without_csrf_token_are_rejected(auth, client):
    response = client.post("/auth/login", data={"username": "counsellor", "password": PASSWORDS["counsellor"]})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    auth.login("counsellor")
    response = client.post("/counsellor/shortlist", data={"worker_id": "W-CONSENT", "order_id": "ORD-A2"})
    assert response.status_code == 400
    forged = client.post("/counsellor/shortlist", data={"worker_id": "W-CONSENT", "order_id": "ORD-A2", "csrf_token": "forged"})
    assert forged.status_code == 400


def test_api_with_session_cookie_needs_csrf_but_bearer_token_does_not(app, auth, client):
    auth.login("reca")
    body = {"title": "Thợ may", "country": "TW", "positions": 2}
    refused = client.post("/api/orders", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf"
    with get_store(app).session() as s:
        token = issue_token(s, "reca")
    fresh = app.test_client()
    response = fresh.post("/api/orders", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409  # past CSRF and authentication: a rule in force refuses it (no approval)
    assert "no_approval" in {r["code"] for r in response.get_json()["error"]["detail"]["reasons"]}


# ----------------------------------------------------------------------------- tokens


def test_api_token_authenticates_and_is_stored_hashed(app):
    with get_store(app).session() as s:
        token = issue_token(s, "counsellor")
    user = _user(app, "counsellor")
    assert user.api_token_hash and token not in user.api_token_hash
    client = app.test_client()
    assert client.get("/api/workers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong = client.get("/api/workers", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/workers").status_code == 401
    # A new token replaces the old one.
    with get_store(app).session() as s:
        issue_token(s, "counsellor")
    assert client.get("/api/workers", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_create_user_validates(app):
    with get_store(app).session() as s:
        with pytest.raises(AuthError, match="role must be one of admin, counsellor, recruiter; got 'boss'"):
            create_user(s, "x1", "long-enough-1", "boss")
        with pytest.raises(AuthError, match="ít nhất 10 ký tự.*at least 10 characters"):
            create_user(s, "x2", "short", "counsellor")
        with pytest.raises(AuthError, match="quá phổ biến.*too common"):
            create_user(s, "x2", "matkhau123", "counsellor")
        with pytest.raises(AuthError, match="--recruiter ID"):
            create_user(s, "x3", "long-enough-1", "recruiter")
        with pytest.raises(AuthError, match="No enterprise with id 'NOPE'"):
            create_user(s, "x4", "long-enough-1", "recruiter", "NOPE")
        with pytest.raises(AuthError, match="already exists"):
            create_user(s, "admin", "long-enough-1", "admin")
        user = create_user(s, "newbie", "long-enough-1", "recruiter", "REC-A")
        assert user.password_hash.startswith("scrypt:") and "long-enough-1" not in user.password_hash


# ----------------------------------------------------------------------------- headers, cookies


def test_security_headers_on_every_response(client):
    for path in ("/auth/login", "/static/style.css", "/api/openapi.json", "/nowhere"):
        with client.get(path) as response:
            assert response.headers["Content-Security-Policy"] == CSP
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "same-origin"
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP and "style-src 'self'" in CSP


def test_pages_have_no_inline_script_or_style(auth, client):
    import re

    auth.login("admin")
    for path in ("/counsellor/workers", "/counsellor/workers/W-CONSENT/matches", "/dashboard/", "/admin/audit",
                 "/counsellor/workers/W-CONSENT/edit"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html, path
        assert "<style" not in html and not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers


def test_session_cookie_flags(db_url, tmp_path):
    from webtesting import make_app

    app = make_app(db_url, tmp_path, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.get("/auth/login?lang=en")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    get_store(app).dispose()


def test_secure_cookie_by_default_outside_demo(db_url, tmp_path):
    app = create_app({"database_url": db_url, "secret_key": "a-real-secret", "instance_path": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    demo = create_app({"database_url": db_url, "demo": True, "instance_path": str(tmp_path)})
    assert demo.config["SESSION_COOKIE_SECURE"] is False
    for a in (app, demo):
        get_store(a).dispose()


def test_default_secret_key_stops_the_start(db_url, tmp_path):
    with pytest.raises(SettingsError, match="MATCHER_SECRET_KEY"):
        create_app({"database_url": db_url, "instance_path": str(tmp_path)})


def test_unknown_setting_stops_the_start(db_url, tmp_path):
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        create_app({"TESTING": True, "database_url": db_url, "colour": "red"})


def test_errors_are_json_under_api_and_html_elsewhere(client):
    api = client.get("/api/nothing-here")
    assert api.status_code == 404 and api.is_json
    assert api.get_json()["error"] == {"status": 404, "code": "not_found", "message": "Not found.", "message_vi": "Không tìm thấy."}
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "Không tìm thấy" in page.get_data(as_text=True)


def test_serving_process_gives_faiss_one_thread(db_url, tmp_path):
    import faiss

    faiss.omp_set_num_threads(2)
    try:
        app = create_app({"TESTING": True, "database_url": db_url, "instance_path": str(tmp_path)})
        assert faiss.omp_get_max_threads() == 1
        get_store(app).dispose()
    finally:
        faiss.omp_set_num_threads(1)


def test_parallel_wrong_passwords_check_at_most_the_limit(app, monkeypatch):
    """50 concurrent wrong passwords: at most MAX_FAILURES are checked against the real hash,
    the account ends locked, and the right password sent after them is refused."""
    import threading

    import web.views.auth as auth_mod
    from webtesting import PASSWORDS, csrf_of

    real = auth_mod.check_password_hash
    checked = []

    def counting(hash_, password):
        if hash_ != auth_mod._DUMMY_HASH:
            checked.append(password)
        return real(hash_, password)

    monkeypatch.setattr(auth_mod, "check_password_hash", counting)
    clients = [app.test_client() for _ in range(50)]
    tokens = [csrf_of(c.get("/auth/login").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(clients))

    def attempt(c, token):
        barrier.wait()
        c.post("/auth/login", data={"username": "counsellor", "password": "wrong-password-x", "csrf_token": token})

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(checked) <= auth_mod.MAX_FAILURES
    c = app.test_client()
    r = c.post("/auth/login", data={"username": "counsellor", "password": PASSWORDS["counsellor"],
                                    "csrf_token": csrf_of(c.get("/auth/login").get_data(as_text=True))})
    assert r.status_code != 302  # refused: the account is locked
    assert len(checked) <= auth_mod.MAX_FAILURES
