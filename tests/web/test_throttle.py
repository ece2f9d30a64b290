"""Per-address throttles: sign-in attempts and failed API-token calls (web.views.throttle)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from data.settings import SettingsError
from models import User
from models.entities import utcnow
from web.services.accounts import issue_token
from web.views.db import get_store

from webtesting import AuthActions, make_app


@pytest.fixture
def tight(db_url, tmp_path):
    app = make_app(db_url, tmp_path, login_rate_limit="3 per minute", token_failure_rate_limit="2 per minute")
    yield app
    get_store(app).dispose()


def test_sign_in_attempts_past_the_limit_get_429_and_no_password_is_checked(tight):
    auth = AuthActions(tight.test_client())
    for _ in range(3):
        assert auth.login("counsellor", "wrong-password").status_code == 401
    response = auth.login("counsellor")  # the right password, but this address is over the limit
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert html.index("Quá nhiều lần thử từ địa chỉ này") < html.index("Too many attempts from this address")
    assert int(response.headers["Retry-After"]) >= 1
    with get_store(tight).session() as s:
        assert s.get(User, _uid(s, "counsellor")).failed_logins == 3  # the 4th was never checked
    # another address is not affected
    other = AuthActions(tight.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert other.login("counsellor").status_code == 302


def _uid(s, name):
    from sqlalchemy import select

    return s.scalar(select(User.id).where(User.username == name))


def _api(client, token, addr="127.0.0.1"):
    return client.get("/api/orders", headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": addr})


def test_failed_tokens_past_the_limit_block_every_token_from_that_address(tight):
    with get_store(tight).session() as s:
        good = issue_token(s, "counsellor")
    client = tight.test_client()
    assert _api(client, good).status_code == 200  # successes are not counted
    assert _api(client, "guess-1").status_code == 401
    assert _api(client, "guess-2").status_code == 401
    third = _api(client, "guess-3")
    assert third.status_code == 429
    assert third.get_json()["error"]["code"] == "too_many_requests"
    assert third.get_json()["error"]["message_vi"].startswith("Quá nhiều lần thử")
    assert _api(client, good).status_code == 429  # even a good token, from this address
    assert _api(client, good, "10.0.0.7").status_code == 200


def test_a_locked_accounts_token_stops_working(app):
    with get_store(app).session() as s:
        token = issue_token(s, "counsellor")
    client = app.test_client()
    assert _api(client, token).status_code == 200
    with get_store(app).session() as s:
        s.execute(update(User).where(User.username == "counsellor").values(locked_until=utcnow() + dt.timedelta(minutes=5)))
    assert _api(client, token).status_code == 401
    with get_store(app).session() as s:
        s.execute(update(User).where(User.username == "counsellor").values(locked_until=utcnow() - dt.timedelta(minutes=1)))
    assert _api(client, token).status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [("login_rate_limit", "lots"), ("token_failure_rate_limit", "per minute 3"), ("rate_limit_storage", "nosuch://x")],
)
def test_a_bad_throttle_setting_stops_start_up_naming_it(db_url, tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        make_app(db_url, tmp_path, **{name: value})
