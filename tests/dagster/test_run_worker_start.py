"""A Celery run worker started with a bad setting stops at once with one `error:` line: a wrong
broker URL (Celery alone retries it a hundred times), a wrong PostgreSQL URL, and a worker whose
store and Dagster instance are not one deployment's (it would take runs its instance never had).

Real `celery worker` processes against the PostgreSQL server at MB_TEST_POSTGRES_URL (default
127.0.0.1:5432) and the Redis server on 6379 (only pinged)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from mb_core.models import BuildRun, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id

REPO = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("MB_TEST_POSTGRES_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
BROKER = f"redis://127.0.0.1:6379/{int(os.environ.get('MB_TEST_REDIS_DB') or 13)}"
START_TIMEOUT_S = 60  # far under Celery's own hundred broker retries


@pytest.fixture
def databases():
    admin_url = make_url(ADMIN_URL)
    admin = psycopg2.connect(host=admin_url.host, port=admin_url.port or 5432, user=admin_url.username,
                             password=admin_url.password, dbname=admin_url.database, connect_timeout=5)
    admin.autocommit = True
    made: list[str] = []

    def _make() -> str:
        name = f"mb_worker_start_test_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return admin_url.set(database=name).render_as_string(hide_password=False)

    yield _make
    with admin.cursor() as cursor:
        for name in made:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _start_worker(mb_home: Path, **settings: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MB_HOME": str(mb_home), "DAGSTER_HOME": str(mb_home / "dagster-worker"),
           **settings}
    return subprocess.run([str(REPO / ".venv" / "bin" / "celery"), "-A", "mb_dagster.deploy.celery_app",
                           "worker", "-Q", "dagster", "--concurrency", "1", "--loglevel", "WARNING"],
                          check=False, capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=START_TIMEOUT_S)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "ready." not in result.stdout + result.stderr  # it never took a run
    return errors[0]


def test_a_worker_with_a_wrong_broker_url_stops_with_one_line(mb_home, databases):
    url = databases()
    line = _one_error_line(_start_worker(mb_home, MB_DATABASE_URL=url, MB_DAGSTER_POSTGRES_URL=url,
                                         MB_CELERY_BROKER_URL="redis://:secret@127.0.0.1:1/0"))
    assert line.startswith("error: MB_CELERY_BROKER_URL at redis://:***@127.0.0.1:1/0 is unavailable: ")


def test_a_worker_with_a_wrong_postgres_url_stops_with_one_line(mb_home, databases):
    url = databases()
    line = _one_error_line(_start_worker(mb_home, MB_DATABASE_URL=url, MB_CELERY_BROKER_URL=BROKER,
                                         MB_DAGSTER_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/nothing"))
    assert line.startswith("error: the Dagster instance's database at "
                           "postgresql+psycopg2://postgres@127.0.0.1:1/nothing is unavailable: ")


def test_a_worker_on_a_local_store_is_refused(mb_home, databases):
    url = databases()
    line = _one_error_line(_start_worker(mb_home, MB_DAGSTER_POSTGRES_URL=url, MB_CELERY_BROKER_URL=BROKER))
    assert line.startswith("error: a run worker needs the shared store: MB_DATABASE_URL is a local SQLite")


def test_a_worker_whose_instance_is_another_deployments_is_refused(mb_home, databases, monkeypatch):
    store_url, other_instance = databases(), databases()
    monkeypatch.setenv("MB_DATABASE_URL", store_url)
    env = BuildEnvironment.open(Settings.from_env())
    env.store.create_build(BuildRun(id=new_build_id(), spec_text="Build a todo app with tasks",
                                    status=BuildStatus.running))  # launched from the store's deployment
    env.store.dispose()
    line = _one_error_line(_start_worker(mb_home, MB_DATABASE_URL=store_url,
                                         MB_DAGSTER_POSTGRES_URL=other_instance, MB_CELERY_BROKER_URL=BROKER))
    assert line.startswith("error: the Dagster instance at ")
    assert "has never run any of the store's 1 latest builds" in line


def test_a_worker_whose_instance_file_names_another_database_is_refused(mb_home, databases):
    url, other = databases(), databases()
    home = mb_home / "dagster-worker"
    home.mkdir()
    celery_yaml = (REPO / "dagster.celery.yaml").read_text()
    (home / "dagster.yaml").write_text(celery_yaml.replace(
        "postgres_url:\n      env: MB_DAGSTER_POSTGRES_URL", f"postgres_url: {other}"))
    line = _one_error_line(_start_worker(mb_home, MB_DATABASE_URL=url, MB_DAGSTER_POSTGRES_URL=url,
                                         MB_CELERY_BROKER_URL=BROKER))
    assert line.startswith(f"error: {home / 'dagster.yaml'} names another instance's database")
