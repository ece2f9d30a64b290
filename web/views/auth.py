"""Sign-in, roles, sessions, lockout and personal API tokens.

- Passwords are stored as werkzeug hashes; API tokens as SHA-256 of a random 256-bit token
  (a token is high-entropy, so a fast hash is enough and lets us look it up by its hash).
- After ``MAX_FAILURES`` wrong passwords in a row an account is locked for ``LOCK_MINUTES``;
  while locked even the right password is refused. Every failed sign-in gets the same answer
  (``LOGIN_FAILED``, 401) and costs the same hash work, whatever the reason.
- Pages use the session cookie, which carries only a server-side session's random id
  (``web.views.sessions``); the API accepts the session or ``Authorization: Bearer TOKEN``.
  A token expires ``token_lifetime_days`` after it is issued (401 with a message after that);
  its last use is kept, written at most once a minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import User
from models.entities import utcnow
from models.enums import ROLES
from models.formatting import format_datetime
from web.views import sessions, throttle
from web.views.audit import record
from web.views.db import get_session, settings
from web.services import accounts
from web.services.accounts import AuthError, set_password, token_hash
from web.services.errors import BadRequest, Forbidden, Unauthorized
from web.views.errors import wants_json
from web.views.i18n import t
from web.services.passwords import MIN_LENGTH

MAX_FAILURES = 5
LOCK_MINUTES = 15
TOKEN_TOUCH_SECONDS = 60  # a token's last use is written at most this often
# Hash compared against when the user name is unknown, so both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))

bp = Blueprint("auth", __name__, url_prefix="/auth")


# --------------------------------------------------------------------------- users


def _token_user(s: Session, token: str, lifetime_days: int, now: dt.datetime) -> User:
    """The user whose token this is, or 401 (counted by the per-address throttle): unknown,
    disabled or locked account, or expired token. An accepted use is recorded (``_touch_token``)."""
    digest = token_hash(token)
    user = s.scalar(select(User).where(User.api_token_hash == digest))
    if (user is None or not user.active or not hmac.compare_digest(user.api_token_hash or "", digest)
            or (user.locked_until is not None and user.locked_until > now)):
        throttle.hit("token_failure")
        raise Unauthorized("Mã truy cập (token) không hợp lệ.", "The API token is not valid.")
    expires = user.api_token_expires_at
    if expires is not None and expires <= now:
        throttle.hit("token_failure")
        raise Unauthorized(
            f"Mã truy cập (token) đã hết hạn lúc {format_datetime(expires, 'vi')}; hãy xin quản trị viên cấp mã mới.",
            f"The API token expired at {format_datetime(expires, 'en')}; ask an administrator for a new one "
            "(matcher user token NAME).",
            reason="token_expired",
        )
    _touch_token(s, user, lifetime_days, now)
    return user


def _touch_token(s: Session, user: User, lifetime_days: int, now: dt.datetime) -> None:
    """Record the token's use, at most once every ``TOKEN_TOUCH_SECONDS`` (one conditional
    UPDATE, committed at once, so a busy client does not write on every call). A token from
    before expiry existed gets its lifetime from this first use."""
    last = user.api_token_last_used_at
    cutoff = now - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS)
    if last is not None and last > cutoff and user.api_token_expires_at is not None:
        return
    values: dict = {"api_token_last_used_at": now}
    if user.api_token_expires_at is None:
        values["api_token_expires_at"] = now + dt.timedelta(days=lifetime_days)
    s.execute(
        update(User)
        .where(User.id == user.id, or_(User.api_token_last_used_at.is_(None), User.api_token_last_used_at <= cutoff,
                                       User.api_token_expires_at.is_(None)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    s.commit()


def _set_counter(s: Session, user: User, failed: int, locked_until: dt.datetime | None) -> None:
    """Write the failure counter with a statement (the ORM copy is stale after the reservation)."""
    s.execute(update(User).where(User.id == user.id).values(failed_logins=failed, locked_until=locked_until)
              .execution_options(synchronize_session=False))
    s.expire(user, ["failed_logins", "locked_until"])


def _lock(s: Session, user: User, now: dt.datetime) -> None:
    _set_counter(s, user, 0, now + dt.timedelta(minutes=LOCK_MINUTES))
    record("lock", "user", str(user.id), by=user.username, minutes=LOCK_MINUTES)


def check_login(s: Session, username: str, password: str, now: dt.datetime | None = None) -> tuple[User | None, str]:
    """Verify a sign-in. Returns ``(user, "ok")`` or ``(None, reason)`` with reason one of
    ``bad`` (wrong name or password), ``locked``, ``inactive``; the reason is for the audit log
    only, the person signing in gets one answer for all (``LOGIN_FAILED``). A disabled or locked
    account's password is never checked, so the answer cannot confirm it; every path does the
    same hashing work once, so the time taken does not tell them apart either. Updates the
    failure counter."""
    now = now or utcnow()
    user = s.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None, "bad" if user is None else "inactive"
    # Reserve this attempt atomically before the password is checked: one conditional UPDATE
    # that holds the row until the request commits, so concurrent attempts queue and each sees
    # the count of the others; past MAX_FAILURES no password is checked at all.
    attempt = s.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=func.coalesce(User.failed_logins, 0) + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar()
    if attempt is None or attempt > MAX_FAILURES:
        check_password_hash(_DUMMY_HASH, password or "")
        if attempt is not None:
            _lock(s, user, now)
        return None, "locked"
    if not check_password_hash(user.password_hash, password or ""):
        if attempt >= MAX_FAILURES:
            _lock(s, user, now)
            return None, "locked"
        return None, "bad"
    _set_counter(s, user, 0, None)
    return user, "ok"


# --------------------------------------------------------------------------- request user


def current_user() -> User | None:
    return g.get("user")


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def load_user() -> None:
    """Before each request: find the user from the bearer token (API) or the session cookie."""
    g.user = None
    g.via_token = False
    g.session_id = None
    token = _bearer_token() if wants_json() else None
    s = None
    if token:
        throttle.check("token_failure")  # an address over the limit gets no token looked up
        s = get_session()
        g.user = _token_user(s, token, settings()["token_lifetime_days"], utcnow())
        g.via_token = True
        return
    for legacy in ("uid", "pw"):  # an older version's cookie: the id and the end of the hash
        session.pop(legacy, None)
    raw = session.get(sessions.COOKIE_KEY)
    if raw:
        found = sessions.session_user(s or get_session(), str(raw))
        if found is None:
            _fresh_cookie()
            return
        g.user, g.session_id = found


def role_required(*roles: str) -> Callable:
    """Allow only signed-in users with one of ``roles``: pages redirect anonymous visitors to
    the sign-in page, the API answers 401; a wrong role gets 403."""
    for r in roles:
        if r not in ROLES:
            raise ValueError(f"role_required: unknown role {r!r}; allowed: {ROLES}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if wants_json():
                    raise Unauthorized()
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorate


def login_required(view: Callable) -> Callable:
    return role_required(*ROLES)(view)


def home_for(user: User | None) -> str:
    if user is None:
        return url_for("auth.login")
    if user.role == "recruiter":
        return url_for("recruiter.orders")
    if user.role == "admin":
        return url_for("admin.recruiters")
    return url_for("counsellor.workers")


def _safe_next(target: str | None) -> str | None:
    """Only local paths are accepted as a redirect target after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# --------------------------------------------------------------------------- views

# The one answer to every failed sign-in (unknown name, wrong password, locked or disabled
# account): it says what may be wrong without saying which, so it reveals neither which names
# exist nor whether a password was right.
LOGIN_FAILED = (
    f"Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa. Sau {MAX_FAILURES} lần nhập sai, "
    f"tài khoản tạm khóa {LOCK_MINUTES} phút; nếu vẫn không đăng nhập được, hãy liên hệ quản trị viên.",
    f"Wrong user name or password, or the account is locked. After {MAX_FAILURES} wrong passwords an "
    f"account is locked for {LOCK_MINUTES} minutes; if signing in still fails, ask the administrator.",
)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user() is not None:
            return redirect(home_for(current_user()))
        return render_template("auth/login.html", error=None, username="")
    throttle.hit("login")  # per client address, before any password is checked
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    s = get_session()
    user, outcome = check_login(s, username, password)
    if user is None:
        record("login_failed", "user", None, username_tried=username[:100], reason=outcome, by=username[:100])
        s.commit()
        return render_template("auth/login.html", error=LOGIN_FAILED, username=username), 401
    record("login", "user", str(user.id), by=user.username)
    if g.get("session_id") is not None:  # signing in over an open session ends that one
        accounts.revoke(s, current_user().id, "replaced", only=g.session_id)
    raw = sessions.open_session(s, user)
    s.commit()
    _fresh_cookie()  # a new session id on sign-in (no fixation)
    session.permanent = True
    session[sessions.COOKIE_KEY] = raw
    g.user = user
    return redirect(_safe_next(request.args.get("next")) or home_for(user))


def _fresh_cookie() -> None:
    """Empty the cookie (signed out), keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user()
    if user is not None:
        s = get_session()
        if g.get("session_id") is not None:
            accounts.revoke(s, user.id, "logout", only=g.session_id)
        record("logout", "user", str(user.id))
        s.commit()
    _fresh_cookie()
    return redirect(url_for("auth.login"))


# --------------------------------------------------------------------------- passwords

# Where a user who must change the password (after an administrator's reset) may still go.
_OPEN_WHILE_MUST_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "static", "index"}


def password_change_gate():
    """Before each request: a user whose password was reset by an administrator sees only the
    change-password page (the API answers 403) until a new password is chosen."""
    user = current_user()
    if user is None or g.get("via_token") or not user.must_change_password:
        return None
    if request.endpoint in _OPEN_WHILE_MUST_CHANGE:
        return None
    if wants_json():
        raise Forbidden("Bạn phải đổi mật khẩu (tại /auth/password) trước khi tiếp tục.",
                        "You must change your password (at /auth/password) before going on.")
    return redirect(url_for("auth.change_password"))


PASSWORD_ERRORS = {
    "current": ("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    "confirm": ("Hai lần nhập mật khẩu mới không khớp.", "The two new passwords differ."),
    "same": ("Mật khẩu mới phải khác mật khẩu hiện tại.", "The new password must differ from the current one."),
}


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every signed-in user changes their own password: the current one is checked like a
    sign-in (it counts towards the lock-out and the per-address throttle), the new one must pass
    the policy; the user's other sessions end. Audited, without the passwords."""
    user = current_user()
    errors: dict[str, tuple[str, str]] = {}
    if request.method == "POST":
        throttle.hit("login")  # guessing the current password is throttled like signing in
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        s = get_session()
        checked, _ = check_login(s, user.username, current)
        if checked is None:
            errors["current_password"] = PASSWORD_ERRORS["current"]
        elif new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = PASSWORD_ERRORS["confirm"]
        elif new == current:
            errors["new_password"] = PASSWORD_ERRORS["same"]
        else:
            try:
                set_password(s, user, new, must_change=False)
            except AuthError as exc:
                errors["new_password"] = (exc.vi, exc.en)
        if errors:
            record("password_change_refused", "user", user.id, field=next(iter(errors)))
            s.commit()
            return render_template("auth/password.html", errors=errors, min_length=MIN_LENGTH), 422
        ended = accounts.revoke(s, user.id, "password_change", keep=g.get("session_id"))
        record("password_change", "user", user.id, sessions_ended=ended)
        s.commit()
        flash(t("Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.",
                "Password changed. Your other sessions have ended."))
        return redirect(home_for(user))
    return render_template("auth/password.html", errors=errors, min_length=MIN_LENGTH)


def require_form_version(form) -> int:
    """The ``version_id`` a form was rendered with; a form without it is out of date."""
    try:
        return int(form.get("version_id", ""))
    except ValueError:
        raise BadRequest(
            "Biểu mẫu thiếu phiên bản dữ liệu; hãy tải lại trang.",
            "The form lacks the record version; reload the page.",
        ) from None
