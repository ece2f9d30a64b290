"""User accounts without a request: creating users, passwords, API tokens, ending sign-in
sessions. The pages (web.views.auth) and the ``matcher user`` verbs call these."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from data.settings import BY_NAME
from models import Recruiter, User, UserSession
from models.entities import utcnow
from models.enums import ROLES
from web.services.passwords import password_problem


TOKEN_LIFETIME_DAYS = BY_NAME["token_lifetime_days"].default


class AuthError(ValueError):
    """A user cannot be created or found, or a password cannot be set. ``vi`` and ``en`` say
    why; ``str()`` gives both, Vietnamese first (the CLI prints it)."""

    def __init__(self, vi: str, en: str | None = None):
        self.vi, self.en = vi, en or vi
        super().__init__(vi if en is None else f"{vi} {en}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    s: Session,
    username: str,
    password: str,
    role: str,
    recruiter_id: str | None = None,
    full_name: str | None = None,
) -> User:
    """Add a user (not committed). Raises ``AuthError`` saying what is wrong and what is allowed."""
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AuthError(f"Tên đăng nhập phải có 1-100 ký tự, không có khoảng trắng; nhận được {username!r}.",
                        f"The user name must be 1-100 characters without spaces; got {username!r}.")
    if role not in ROLES:
        raise AuthError(f"Vai trò phải là một trong {', '.join(ROLES)}; nhận được {role!r}.",
                        f"The role must be one of {', '.join(ROLES)}; got {role!r}.")
    check_new_password(password, username)
    if role == "recruiter":
        if not recruiter_id:
            raise AuthError("Tài khoản doanh nghiệp phải gắn với một doanh nghiệp (--recruiter ID).",
                            "A recruiter user must be linked to an enterprise: give --recruiter ID.")
        if s.get(Recruiter, recruiter_id) is None:
            raise AuthError(f"Không có doanh nghiệp mã {recruiter_id!r}.", f"No enterprise with id {recruiter_id!r}.")
    elif recruiter_id:
        raise AuthError(f"Chỉ tài khoản doanh nghiệp mới gắn với doanh nghiệp; vai trò {role!r} thì không.",
                        f"Only recruiter users are linked to an enterprise; {role!r} is not.")
    if s.scalar(select(User).where(User.username == username)) is not None:
        raise AuthError(f"Đã có tài khoản tên {username!r}.", f"A user named {username!r} already exists.")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        recruiter_id=recruiter_id,
        full_name=full_name,
        active=True,
        failed_logins=0,
    )
    s.add(user)
    s.flush()
    return user


def check_new_password(password: str, username: str) -> None:
    """Raise ``AuthError`` when ``password`` breaks the policy (web.services.passwords)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise AuthError(*problem)


def set_password(s: Session, user: User, password: str, *, must_change: bool) -> None:
    """Give ``user`` a new password that passes the policy (else ``AuthError``, nothing changed);
    ``must_change`` makes the next sign-in lead to the change-password page (an administrator's
    reset). Clears a lock-out. Not committed; the caller ends sessions and audits."""
    check_new_password(password, user.username)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    s.flush()


def reset_user_password(s: Session, user: User, password: str) -> int:
    """An administrator's reset (web page or ``matcher user password``): the password must pass
    the policy (else ``AuthError``), the user must change it at the next sign-in, a lock-out is
    lifted and every session of the user ends. Returns how many ended; the caller audits."""
    set_password(s, user, password, must_change=True)
    return revoke(s, user.id, "password_reset")


def issue_token(s: Session, username: str, lifetime_days: int | None = None, now: dt.datetime | None = None) -> str:
    """Give ``username`` a new API token (replacing any old one) that works for ``lifetime_days``
    (default: the ``token_lifetime_days`` setting's default); returns it, stores its hash."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise AuthError(f"No user named {username!r}.")
    token = secrets.token_urlsafe(32)
    user.api_token_hash = token_hash(token)
    user.api_token_expires_at = (now or utcnow()) + dt.timedelta(days=lifetime_days or TOKEN_LIFETIME_DAYS)
    user.api_token_last_used_at = None
    s.flush()
    return token


def revoke(s: Session, user_id: int | None, reason: str, *, only: int | None = None, keep: int | None = None,
           now: dt.datetime | None = None) -> int:
    """End the open sessions of ``user_id`` (the one place that does; None: of every user, after
    a restore): all of them, only the session ``only`` (logout), or all but ``keep`` (the session
    that changed the password). ``reason`` is stored with each (logout, password_change,
    password_reset, deactivate, idle, restore, replaced). Not committed: the caller commits with the change
    that caused it. Returns how many ended."""
    now = now or utcnow()
    q = update(UserSession).where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
    if user_id is not None:
        q = q.where(UserSession.user_id == user_id)
    if only is not None:
        q = q.where(UserSession.id == only)
    if keep is not None:
        q = q.where(UserSession.id != keep)
    result = s.execute(q.values(revoked_at=now, revoked_reason=reason).execution_options(synchronize_session=False))
    return result.rowcount or 0
