"""Alembic environment: always run with a connection handed over by ``data.store`` in
``config.attributes["connection"]`` (online mode only; there is no alembic.ini)."""

from __future__ import annotations

from alembic import context

from models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table (op.batch_alter_table)
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - the store never runs offline
    raise RuntimeError("offline (SQL script) migrations are not supported; use `matcher init`")
run_migrations_online()
