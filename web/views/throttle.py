"""Per-client-address throttles (Flask-Limiter) for sign-in and failed API-token calls.

Two limits, both from the settings: ``login_rate_limit`` counts every POST to /auth/login, and
``token_failure_rate_limit`` counts bearer-token calls whose token is refused; once an address
is over the token limit, every token call from it is refused (429) before any token is looked
up. The counts live in ``rate_limit_storage`` (a Flask-Limiter storage URI): in memory each
gunicorn worker counts alone, a shared store (e.g. Redis) makes the limit hold across workers.
The per-account lock-out in ``web.views.auth.check_login`` holds across workers in any case, because
it is counted in the database.
"""

from __future__ import annotations

import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

from data.settings import SettingsError
from web.services.errors import TooManyRequests

KINDS = {"login": "login_rate_limit", "token_failure": "token_failure_rate_limit",
         "register": "registration_rate_limit"}


def init_app(app: Flask, settings: dict) -> None:
    limits = {}
    for kind, name in KINDS.items():
        try:
            limits[kind] = parse(str(settings[name]))
        except ValueError:
            raise SettingsError(
                f"Setting {name}={settings[name]!r} is not a rate limit; expected e.g. '20 per minute' or '5/second'."
            ) from None
    limiter = Limiter(key_func=get_remote_address, storage_uri=settings["rate_limit_storage"] or "memory://",
                      default_limits=[])
    try:
        limiter.init_app(app)
    except Exception as exc:  # a bad storage URI: say which setting
        raise SettingsError(
            f"Setting rate_limit_storage={settings['rate_limit_storage']!r} is not usable: {exc}"
        ) from None
    app.extensions["matcher_throttle"] = (limiter, limits)


def _parts(kind: str):
    limiter, limits = current_app.extensions["matcher_throttle"]
    return limiter.limiter, limits[kind], (kind, get_remote_address())


def _refuse(strategy, item, key) -> None:
    reset_at, _ = strategy.get_window_stats(item, *key)
    raise TooManyRequests(retry_after=max(1, int(reset_at - time.time())))


def hit(kind: str) -> None:
    """Count one event of ``kind`` for this client address; 429 when over the limit."""
    strategy, item, key = _parts(kind)
    if not strategy.hit(item, *key):
        _refuse(strategy, item, key)


def check(kind: str) -> None:
    """429 when this address is already over the limit of ``kind`` (counts nothing)."""
    strategy, item, key = _parts(kind)
    if not strategy.test(item, *key):
        _refuse(strategy, item, key)
