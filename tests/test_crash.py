"""Crash safety: an import killed with SIGKILL, a damaged vector cache, backup and restore.

All tests use the suite's database (``db_url``: SQLite, or PostgreSQL with
MATCHER_TEST_DATABASE_URL), so CI proves each on both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from data.importers import import_file
from models import Base

TODAY = dt.date(2026, 3, 2)
MATCHER = str(Path(sys.executable).with_name("matcher"))


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Per table: (row count, SHA-256 of its rows in primary-key order)."""
    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for name, table in sorted(Base.metadata.tables.items()):
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                h = hashlib.sha256()
                for row in rows:
                    h.update(repr(tuple(row)).encode())
                out[name] = (len(rows), h.hexdigest())
    finally:
        engine.dispose()
    return out


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory):
    from data.synthetic import generate, write_csv

    data = generate(seed=11, workers=8000, orders=40, recruiters=12, today=TODAY)
    return write_csv(data, tmp_path_factory.mktemp("big"))


def _env(db_url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "MATCHER_DATABASE_URL": db_url, "MATCHER_INSTANCE_PATH": str(instance),
            "MATCHER_SECRET_KEY": "crash-test-secret"}


def _writing(db_url: str, probe) -> bool:
    """True once the import's transaction holds the write lock / has written rows."""
    if db_url.startswith("sqlite"):
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": the importer is writing
            return True
        probe.execute("ROLLBACK")
        return False
    return probe.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar_one() > 0


def test_import_killed_halfway_leaves_the_database_as_before(store, db_url, synthetic_csv, tmp_path):
    # some data already there, then a big import that is killed while it writes
    with store.session() as s:
        assert import_file(s, "recruiters", synthetic_csv["recruiters.csv"]).committed
    with store.session() as s:
        assert import_file(s, "orders", synthetic_csv["job_orders.csv"]).committed
    store.dispose()
    before = table_digests(db_url)
    proc = subprocess.Popen([MATCHER, "import", "workers", str(synthetic_csv["workers.csv"])],
                            env=_env(db_url, tmp_path / "instance"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if db_url.startswith("sqlite"):
        probe = sqlite3.connect(db_url.split("///", 1)[1], timeout=0, isolation_level=None)
        close = probe.close
    else:
        engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
        probe = engine.connect()
        close = lambda: (probe.close(), engine.dispose())  # noqa: E731
    try:
        deadline = time.monotonic() + 120
        while not _writing(db_url, probe):
            assert proc.poll() is None, f"the import finished before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.02)
        # Kill at once: the write phase of 8000 workers lasts well over the polling interval
        # on any machine, while a fixed pause could outlast it on a fast one.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        close()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert table_digests(db_url) == before


# ----------------------------------------------------------------------------- vector cache


def _app(db_url, instance, reset):
    sys.path.insert(0, str(Path(__file__).parent / "web"))
    from webtesting import make_app

    from web import create_app

    config = {"TESTING": True, "database_url": db_url, "encoder": "hashing", "today": TODAY.isoformat(),
              "instance_path": str(instance), "secret_key": "test-secret-key"}
    if reset:
        return make_app(db_url, instance.parent, instance_path=str(instance))
    return create_app(config)


def _first_use(app):
    from web.views.engine import get_engine

    with app.test_request_context("/api/orders"):
        holder = get_engine()
        holder.build()
        return holder.builds


@pytest.mark.parametrize("damage", ["lost", "truncated", "corrupt", "other_version", "other_encoder"])
def test_damaged_vector_cache_is_rebuilt_at_start_up(db_url, tmp_path, damage):
    from data.vectorfile import index_dir, load_vectors
    from web.views.db import get_store

    instance = tmp_path / "instance"
    app = _app(db_url, instance, reset=True)
    _first_use(app)
    get_store(app).dispose()
    folder = index_dir(instance)
    body, head = folder / "vectors.npz", folder / "vectors.json"
    encoder = json.loads(head.read_text())["encoder"]
    good = load_vectors(folder, encoder)
    assert good
    if damage == "lost":
        body.unlink()
        head.unlink()
    elif damage == "truncated":
        body.write_bytes(body.read_bytes()[: body.stat().st_size // 2])
    elif damage == "corrupt":
        data = bytearray(body.read_bytes())
        data[len(data) // 2] ^= 0xFF
        body.write_bytes(bytes(data))
    else:
        header = json.loads(head.read_text())
        header["format" if damage == "other_version" else "encoder"] = 99 if damage == "other_version" else "other"
        head.write_text(json.dumps(header))
    app2 = _app(db_url, instance, reset=False)  # a restart: no manual step in between
    try:
        _first_use(app2)
    finally:
        get_store(app2).dispose()
    rebuilt = load_vectors(folder, encoder)  # sound again, with every vector
    assert sorted(rebuilt) == sorted(good)


# ----------------------------------------------------------------------------- backup / restore


def test_backup_then_change_then_restore_gives_the_same_tables(store, db_url, synthetic_csv, tmp_path, monkeypatch, capsys):
    from web.cli import main

    with store.session() as s:
        assert import_file(s, "recruiters", synthetic_csv["recruiters.csv"]).committed
    with store.session() as s:
        assert import_file(s, "orders", synthetic_csv["job_orders.csv"]).committed
    store.dispose()
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    monkeypatch.setenv("MATCHER_INSTANCE_PATH", str(tmp_path / "instance"))
    snapshot = tmp_path / "snap.backup"
    before = table_digests(db_url)
    assert main(["backup", str(snapshot)]) == 0
    assert snapshot.stat().st_size > 0
    # change data: delete some orders, add audit events
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_orders WHERE order_id IN (SELECT order_id FROM job_orders ORDER BY order_id LIMIT 5)"))
        conn.execute(text("UPDATE recruiters SET name = 'changed'"))
    engine.dispose()
    assert table_digests(db_url) != before
    assert main(["restore", str(snapshot)]) == 0
    assert table_digests(db_url) == before
    out = capsys.readouterr()
    password = "matcher"  # the test URL's password must never be printed
    if "@" in db_url and ":" + password + "@" in db_url:
        assert ":" + password + "@" not in out.out + out.err


def test_restore_refuses_a_file_that_is_not_a_snapshot(db_url, tmp_path, monkeypatch):
    from web.cli import main

    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    bad = tmp_path / "bad.backup"
    bad.write_bytes(b"not a backup at all" * 100)
    assert main(["restore", str(bad)]) == 1


@pytest.fixture
def live_sqlite(tmp_path):
    """A live SQLite database holding one recruiter (these cases are about SQLite snapshot files,
    whatever database the rest of the suite runs on)."""
    from data.store import Store
    from models import Recruiter

    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    st = Store(url)
    st.init_schema()
    with st.session() as s:
        s.add(Recruiter(recruiter_id="R1", name="Công ty A", licence_no="1/LĐTBXH-GP", status="active", extra={}))
    st.dispose()
    return url


@pytest.mark.parametrize("name", ["snap?mode=memory.sqlite", "snap#1.sqlite", "empty"])
def test_restore_refuses_an_empty_file_whatever_its_name_and_keeps_the_live_database(live_sqlite, tmp_path, monkeypatch, name):
    """An empty file (or one whose name SQLite would read as a URI) is not a snapshot: the
    restore stops with a message and the live database is unchanged (issue 14, item 3)."""
    from web.cli import main

    db_url = live_sqlite
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    before = table_digests(db_url)
    bad = tmp_path / name
    bad.write_bytes(b"")
    assert main(["restore", str(bad)]) == 1
    assert table_digests(db_url) == before


def test_restore_refuses_an_unrelated_sqlite_file(live_sqlite, tmp_path, monkeypatch, capsys):
    import sqlite3

    from web.cli import main

    db_url = live_sqlite
    other = tmp_path / "photos.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    con.commit()
    con.close()
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    before = table_digests(db_url)
    assert main(["restore", str(other)]) == 1
    assert "không phải bản sao lưu của hệ thống này" in capsys.readouterr().err
    assert table_digests(db_url) == before


def test_a_snapshot_named_like_a_uri_restores_that_file(live_sqlite, tmp_path, monkeypatch):
    from web.cli import main

    db_url = live_sqlite
    monkeypatch.setenv("MATCHER_DATABASE_URL", db_url)
    snap = tmp_path / "snap?x=1#y.sqlite"
    assert main(["backup", str(snap)]) == 0
    assert (snap.stat().st_mode & 0o777) == 0o600
    before = table_digests(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE recruiters SET name = 'changed'"))
    engine.dispose()
    assert main(["restore", str(snap)]) == 0
    assert table_digests(db_url) == before
