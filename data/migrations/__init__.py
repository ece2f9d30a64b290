"""Alembic migrations of the store's schema, run programmatically by ``Store.init_schema``
(no alembic.ini needed). See README, "Schema migrations"."""
