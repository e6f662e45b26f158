from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mb_core.models import BuildRun
from mb_core.store import Store, StoreUnavailable
from mb_core.store.tables import metadata
from mb_core.store.versioning import VERSION_TABLE

TABLES = {"builds", "build_steps", "approvals", "exchanges", "repair_attempts", "circuit_breakers",
          "run_budgets", "chaos_events",
          "principals", "api_keys", "specs", "spec_runs", "audit_log", "feature_flags", "build_workers",
          "build_variants", "canary_samples", "canary_reports", "build_flags", "model_choices"}
HEAD = "0010_exchange_models"


def table_names(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {VERSION_TABLE}


def test_migrate_is_idempotent(store):
    assert store.current_revision() == store.head_revision() == HEAD
    store.create_build(BuildRun(id="b1", spec_text="x"))
    store.migrate()
    store.migrate()
    assert store.current_revision() == HEAD
    assert table_names(store) == TABLES
    assert store.get_build("b1").spec_text == "x"


def test_upgrade_from_0001_keeps_builds_and_numbers_them_attempt_1(store):
    store.create_build(BuildRun(id="b1", spec_text="x"))
    store.start_step("b1", "spec")
    store.downgrade("0001")
    assert "repair_attempts" not in table_names(store)
    store.migrate()
    assert table_names(store) == TABLES
    build = store.get_build("b1")
    assert (build.attempt, build.failure_class) == (1, None)
    assert [s.attempt for s in store.list_steps("b1")] == [1]


def test_migrations_create_what_the_tables_module_describes(store):
    with store.engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE}),
            metadata
        )
    assert differences == []


def test_downgrade_to_base_and_back(store):
    store.create_build(BuildRun(id="b1", spec_text="x"))
    store.downgrade("base")
    assert store.current_revision() is None
    assert table_names(store) == set()
    store.migrate()
    assert table_names(store) == TABLES
    assert store.list_builds() == []


def test_migrate_from_any_working_directory(store_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = Store.from_url(store_url)
    try:
        opened.migrate()
        assert opened.current_revision() == opened.head_revision()
    finally:
        opened.downgrade("base")
        opened.dispose()


FIRST_START = textwrap.dedent(
    """
    import pathlib, sys, time
    from mb_core.store import Store
    url, folder, me = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    (folder / f"ready-{me}").touch()
    while not (folder / "go").exists():  # released together once every process is loaded
        time.sleep(0.001)
    store = Store.from_url(url)
    store.migrate()
    print(store.current_revision())
    store.dispose()
    """
)


def test_concurrent_first_starts_do_not_collide(store_url, tmp_path):
    # Several processes migrate a fresh database at the same moment; all must succeed.
    for round_ in range(3):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        url = f"sqlite:///{folder / 'store.db'}" if store_url.startswith("sqlite") else store_url
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", FIRST_START, url, str(folder), str(n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(3)
        ]
        while len(list(folder.glob("ready-*"))) < 3 and all(p.poll() is None for p in procs):
            time.sleep(0.005)
        (folder / "go").touch()
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
        assert [out.strip() for out, _ in results] == [HEAD] * 3
        opened = Store.from_url(url)
        try:
            assert table_names(opened) == TABLES
            opened.downgrade("base")
        finally:
            opened.dispose()


def test_sqlite_url_creates_its_folder(tmp_path):
    path = tmp_path / "a" / "b" / "store.db"
    opened = Store.from_url(f"sqlite:///{path}")
    try:
        opened.migrate()
        assert path.exists()
    finally:
        opened.dispose()


def test_in_memory_sqlite_keeps_its_schema():
    opened = Store.from_url("sqlite://")
    try:
        opened.migrate()
        opened.create_build(BuildRun(id="b1", spec_text="x"))
        assert opened.get_build("b1").id == "b1"
    finally:
        opened.dispose()


def test_plain_postgresql_urls_use_psycopg2():
    opened = Store.from_url("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        assert opened.engine.url.drivername == "postgresql+psycopg2"
    finally:
        opened.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/mb", "^the store runs on sqlite or postgresql, not mysql$"),
        ("not a url", "^not a database URL: 'not a url'$"),
    ],
)
def test_unusable_urls(url, message):
    with pytest.raises(StoreUnavailable, match=message):
        Store.from_url(url)


def test_unreachable_server_is_one_clear_line():
    opened = Store.from_url("postgresql://postgres:secret@127.0.0.1:1/nothing?connect_timeout=2")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            opened.migrate()
    finally:
        opened.dispose()
    message = str(caught.value)
    assert message.startswith("the store at postgresql+psycopg2://postgres:***@127.0.0.1:1/nothing")
    assert "unavailable" in message
    assert "secret" not in message
    assert "\n" not in message
