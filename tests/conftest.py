"""Shared fixtures.

The whole suite runs against SQLite by default and against PostgreSQL when
``MATCHER_TEST_DATABASE_URL`` is set (CI runs it both ways). Each test gets an empty schema.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from data.store import Store

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _test_url(tmp_path: Path) -> str:
    url = os.environ.get("MATCHER_TEST_DATABASE_URL", "")
    return url or f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def db_url(tmp_path) -> str:
    return _test_url(tmp_path)


@pytest.fixture
def store(db_url):
    """A store with a fresh, empty schema (tables dropped and recreated on PostgreSQL)."""
    st = Store(db_url)
    st.reset()
    yield st
    st.dispose()


@pytest.fixture
def session(store):
    with store.session() as s:
        yield s


@pytest.fixture
def shared_dir() -> Path:
    return SHARED
