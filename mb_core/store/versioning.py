"""Where the store's Alembic keeps its revision: a version table of its own.

Dagster's PostgreSQL storage keeps its schema revision in `alembic_version`; the store shares a
database with it in the one-database production layout, so the store's revision lives in
`mb_store_alembic_version`. A store made before that kept its revision in `alembic_version`: the
first migration moves it (in the migration's own transaction, under its lock), and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, inspect

VERSION_TABLE = "mb_store_alembic_version"
LEGACY_VERSION_TABLE = "alembic_version"


def _version_table(name: str) -> Table:
    # The shape Alembic itself gives a version table, so Alembic reads and writes it unchanged.
    return Table(name, MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name=f"{name}_pkc"))


def adopt_legacy_revision(conn: Connection, store_revisions: Collection[str]) -> list[str]:
    """Moves the store's revisions out of a shared `alembic_version` into the store's own table.

    Only rows naming one of the store's revisions move; any other row (Dagster's) stays where it
    is, and the old table is dropped only when nothing is left in it. Returns what moved."""
    names = set(inspect(conn).get_table_names())
    if LEGACY_VERSION_TABLE not in names:
        return []
    legacy = _version_table(LEGACY_VERSION_TABLE)
    ours = _version_table(VERSION_TABLE)
    if VERSION_TABLE in names and conn.execute(ours.select().limit(1)).first() is not None:
        return []  # already adopted: the store's own table is the truth
    found = [row.version_num for row in conn.execute(legacy.select())]
    moving = [rev for rev in found if rev in store_revisions]
    if not moving:
        return []
    ours.create(conn, checkfirst=True)
    conn.execute(ours.insert(), [{"version_num": rev} for rev in moving])
    conn.execute(legacy.delete().where(legacy.c.version_num.in_(moving)))
    if len(moving) == len(found):
        legacy.drop(conn)
    return moving
