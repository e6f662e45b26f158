"""The production profile on a real PostgreSQL server: the Dagster instance from
dagster.postgres.yaml and the store, in one database and in two; its queues; bad URLs at start-up.

Each test makes throwaway databases on the server at MB_TEST_POSTGRES_URL (default: 127.0.0.1:5432,
user postgres) and drops them at the end."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from dagster import AssetKey, build_sensor_context
from sqlalchemy.engine import make_url

from mb_core.models import BuildRun, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.scheduling import PRIORITY_TAG, QUEUE_TAG, Queue
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_core.store.versioning import VERSION_TABLE
from mb_dagster.instance import open_instance

REPO = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("MB_TEST_POSTGRES_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
SPEC = "Build a CRM system with contacts and deals"


def _admin():
    url = make_url(ADMIN_URL)
    conn = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username,
                            password=url.password, dbname=url.database, connect_timeout=5)
    conn.autocommit = True
    return conn


@pytest.fixture
def new_database():
    """Makes throwaway databases; returns each one's URL."""
    made: list[str] = []
    admin = _admin()

    def _make() -> str:
        name = f"mb_scale_test_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield _make
    with admin.cursor() as cursor:
        for name in made:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def tables(url: str) -> set[str]:
    parsed = make_url(url)
    with psycopg2.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                          dbname=parsed.database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def production(mb_home, monkeypatch):
    """Points the builder at PostgreSQL: the store at one URL, the Dagster instance at another."""

    def _use(store_url: str, instance_url: str) -> Settings:
        monkeypatch.setenv("MB_DATABASE_URL", store_url)
        monkeypatch.setenv("MB_DAGSTER_POSTGRES_URL", instance_url)
        monkeypatch.setenv("DAGSTER_HOME", str(mb_home / "dagster-pg"))
        return Settings.from_env()

    return _use


def test_one_database_holds_the_store_and_the_instance_and_a_build_is_released(
        new_database, production, mb_home):
    url = new_database()
    settings = production(url, url)
    result = subprocess.run([str(REPO / ".venv" / "bin" / "mb"), "build", SPEC], check=False,
                            capture_output=True, text=True, env={**os.environ}, cwd=REPO, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "released in" in result.stdout
    assert "Traceback" not in result.stderr

    found = tables(url)
    assert {"builds", "exchanges", VERSION_TABLE} <= found  # the store
    assert {"runs", "event_logs", "alembic_version"} <= found  # Dagster's storage
    build_id = result.stdout.split()[1]
    instance = open_instance(settings)
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        runs = instance.get_runs()
        assert {r.tags.get("mb/build") for r in runs} == {build_id}
        assert instance.get_latest_materialization_event(AssetKey("artifact")) is not None
    finally:
        instance.dispose()
    # The store opens again on the shared database: both version tables hold their own revision.
    env = BuildEnvironment.open(settings)
    try:
        assert env.store.current_revision() == env.store.head_revision()
        assert env.store.get_build(build_id).status == BuildStatus.released
    finally:
        env.store.dispose()


def test_two_databases_keep_the_store_and_the_instance_apart(new_database, production):
    store_url, instance_url = new_database(), new_database()
    settings = production(store_url, instance_url)
    env = BuildEnvironment.open(settings)
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=SPEC, status=BuildStatus.running))
    instance = open_instance(settings)
    try:
        from mb_dagster.definitions import defs
        from mb_dagster.driver import ensure_partition

        ensure_partition(instance, build_id)

        result = defs.resolve_job_def("build_job").execute_in_process(
            instance=instance, partition_key=build_id, raise_on_error=False,
            asset_selection=[AssetKey("spec"), AssetKey("plan")], tags={"mb/build": build_id})
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags["mb/build"] == build_id
        # The LLM steps held a slot of their pool, under the instance's default limit.
        assert "mb_llm" in instance.event_log_storage.get_concurrency_keys()
        assert instance.event_log_storage.get_concurrency_info("mb_llm").slot_count == 2
    finally:
        instance.dispose()
    assert [s.name for s in env.store.list_steps(build_id)] == ["spec", "plan"]
    env.store.dispose()
    store_tables, instance_tables = tables(store_url), tables(instance_url)
    assert "builds" in store_tables and "runs" not in store_tables
    assert "alembic_version" not in store_tables
    assert "runs" in instance_tables and "builds" not in instance_tables


def test_the_instance_limits_every_queue_the_scheduler_names(new_database, production):
    url = new_database()
    settings = production(url, url)
    instance = open_instance(settings)
    try:
        from dagster._core.run_coordinator import QueuedRunCoordinator

        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        config = instance.get_concurrency_config()
        limits = {(rule["key"], rule.get("value")): rule["limit"]
                  for rule in config.run_queue_config.tag_concurrency_limits}
        assert {value for key, value in limits if key == QUEUE_TAG} == {q.value for q in Queue}
        assert config.pool_config.default_pool_limit == 2
        assert instance.event_log_storage.supports_global_concurrency_limits
    finally:
        instance.dispose()


def test_the_submissions_sensor_tags_each_run_with_its_queue_and_priority(new_database, production):
    url = new_database()
    settings = production(url, url)
    env = BuildEnvironment.open(settings)
    fast, thorough = new_build_id(), new_build_id()
    env.store.create_build(BuildRun(id=fast, spec_text=SPEC, sla="fast"))
    env.store.create_build(BuildRun(id=thorough, spec_text=SPEC, sla="thorough", provider="openai"))
    instance = open_instance(settings)
    try:
        from mb_dagster.build.sensors import submissions_sensor
        from mb_dagster.resources import MetaBuilderResource

        result = submissions_sensor(build_sensor_context(instance=instance,
                                                         resources={"mb": MetaBuilderResource()}))
        tags = {r.partition_key: r.tags for r in result.run_requests}
        assert (tags[fast][QUEUE_TAG], tags[fast][PRIORITY_TAG]) == ("high", "10")
        assert (tags[thorough][QUEUE_TAG], tags[thorough][PRIORITY_TAG]) == ("low", "-10")
    finally:
        instance.dispose()
        env.store.dispose()


def test_an_embedded_instance_file_with_a_postgres_url_is_refused(new_database, production, mb_home):
    url = new_database()
    settings = production(url, url)
    settings.dagster_home.mkdir(parents=True)
    (settings.dagster_home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    from mb_core.errors import MBError

    with pytest.raises(MBError, match="MB_DAGSTER_POSTGRES_URL is set but .* is not a PostgreSQL instance"):
        open_instance(settings)


def _mb(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / ".venv" / "bin" / "mb"), *args], check=False, capture_output=True,
                          text=True, env={**os.environ, **env}, cwd=REPO, timeout=120)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("MB_DAGSTER_POSTGRES_URL", "postgresql://postgres@127.0.0.1:1/nothing",
     ("error: the Dagster instance's database at postgresql+psycopg2://postgres@127.0.0.1:1/nothing "
      "is unavailable: ")),
    ("MB_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing",
     "error: the store at postgresql+psycopg2://postgres@127.0.0.1:1/nothing is unavailable: "),
    ("MB_REDIS_URL", "redis://:secret@127.0.0.1:1/0",
     "error: MB_REDIS_URL at redis://:***@127.0.0.1:1/0 is unavailable: "),
    ("MB_REDIS_URL", "http://127.0.0.1:6379", "error: MB_REDIS_URL: not a Redis URL: "),
])
@pytest.mark.parametrize("command", [["build", SPEC], ["serve", "--port", "8997"]])
def test_a_wrong_service_url_is_one_line_at_start_up(mb_home, setting, value, message, command):
    result = _mb(command, **{setting: value})
    assert result.returncode != 0
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "secret" not in result.stderr
    assert not (mb_home / "workspaces").exists()  # nothing was started


def test_doctor_names_each_unreachable_service(mb_home):
    result = _mb(["doctor"], MB_DAGSTER_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/nothing",
                 MB_REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("BAD dagster") and "127.0.0.1:1/nothing is unavailable" in line
               for line in lines), lines
    assert any(line.startswith("BAD redis") and "redis://127.0.0.1:1/0 is unavailable" in line
               for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


def test_the_celery_instance_file_is_the_postgres_one_with_the_celery_launcher():
    import yaml

    postgres = yaml.safe_load((REPO / "dagster.postgres.yaml").read_text())
    celery = yaml.safe_load((REPO / "dagster.celery.yaml").read_text())
    launcher = celery.pop("run_launcher")
    assert celery == postgres
    assert launcher["class"] == "CeleryRunLauncher"
    assert launcher["config"]["broker"] == {"env": "MB_CELERY_BROKER_URL"}


def test_a_postgres_and_broker_url_give_a_new_home_the_celery_instance(new_database, production,
                                                                      monkeypatch):
    url = new_database()
    monkeypatch.setenv("MB_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    settings = production(url, url)
    instance = open_instance(settings)
    try:
        assert type(instance.run_launcher).__name__ == "CeleryRunLauncher"
    finally:
        instance.dispose()


def test_make_up_without_the_distributed_settings_is_one_line(mb_home):
    result = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-m", "mb_dagster.deploy.processes",
                             "up"], check=False, capture_output=True, text=True, cwd=REPO,
                            env={**os.environ}, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("error: make up runs workers on other processes: set MB_DAGSTER_POSTGRES_URL "
                             "(the shared instance) and MB_CELERY_BROKER_URL (the Redis broker)\n")
    assert not (mb_home / "run").exists()


def test_a_tenant_past_its_budget_is_refused_before_its_build_is_queued(mb_home):
    result = _mb(["build", "--detach", "--tenant", "acme", SPEC], MB_TENANT_BUDGET_CALLS="0")
    assert result.returncode != 0
    assert result.stderr == ("error: not queued: tenant acme has spent its call budget (0 of 0 LLM calls) "
                             "(raise MB_TENANT_BUDGET_*)\n")
    listed = _mb(["list"])
    assert listed.stdout.startswith("no builds yet")
