"""Security headers, CSRF on every form, cookie settings.

The Content-Security-Policy allows scripts, styles and images from the app itself only: no
inline script or style anywhere (the charts use SVG presentation attributes, not ``style``).
CSRF tokens are required on every unsafe request except API calls authenticated with a bearer
token (a browser never attaches that header by itself, so they cannot be forged cross-site).
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_wtf.csrf import CSRFProtect

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, after the user is known
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if g.get("user") is not None and not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # personal data: no caching
        return response


def check_csrf() -> None:
    """Before each request (after the user is loaded): unsafe methods need a CSRF token,
    except API calls authenticated by a bearer token, and API calls by nobody at all: those
    change nothing and get the 401 their document declares from the view, not a CSRF 400."""
    from flask import current_app

    from web.views.errors import wants_json

    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    if g.get("via_token") or (wants_json() and g.get("user") is None):
        return
    csrf.protect()
