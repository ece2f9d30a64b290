"""Sign-in sessions kept on the server (issue 14, items 5 and 13).

The browser's cookie (Flask's signed cookie) carries only a random 256-bit session id under
``sid``, next to the language and the CSRF token; the ``user_sessions`` table stores the id's
SHA-256, the user, and when the session was opened, last used, ends and was revoked. A session
is refused when:

- it was revoked: on logout (that session), on a password change (the user's other sessions),
  on an administrator's reset or deactivation (all of them), after ``matcher restore`` (every
  session, since the snapshot may hold sessions ended since) - always through ``revoke``;
- ``expires_at`` has passed: sign-in time + ``session_lifetime_hours``, never extended by use;
- it was idle for ``session_idle_minutes`` (0: no idle limit);
- its user no longer exists or is disabled.

So a copied cookie stops working at logout, and nothing derived from the password travels in it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from data.settings import SettingsError
from models import User, UserSession
from models.entities import utcnow
from web.services import accounts

COOKIE_KEY = "sid"
# last_seen_at is written at most this often per session (a write per request would make every
# page a database write); the idle limit is therefore exact to within this.
TOUCH_EVERY = dt.timedelta(seconds=60)
# Ended sessions are deleted this long after their end, when someone signs in.
KEEP_ENDED = dt.timedelta(days=30)


def init_app(app: Flask, settings: dict) -> None:
    """Check the two settings and make the cookie last no longer than the session."""
    if settings["session_lifetime_hours"] < 1:
        raise SettingsError(
            f"Setting session_lifetime_hours={settings['session_lifetime_hours']!r} must be at least 1 (hours)."
        )
    if settings["session_idle_minutes"] < 0:
        raise SettingsError(
            f"Setting session_idle_minutes={settings['session_idle_minutes']!r} must be 0 (no idle limit) or more."
        )
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=settings["session_lifetime_hours"])
    # The cookie is written only when the session changes (sign-in, a language switch, a flash
    # message), never re-sent on every answer: a page requested before a language switch and
    # answered after it would otherwise put the old language back in the browser. The cookie then
    # expires the absolute lifetime after the sign-in, as the server-side session does.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False


def _digest(raw: str) -> str:
    from web.services.accounts import token_hash

    return token_hash(raw)


def _settings() -> dict:
    return current_app.config["MATCHER"]


def open_session(s: Session, user: User, now: dt.datetime | None = None) -> str:
    """Start a session for ``user`` (not committed); returns the random id for the cookie."""
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    lifetime = dt.timedelta(hours=_settings()["session_lifetime_hours"])
    s.execute(delete(UserSession).where(UserSession.expires_at < now - KEEP_ENDED))
    s.add(UserSession(token_hash=_digest(raw), user_id=user.id, created_at=now, last_seen_at=now,
                      expires_at=now + lifetime))
    s.flush()
    return raw


def session_user(s: Session, raw: str, now: dt.datetime | None = None) -> tuple[User, int] | None:
    """The user and session id behind the cookie's ``raw`` id, or None when the session is
    unknown, revoked, past its lifetime, idle too long, or its user is gone or disabled. Records
    the use (at most every ``TOUCH_EVERY``) and commits that."""
    now = now or utcnow()
    row = s.scalar(select(UserSession).where(UserSession.token_hash == _digest(raw)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    idle = _settings()["session_idle_minutes"]
    if idle and now - row.last_seen_at >= dt.timedelta(minutes=idle):
        accounts.revoke(s, row.user_id, "idle", only=row.id, now=now)
        s.commit()
        return None
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        s.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
                  .execution_options(synchronize_session=False))
        s.commit()
    return user, row.id


