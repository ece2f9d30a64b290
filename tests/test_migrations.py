"""Alembic migrations (data/migrations): a new database is built by the revisions, the head
revision equals the models' metadata, and a database of an earlier stage, stamped or not, is
upgraded with every row kept (SQLite and PostgreSQL, like every store test)."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from data.store import BASELINE, VERSION_TABLE, Store, alembic_config, current_revision, head_revision
from models import Base, JobOrder, Recruiter, User, Worker


def _empty(store: Store) -> None:
    store.drop_all()
    assert set(inspect(store.engine).get_table_names()) == set()


def test_there_is_one_head_and_the_baseline_starts_the_chain():
    from alembic.script import ScriptDirectory

    from data.store import MIGRATIONS

    scripts = ScriptDirectory(str(MIGRATIONS))
    assert len(scripts.get_heads()) == 1
    assert scripts.get_base() == BASELINE


def test_the_head_revision_equals_the_models_metadata(store):
    """Replaying every revision on an empty database gives exactly the models' schema:
    autogenerate finds no difference (a model changed without a revision fails here)."""
    _empty(store)
    created = store.init_schema()
    assert f"revision {head_revision()}" in created
    assert set(Base.metadata.tables) <= set(created)
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    assert store.init_schema() == []  # at head: nothing to do


def test_reset_stamps_the_head(store):
    assert current_revision(store.engine) == head_revision()
    assert VERSION_TABLE in inspect(store.engine).get_table_names()


def _rows(store: Store) -> None:
    with store.session() as s:
        s.add(Recruiter(recruiter_id="R1", name="Công ty Á Châu", licence_no="1/LĐTBXH-GP", status="active", extra={}))
        s.flush()
        s.add(JobOrder(order_id="O1", recruiter_id="R1", title="Thợ hàn", country="JP", positions=3, extra={}))
        s.add(Worker(worker_id="W1", full_name="Nông Thị Ánh", birth_date=dt.date(2000, 1, 2),
                     national_id="004300001234", extra={"ghi_chú": "đã gọi"}))
        s.add(Worker(worker_id="W2", full_name="Hoàng Văn Đức", birth_date=dt.date(1998, 5, 6), extra={}))
        s.add(User(username="lan", password_hash="x", role="counsellor", active=True, failed_logins=0))


def _check_rows(store: Store) -> None:
    with store.session() as s:
        assert s.get(Recruiter, "R1").name == "Công ty Á Châu"
        assert (s.get(JobOrder, "O1").title, s.get(JobOrder, "O1").positions) == ("Thợ hàn", 3)
        w1, w2 = s.get(Worker, "W1"), s.get(Worker, "W2")
        assert (w1.full_name, w1.national_id, w1.extra) == ("Nông Thị Ánh", "004300001234", {"ghi_chú": "đã gọi"})
        assert (w2.full_name, w2.birth_date) == ("Hoàng Văn Đức", dt.date(1998, 5, 6))
        assert s.scalar(select(User.role).where(User.username == "lan")) == "counsellor"


def test_a_database_created_before_migrations_is_stamped_and_keeps_its_rows(store):
    """Today's create_all database (no alembic_version table), holding data: init detects it,
    stamps it at the head and loses nothing; the next init has nothing to do."""
    _rows(store)
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    assert current_revision(store.engine) is None
    done = store.init_schema()
    assert done == [f"revision {head_revision()} (stamped)"]
    assert current_revision(store.engine) == head_revision()
    _check_rows(store)
    assert store.init_schema() == []


def test_a_database_at_an_earlier_revision_is_upgraded_with_its_rows(store):
    """A database built by the baseline revision alone, holding data, is upgraded to the head by
    init (the revisions after the baseline run on it: 0002 adds the jobs table) and every row
    survives."""
    _empty(store)
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), BASELINE)
    assert not inspect(store.engine).has_table("jobs")
    _rows(store)
    done = store.init_schema()
    assert "jobs" in done and f"revision {head_revision()} (from {BASELINE})" in done
    assert current_revision(store.engine) == head_revision()
    _check_rows(store)


NEXT_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "0002_worker_note"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workers") as batch_op:  # SQLite: the table is copied
        batch_op.add_column(sa.Column("kin_phone", sa.String(20), nullable=True))
    op.create_table("kin", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("kin")
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_column("kin_phone")
'''


def test_a_revision_added_as_the_readme_says_upgrades_a_database_with_rows(store, tmp_path):
    """The next revision (a column added in batch mode, which copies the table on SQLite, and a
    new table) runs on a database at the current head holding rows: every row survives, and the
    downgrade gives them back too."""
    import shutil

    from data.store import MIGRATIONS

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_worker_note.py").write_text(NEXT_REVISION.format(head=head_revision()))
    _rows(store)
    with store.engine.begin() as conn:
        cfg = alembic_config(conn)
        cfg.set_main_option("script_location", str(scripts))
        command.upgrade(cfg, "head")
    assert current_revision(store.engine) == "0002_worker_note"
    assert "kin_phone" in {c["name"] for c in inspect(store.engine).get_columns("workers")}
    assert inspect(store.engine).has_table("kin")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workers WHERE kin_phone IS NULL")).scalar() == 2
    _check_rows(store)
    with store.engine.begin() as conn:
        cfg = alembic_config(conn)
        cfg.set_main_option("script_location", str(scripts))
        command.downgrade(cfg, head_revision())
    assert current_revision(store.engine) == head_revision()
    _check_rows(store)
    assert store.init_schema() == []


def test_a_stamp_left_without_tables_builds_the_schema_again(store):
    """Tables dropped by hand while alembic_version stayed: init sees an empty database."""
    Base.metadata.drop_all(store.engine)
    assert current_revision(store.engine) == head_revision()
    created = store.init_schema()
    assert set(Base.metadata.tables) <= set(created)
    assert inspect(store.engine).has_table("workers")


def test_processes_starting_at_once_migrate_once(store, db_url):
    """Two stores in two threads initialise one empty database at the same time (separate
    processes are serialised the same way on PostgreSQL by the advisory lock): both succeed, one
    migrates, the other finds it done, and the database ends at the head with one stamp."""
    import threading

    _empty(store)
    results, errors = [], []

    def start():
        st = Store(db_url)
        try:
            results.append(st.init_schema())
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(exc)
        finally:
            st.dispose()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sum(1 for r in results if r) == 1 and [] in results  # one migrated, the other found it done
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    assert current_revision(store.engine) == head_revision()
