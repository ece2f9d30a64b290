"""Password policy, change-password and the administrator's reset (issue 14, item 11)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import AuditEvent, User, UserSession
from web.views.auth import MAX_FAILURES
from web.views.db import get_store
from web.services.passwords import MIN_LENGTH, common_passwords, password_problem

from webtesting import PASSWORDS, AuthActions, csrf_of

NEW = "trâu vàng gặm cỏ non"  # passes the policy


@pytest.mark.parametrize(
    ("password", "username", "why"),
    [
        ("password", None, "ít nhất 10 ký tự"),
        (" " * 8, None, "ít nhất 10 ký tự"),
        (" " * 12, None, "ít nhất 10 ký tự"),
        ("   short   ", None, "ít nhất 10 ký tự"),  # spaces at the ends do not count
        ("12345678", None, "ít nhất 10 ký tự"),
        ("x" * 129, None, "tối đa 128"),
        ("aaaaaaaaaaaa", None, "ký tự khác nhau"),
        ("1212121212", None, "ký tự khác nhau"),
        ("matkhau123", None, "quá phổ biến"),
        ("caobang123", None, "quá phổ biến"),
        ("Caobang@123", None, "quá phổ biến"),  # case and punctuation do not matter
        ("MậtKhẩu123", None, "quá phổ biến"),  # nor diacritics
        ("password2026", None, "quá phổ biến"),  # a listed word with digits around it
        ("2026Password!", None, "quá phổ biến"),
        ("1234567890", None, "quá phổ biến"),
        ("qwertyuiop", None, "quá phổ biến"),
        ("hoangvan2026", "hoangvan", "tên đăng nhập"),
        ("HoangVan_2026", "hoangvan", "tên đăng nhập"),
        ("hoang.van.hoang.van", "hoang.van", "tên đăng nhập"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, username, why):
    problem = password_problem(password, username)
    assert problem is not None and why in problem[0]
    assert problem[1] and problem[1] != problem[0]  # English second


@pytest.mark.parametrize("password", [NEW, "counsellor-pass-123", "Gió núi Pác Bó 1941", "k7#Qm2!vRz", "  matkhau-cua-lan-rat-dai  "])
def test_good_passwords_pass(password):
    assert password_problem(password, "counsellor") is None


def test_the_shipped_list_is_short_and_holds_the_local_ones():
    words = common_passwords()
    assert 200 <= len(words) <= 400
    assert {"password", "12345678", "matkhau123", "caobang123", "123456789", "qwerty"} <= words


def test_every_fixture_password_passes_the_policy():
    for name, password in PASSWORDS.items():
        assert password_problem(password, name) is None, name


# ----------------------------------------------------------------------------- change


def _change(client, current, new, confirm=None):
    token = csrf_of(client.get("/auth/password").get_data(as_text=True))
    return client.post("/auth/password", data={"csrf_token": token, "current_password": current,
                                               "new_password": new, "confirm_password": new if confirm is None else confirm})


def _events(app, action):
    with get_store(app).session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_change_password_page_is_vietnamese_first_and_linked_from_every_page(auth, client):
    auth.login("reca")
    html = client.get("/recruiter/orders").get_data(as_text=True)
    assert 'id="change-password"' in html and "Đổi mật khẩu" in html
    page = client.get("/auth/password").get_data(as_text=True)
    assert "Mật khẩu hiện tại" in page and f"Ít nhất {MIN_LENGTH} ký tự" in page
    assert "Current password" in client.get("/auth/password?lang=en").get_data(as_text=True)


def test_a_user_changes_the_password_and_their_other_sessions_end(app, auth, client):
    auth.login("counsellor")
    laptop = app.test_client()
    AuthActions(laptop).login("counsellor")
    response = _change(client, PASSWORDS["counsellor"], NEW)
    assert response.status_code == 302
    assert client.get("/counsellor/workers").status_code == 200  # this session goes on
    assert laptop.get("/counsellor/workers").status_code == 302  # the other one ended
    [event] = _events(app, "password_change")
    assert event.username == "counsellor" and event.detail["sessions_ended"] == 1
    assert PASSWORDS["counsellor"] not in json.dumps(event.detail) and "gặm" not in json.dumps(event.detail)
    with get_store(app).session() as s:
        reasons = s.scalars(select(UserSession.revoked_reason).order_by(UserSession.id)).all()
    assert reasons == [None, "password_change"]
    fresh = AuthActions(app.test_client())
    assert fresh.login("counsellor").status_code == 401  # the old password no longer works
    assert fresh.login("counsellor", NEW).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong-password-1", NEW, None, "current_password", "Mật khẩu hiện tại không đúng"),
        (PASSWORDS["counsellor"], NEW, NEW + "x", "confirm_password", "không khớp"),
        (PASSWORDS["counsellor"], "caobang123", None, "new_password", "quá phổ biến"),
        (PASSWORDS["counsellor"], " " * 12, None, "new_password", "ít nhất 10 ký tự"),
        (PASSWORDS["counsellor"], PASSWORDS["counsellor"], None, "new_password", "phải khác mật khẩu hiện tại"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, auth, client, current, new, confirm, field, message):
    auth.login("counsellor")
    with get_store(app).session() as s:
        before = s.scalar(select(User.password_hash).where(User.username == "counsellor"))
    response = _change(client, current, new, confirm)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="e-{field}"' in html and message in html
    with get_store(app).session() as s:
        assert s.scalar(select(User.password_hash).where(User.username == "counsellor")) == before
    [event] = _events(app, "password_change_refused")
    assert event.detail["field"] == field


def test_guessing_the_current_password_counts_towards_the_lock_out(app, auth, client):
    auth.login("counsellor")
    for _ in range(MAX_FAILURES):
        assert _change(client, "wrong-password-1", NEW).status_code == 422
    with get_store(app).session() as s:
        assert s.scalar(select(User.locked_until).where(User.username == "counsellor")) is not None
    assert _change(client, PASSWORDS["counsellor"], NEW).status_code == 422  # locked: not even the right one


def test_change_password_needs_the_csrf_token(auth, client):
    auth.login("counsellor")
    response = client.post("/auth/password", data={"current_password": PASSWORDS["counsellor"],
                                                   "new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 400


# ----------------------------------------------------------------------------- reset


def _uid(app, name):
    with get_store(app).session() as s:
        return s.scalar(select(User.id).where(User.username == name))


def _reset(admin, uid, password):
    token = csrf_of(admin.get("/admin/users").get_data(as_text=True))
    return admin.post(f"/admin/users/{uid}/password", data={"csrf_token": token, "password": password})


def test_admin_reset_ends_sessions_and_forces_a_change_at_next_sign_in(app):
    user = app.test_client()
    AuthActions(user).login("counsellor")
    admin = app.test_client()
    AuthActions(admin).login("admin")
    uid = _uid(app, "counsellor")
    assert _reset(admin, uid, "tạm thời đổi ngay 7").status_code == 302
    assert user.get("/counsellor/workers").status_code == 302  # the open session ended
    [event] = _events(app, "password_reset")
    assert (event.username, event.entity_id, event.detail["sessions_ended"]) == ("admin", str(uid), 1)
    assert "tạm thời" not in json.dumps(event.detail)
    assert "phải đổi mật khẩu khi đăng nhập" in admin.get("/admin/users").get_data(as_text=True)

    auth = AuthActions(user)
    assert auth.login("counsellor").status_code == 401
    assert auth.login("counsellor", "tạm thời đổi ngay 7").status_code == 302
    gated = user.get("/counsellor/workers")
    assert gated.status_code == 302 and gated.headers["Location"] == "/auth/password"
    api = user.get("/api/workers")
    assert api.status_code == 403 and "/auth/password" in api.get_json()["error"]["message"]
    assert 'id="must-change"' in user.get("/auth/password").get_data(as_text=True)
    assert _change(user, "tạm thời đổi ngay 7", NEW).status_code == 302
    assert user.get("/counsellor/workers").status_code == 200
    with get_store(app).session() as s:
        assert s.get(User, uid).must_change_password is False


def test_a_weak_reset_is_refused_beside_the_user_and_changes_nothing(app, auth, client):
    auth.login("admin")
    uid = _uid(app, "reca")
    response = _reset(client, uid, "12345678")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="reset-error-{uid}"' in html and "ít nhất 10 ký tự" in html
    assert AuthActions(app.test_client()).login("reca").status_code == 302
    assert _events(app, "password_reset") == []


def test_admin_resets_only_other_users(app, auth, client):
    auth.login("admin")
    response = _reset(client, _uid(app, "admin"), NEW)
    assert response.status_code == 400 and "Đổi mật khẩu" in response.get_data(as_text=True)
    assert _reset(client, 999999, NEW).status_code == 404


def test_a_reset_lifts_a_lock_out(app, auth, client):
    for _ in range(MAX_FAILURES):
        AuthActions(app.test_client()).login("reca", "wrong-password-1")
    auth.login("admin")
    assert _reset(client, _uid(app, "reca"), NEW).status_code == 302
    assert AuthActions(app.test_client()).login("reca", NEW).status_code == 302
