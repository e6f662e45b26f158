"""The store keeps its schema revision in a version table of its own, so it can share a database
with Dagster's storage (which uses alembic_version); a store made before keeps its data."""

from __future__ import annotations

from sqlalchemy import inspect, text

from mb_core.models import BuildRun
from mb_core.store import Store
from mb_core.store.versioning import LEGACY_VERSION_TABLE, VERSION_TABLE


def tables(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def versions(store: Store, table: str) -> list[str]:
    with store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text(f"SELECT version_num FROM {table}"))]


def test_the_revision_lives_in_the_stores_own_table(store):
    assert VERSION_TABLE in tables(store)
    assert LEGACY_VERSION_TABLE not in tables(store)
    assert versions(store, VERSION_TABLE) == [store.head_revision()]


def _make_legacy(store: Store, revision: str) -> None:
    """The layout a store had before: its revision in alembic_version."""
    store.downgrade(revision)
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
        conn.execute(text(f"CREATE TABLE {LEGACY_VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
                          f"CONSTRAINT {LEGACY_VERSION_TABLE}_pkc PRIMARY KEY (version_num))"))
        conn.execute(text(f"INSERT INTO {LEGACY_VERSION_TABLE} VALUES ('{revision}')"))


def test_a_store_that_used_alembic_version_is_upgraded_with_its_data(store):
    store.create_build(BuildRun(id="b-old", spec_text="Build a ledger of invoices"))
    store.start_step("b-old", "spec")
    _make_legacy(store, "0002")
    assert store.current_revision() is None  # the new table is gone: only the old one knows

    store.migrate()

    assert store.current_revision() == store.head_revision()
    assert LEGACY_VERSION_TABLE not in tables(store)
    assert store.get_build("b-old").spec_text == "Build a ledger of invoices"
    assert [s.name for s in store.list_steps("b-old")] == ["spec"]
    store.migrate()  # and again: nothing more moves
    assert versions(store, VERSION_TABLE) == [store.head_revision()]


def test_another_tools_revision_in_alembic_version_stays_untouched(store):
    with store.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {LEGACY_VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text(f"INSERT INTO {LEGACY_VERSION_TABLE} VALUES ('7e2f3204cf8e')"))
    store.migrate()
    assert versions(store, LEGACY_VERSION_TABLE) == ["7e2f3204cf8e"]
    assert store.current_revision() == store.head_revision()
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))


def test_a_shared_alembic_version_gives_up_only_the_stores_row(store):
    _make_legacy(store, "0003_platform")
    with store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {LEGACY_VERSION_TABLE} VALUES ('7e2f3204cf8e')"))
    store.migrate()
    assert versions(store, LEGACY_VERSION_TABLE) == ["7e2f3204cf8e"]
    assert versions(store, VERSION_TABLE) == [store.head_revision()]
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))
