"""The Flask side: the app factory and the blueprints (counsellor, recruiter, admin, API), thin
views over ``web.services``.

Nothing happens at import time. ``create_app(test_config)`` resolves the settings through
``data.settings.load_settings`` (``test_config`` entries in lower case are settings given as
overrides; entries in upper case are Flask configuration such as ``TESTING``), refuses to start
with the default secret key outside demo mode, opens the store, and registers the blueprints.

Production: ``gunicorn "web:create_app()"`` (settings from MATCHER_* variables or
``instance/config.json``); ``matcher serve`` runs werkzeug's development server.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect
from werkzeug.routing import IntegerConverter

from data.settings import BY_NAME, SettingsError, load_settings
from data.store import Store
from matcher.index import serve_single_threaded


class DatabaseInt(IntegerConverter):
    """``<int:...>`` in a URL: an id that fits a database INTEGER, so a larger one is a 404
    instead of an overflow error from PostgreSQL."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. See the module docstring for ``test_config``."""
    # Over 80 lines: the order of the registrations matters (converters before routes, sessions
    # before throttles before blueprints), and one list in order says it best.
    app = Flask("web")  # root path web/: templates and static assets live there
    app.url_map.converters["int"] = DatabaseInt  # before any route is added
    test_config = dict(test_config or {})
    flask_config = {k: v for k, v in test_config.items() if k.isupper()}
    overrides = {k: v for k, v in test_config.items() if not k.isupper()}
    instance_path = overrides.pop("instance_path", None)
    settings = load_settings(instance_path, overrides)

    app.config.from_mapping(
        MATCHER=settings,
        SECRET_KEY=settings["secret_key"],
        MAX_CONTENT_LENGTH=settings["max_upload_mb"] * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings["demo"],
        SESSION_COOKIE_NAME="matcher_session",
        JSON_SORT_KEYS=False,
    )
    app.config.update(flask_config)
    if app.config.get("TESTING") and "SESSION_COOKIE_SECURE" not in flask_config:
        app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain http
    if settings["secret_key"] == BY_NAME["secret_key"].default and not settings["demo"] and not app.testing:
        raise SettingsError(
            "The secret key is the built-in default. Set MATCHER_SECRET_KEY (or 'secret_key' in "
            "instance/config.json) to a long random value, e.g. the output of "
            "`python -c \"import secrets; print(secrets.token_hex(32))\"`; only demo mode may run without."
        )
    app.instance_path = str(settings["instance_path"])
    from web.views import throttle

    throttle.init_app(app, settings)  # before the store opens: a bad limit setting leaks nothing
    from web.views import sessions

    sessions.init_app(app, settings)
    serve_single_threaded()  # one query per request: faiss threads would only contend

    from matcher.scoring import WeightsError
    from web.services.weights import weights_in_use

    try:  # a bad version name stops the start, naming the versions that exist
        weights_in_use(settings)
    except WeightsError as exc:
        raise SettingsError(f"scoring_weights: {exc}") from None

    store = Store(settings["database_url"])
    store.init_schema()
    from web.services import uploads

    uploads.remove_stale(app.instance_path)  # previews left by a previous run

    from web.views import auth, db, engine, errors, i18n, security

    db.init_app(app, store)
    engine.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.register_error_handlers(app)

    @app.before_request
    def _user_and_csrf():
        from web.views.params import refuse_nul_bytes

        refuse_nul_bytes()
        auth.load_user()
        security.check_csrf()
        return auth.password_change_gate()

    from matcher.insights import support_for

    def feature_label(name: str) -> str:
        from matcher.scoring import FEATURE_LABELS

        pair = FEATURE_LABELS.get(name)
        return i18n.t(*pair) if pair else name

    app.jinja_env.globals.update(feature_label=feature_label, support_for=support_for)

    @app.context_processor
    def _inject():
        return {"user": auth.current_user(), "demo": settings["demo"]}

    from web.views.admin import bp as admin_bp
    from web.views.api import bp as api_bp
    from web.views.counsellor import bp as counsellor_bp
    from web.views.dashboard import bp as dashboard_bp
    from web.views.recruiter import bp as recruiter_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(counsellor_bp)
    app.register_blueprint(recruiter_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api_bp)
    from web.views.intel import bp as intel_bp  # labour-market intelligence and reports

    app.register_blueprint(intel_bp)
    from web.views.privacy import bp as privacy_bp; app.register_blueprint(privacy_bp)  # noqa: E702  (consent, access, erasure)
    from web.views.training import bp as training_bp; app.register_blueprint(training_bp)  # noqa: E702  (classes, results)
    from web.views.board import bp as board_bp; app.register_blueprint(board_bp)  # noqa: E702  (pipeline board)
    from web.views.todo import bp as todo_bp; app.register_blueprint(todo_bp)  # noqa: E702  (a counsellor's to-do list)
    from web.views.registration import bp as reg_bp; app.register_blueprint(reg_bp)  # noqa: E702  (self-registration)
    from web.views.aftercare import bp as after_bp; app.register_blueprint(after_bp)  # noqa: E702  (after departure)
    from web.views.documents import bp as doc_bp; app.register_blueprint(doc_bp)  # noqa: E702  (documents with expiry)
    from web.views import jobs  # background jobs with progress (web.services.jobs)

    app.register_blueprint(jobs.bp)
    jobs.init_app(app)

    @app.route("/")
    def index():
        return redirect(auth.home_for(auth.current_user()))

    return app
