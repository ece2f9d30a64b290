"""The store: one SQLAlchemy engine from one URL, sessions, schema creation.

SQLite (the embedded default) gets WAL journaling, foreign keys and a busy timeout so several
processes can share one file; PostgreSQL is reached with ``postgresql+psycopg://...``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Base

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for SQLite, create the folder and turn WAL on."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Engine plus session factory. ``with store.session() as s:`` commits or rolls back."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def init_schema(self) -> list[str]:
        """Create missing tables (idempotent); returns the names of the tables created."""
        existing = set(inspect(self.engine).get_table_names())
        Base.metadata.create_all(self.engine)
        return sorted(set(Base.metadata.tables) - existing)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)

    def reset(self) -> None:
        """Drop and recreate every table (used by ``matcher demo`` and tests)."""
        self.drop_all()
        Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._factory()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def new_session(self) -> Session:
        """A session the caller owns (the web app closes it at the end of the request)."""
        return self._factory()

    def dispose(self) -> None:
        self.engine.dispose()
