"""Fixtures for the web tests (flaskr style): ``app``, ``client``, ``auth``.

The seeded records and helpers live in ``webtesting`` (see its docstring for the known ids).
"""

from __future__ import annotations

import pytest

from web.views.db import get_store
from webtesting import AuthActions, make_app


@pytest.fixture
def app(db_url, tmp_path):
    app = make_app(db_url, tmp_path)
    yield app
    get_store(app).dispose()


@pytest.fixture
def app_no_csrf(db_url, tmp_path):
    app = make_app(db_url, tmp_path, WTF_CSRF_ENABLED=False)
    yield app
    get_store(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return AuthActions(client)
