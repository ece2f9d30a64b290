"""The store: one SQLAlchemy engine from one URL, sessions, schema creation.

SQLite (the embedded default) gets WAL journaling, foreign keys and a busy timeout so several
processes can share one file; PostgreSQL is reached with ``postgresql+psycopg://...``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Base

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"  # the schema of the last version without migrations (create_all)
VERSION_TABLE = "alembic_version"
_MIGRATING = threading.Lock()
MIGRATION_LOCK = 0x6D617463  # pg_advisory_xact_lock key held while migrating ("matc")


def alembic_config(connection):
    """The Alembic configuration of the store, built in code (no alembic.ini): the scripts in
    ``data/migrations`` run on ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(rev)s")  # versions/<revision id>.py
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of ``data/migrations/versions`` (one head: a branch is an error)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with; None when it has no alembic_version table."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for SQLite, create the folder and the file (mode 600) and turn
    WAL and secure_delete on."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            # personal data (Decree 13/2023): the database file is the centre's alone, mode 600,
            # created so before SQLite opens it
            if not Path(db_path).exists():
                Path(db_path).touch(mode=0o600)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA secure_delete=ON")  # an erased worker's data leaves no free page behind
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
        """Bring the database to the newest schema (idempotent); returns what was created or
        applied ("table", "table.column", "revision <id>").

        - a database with an ``alembic_version`` table, or an empty one: ``alembic upgrade head``;
        - a database created before migrations existed (tables, no ``alembic_version``): the
          missing tables, columns and indexes are added as before; the database then equals the
          models' schema, which is the head revision's (tests/test_migrations.py checks that they
          agree), so it is stamped at head.

        All in one transaction; on PostgreSQL under an advisory lock, so several processes
        starting at once (gunicorn workers) migrate once and the others find it done.
        """
        from sqlalchemy import text

        if head_revision() == self._quick_revision():
            return []  # the common case at every start: two queries
        with _MIGRATING:  # alembic's op/context proxies are process-global: one run at a time
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    return self._migrate(conn)
            except Exception:
                # SQLite has no advisory lock: another process may have migrated meanwhile
                if head_revision() == self._quick_revision():
                    log.info("the schema was brought to the head by another process meanwhile")
                    return []
                raise

    def _quick_revision(self) -> str | None:
        """The stamped revision when the models' tables are there too, else None."""
        try:
            names = set(inspect(self.engine).get_table_names())
            if VERSION_TABLE in names and names & set(Base.metadata.tables):
                return current_revision(self.engine)
        except Exception:  # pragma: no cover - the full path reports it
            pass
        return None

    def _migrate(self, conn) -> list[str]:
        from alembic import command
        from alembic.migration import MigrationContext
        from sqlalchemy import text

        existing = set(inspect(conn).get_table_names())
        models = set(Base.metadata.tables)
        if existing & models and VERSION_TABLE not in existing:  # from before migrations
            Base.metadata.create_all(conn)
            done = sorted(models - existing) + self._add_missing_columns(conn, existing)
            command.stamp(alembic_config(conn), "head")
            log.info("database without migrations brought to the models' schema and stamped %s", head_revision())
            return done + [f"revision {head_revision()} (stamped)"]
        before = MigrationContext.configure(conn).get_current_revision() if VERSION_TABLE in existing else None
        if before is not None and not existing & models:
            # a stamp left behind by dropping the tables alone: the database is empty
            conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
            before = None
        head = head_revision()
        if before == head:
            return []
        command.upgrade(alembic_config(conn), "head")
        created = sorted(set(inspect(conn).get_table_names()) - existing - {VERSION_TABLE})
        return created + [f"revision {head}" + (f" (from {before})" if before else "")]

    def _add_missing_columns(self, conn, tables: set[str]) -> list[str]:
        """``ALTER TABLE ... ADD COLUMN`` for every declared column an existing table lacks
        (nullable or with a server default), then the declared indexes that are missing."""
        from sqlalchemy import text
        from sqlalchemy.schema import CreateIndex

        added: list[str] = []
        insp = inspect(conn)
        for name in sorted(tables & set(Base.metadata.tables)):
            table = Base.metadata.tables[name]
            have = {c["name"] for c in insp.get_columns(name)}
            for col in table.columns:
                if col.name in have:
                    continue
                ddl = f"{col.type.compile(conn.dialect)}"
                if col.server_default is not None:
                    ddl += f" DEFAULT {col.server_default.arg.text if hasattr(col.server_default.arg, 'text') else repr(col.server_default.arg)}"
                    if not col.nullable:
                        ddl += " NOT NULL"
                conn.execute(text(f'ALTER TABLE {name} ADD COLUMN "{col.name}" {ddl}'))
                added.append(f"{name}.{col.name}")
            indexes = {i["name"] for i in insp.get_indexes(name)}
            for index in table.indexes:
                if index.name in indexes:
                    continue
                try:
                    with conn.begin_nested():
                        conn.execute(CreateIndex(index))
                    added.append(f"{name}.{index.name}")
                except Exception as exc:  # e.g. a unique index over existing duplicates
                    log.warning("index %s not created: %s", index.name, exc)
                    added.append(f"{name}.{index.name} (not created: resolve the duplicates, then run init again)")
        return added

    def drop_all(self) -> None:
        """Drop every table, the migration stamp included."""
        from sqlalchemy import text

        Base.metadata.drop_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))

    def reset(self) -> None:
        """Drop and recreate every table, stamped at the head revision (used by ``matcher demo``
        and tests). ``create_all`` equals the head's schema (tests/test_migrations.py) and is
        much faster than replaying every revision."""
        from alembic import command

        self.drop_all()
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            command.stamp(alembic_config(conn), "head")

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
