"""Every store test runs on SQLite (a file per test) and on PostgreSQL (one throwaway database per
session, emptied after each test by downgrading it to base)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from mb_core.store import Store

POSTGRES_ADMIN_URL = os.environ.get(
    "MB_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def _admin_connection():
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        conn = psycopg2.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
    else:
        conn.autocommit = True
        return conn
    pytest.fail(
        f"PostgreSQL at {url.render_as_string(hide_password=True)} is not reachable ({reason}); "
        "the store tests need it (set MB_TEST_POSTGRES_URL to point elsewhere)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def postgres_url():
    name = f"mb_store_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'store.db'}"
    return request.getfixturevalue("postgres_url")


class SteppingClock:
    """Time that moves only when a test says so: ordering and durations without sleeping."""

    def __init__(self, start: datetime = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def store(store_url, clock):
    opened = Store.from_url(store_url, clock=clock)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.downgrade("base")
        opened.dispose()


@pytest.fixture
def open_store(store_url):
    """Opens more stores on the same database (as other processes would), disposed at the end."""
    opened: list[Store] = []

    def _open(**kwargs) -> Store:
        opened.append(Store.from_url(store_url, **kwargs))
        return opened[-1]

    yield _open
    for each in opened:
        each.dispose()


@pytest.fixture
def add_build(store, clock):
    """Create a build whose created_at is the clock's time, then move the clock a second on."""
    from mb_core.models import BuildRun

    def _add(build_id: str, **fields) -> BuildRun:
        fields.setdefault("spec_text", "Build a CRM system with contacts and deals")
        fields.setdefault("created_at", clock.now)
        fields.setdefault("updated_at", clock.now)
        made = store.create_build(BuildRun(id=build_id, **fields))
        clock.advance(1)
        return made

    return _add
