"""The application: use cases (``web.services``, no Flask), the Flask views (``web.views``) and
the ``matcher`` command (``web.cli``), as README.md's layout section describes.

Production: ``gunicorn "web:create_app()"`` (settings from MATCHER_* variables or
``instance/config.json``); ``matcher serve`` runs werkzeug's development server. Nothing happens
at import time: importing ``web.services`` or ``web.cli`` does not import Flask.
"""

from __future__ import annotations

from typing import Any


def create_app(test_config: dict[str, Any] | None = None):
    """Build the Flask app (``web.views.create_app``; its docstring explains ``test_config``)."""
    from web.views import create_app as build

    return build(test_config)


def warm_engine(app) -> None:
    """Build (or load) the app's match index and today's training needs now, before the first
    request (``matcher demo``): the first training-needs page then answers at once."""
    from web.views.db import get_session
    from web.views.engine import get_engine

    with app.app_context():
        holder = get_engine(app)
        holder.get()
        holder.training_needs(get_session())
