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


# Cases tried by the property-based and schemathesis tests, printed at the end of the run.
FUZZ_COUNTS: dict[str, int] = {}


@pytest.fixture
def fuzz_count():
    """``fuzz_count(label)`` adds one case to ``label``'s count in the terminal summary."""

    def count(label: str, n: int = 1) -> None:
        FUZZ_COUNTS[label] = FUZZ_COUNTS.get(label, 0) + n

    return count


def pytest_terminal_summary(terminalreporter):
    if FUZZ_COUNTS:
        terminalreporter.section("fuzz cases tried")
        for label in sorted(FUZZ_COUNTS):
            terminalreporter.write_line(f"{FUZZ_COUNTS[label]:6d}  {label}")
        terminalreporter.write_line(f"{sum(FUZZ_COUNTS.values()):6d}  total")
