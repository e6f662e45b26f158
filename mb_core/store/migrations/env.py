"""Alembic environment of the store.

`Store.migrate()` hands in an open connection (inside its own transaction and lock) through
`config.attributes["connection"]`; run from the alembic command line, the URL in the config is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from mb_core.store.tables import metadata
from mb_core.store.versioning import VERSION_TABLE

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables when a later revision needs to.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Not alembic_version: Dagster's storage may keep its own revision there (same database).
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
