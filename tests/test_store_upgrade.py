"""``matcher init`` on a database of the previous schema (created by ``create_all`` before
migrations existed, so without an alembic_version table): the columns and indexes this version
declares are added, the database is stamped at the head revision, and no row or value is lost
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select, text

from data.store import current_revision, head_revision
from models import JobOrder, Recruiter, User, Worker

OLD_COLUMNS = {"recruiters": ["licence_verified_on"], "job_orders": ["route"],
               "workers": ["merged_into", "merged_at", "search_text"],
               "users": ["must_change_password", "api_token_expires_at", "api_token_last_used_at"]}
OLD_TABLES = ["user_sessions"]  # tables this version adds


def test_init_adds_new_columns_to_an_old_database_and_keeps_the_data(store):
    with store.session() as s:
        s.add(Recruiter(recruiter_id="R1", name="Công ty A", licence_no="1/LĐTBXH-GP", status="active", extra={}))
        s.flush()
        s.add(JobOrder(order_id="O1", recruiter_id="R1", title="Thợ hàn", country="JP", positions=3, extra={}))
        s.add(Worker(worker_id="W1", full_name="Nông Thị Ánh", birth_date=dt.date(2000, 1, 2), national_id="004300001234",
                     extra={}))
        s.add(User(username="lan", password_hash="x", role="counsellor", active=True, failed_logins=0,
                   api_token_hash="ab" * 32))
    with store.engine.begin() as conn:  # back to the previous schema, from before migrations
        conn.execute(text("DROP TABLE alembic_version"))
        for table in OLD_TABLES:
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("DROP INDEX IF EXISTS uq_workers_national_id_unmerged"))
        conn.execute(text("DROP INDEX IF EXISTS ix_workers_merged_into"))
        for table, cols in OLD_COLUMNS.items():
            for col in cols:
                conn.execute(text(f'ALTER TABLE {table} DROP COLUMN "{col}"'))
    before = {t: {c["name"] for c in inspect(store.engine).get_columns(t)} for t in OLD_COLUMNS}
    assert all(not set(cols) & before[t] for t, cols in OLD_COLUMNS.items())

    added = store.init_schema()
    assert {f"{t}.{c}" for t, cols in OLD_COLUMNS.items() for c in cols} <= set(added)
    assert set(OLD_TABLES) <= set(added)
    assert "workers.uq_workers_national_id_unmerged" in added
    assert current_revision(store.engine) == head_revision()
    assert store.init_schema() == []  # idempotent
    with store.session() as s:
        w = s.get(Worker, "W1")
        assert (w.full_name, w.national_id, w.merged_into) == ("Nông Thị Ánh", "004300001234", None)
        assert s.get(JobOrder, "O1").route is None and s.get(JobOrder, "O1").title == "Thợ hàn"
        assert s.get(Recruiter, "R1").licence_verified_on is None
        assert s.scalar(select(User.must_change_password).where(User.username == "lan")) is False
        u = s.scalar(select(User).where(User.username == "lan"))
        assert (u.api_token_hash, u.api_token_expires_at, u.api_token_last_used_at) == ("ab" * 32, None, None)


def test_a_new_sqlite_database_is_private_and_erases_for_good(tmp_path):
    """Issue 14, item 10: the file is created with mode 600 and secure_delete is on, so erased
    personal data does not stay in free pages."""
    import os
    import stat

    from sqlalchemy import text

    from data.store import Store

    path = tmp_path / "new" / "matcher.db"
    st = Store(f"sqlite:///{path}")
    st.init_schema()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with st.engine.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
    st.dispose()
