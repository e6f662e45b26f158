"""The distributed profile for real: a Dagster daemon and a Celery run worker, each its own process,
on one PostgreSQL database (store and instance) and a Redis broker; a detached build is claimed by
the submissions sensor, launched through Celery, run by the worker and released.

The database is a throwaway one; the broker is Redis database MB_TEST_REDIS_DB (default 13),
emptied before and after."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis
from sqlalchemy.engine import make_url

from mb_core.models import TERMINAL_STATUSES, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_dagster.deploy import processes

REPO = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("MB_TEST_POSTGRES_URL",
                           "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_DB = int(os.environ.get("MB_TEST_REDIS_DB") or 13)
BUILD_TIMEOUT_S = 1200


@pytest.fixture
def distributed(mb_home, monkeypatch):
    admin_url = make_url(ADMIN_URL)
    admin = psycopg2.connect(host=admin_url.host, port=admin_url.port or 5432,
                             user=admin_url.username, dbname=admin_url.database, connect_timeout=5)
    admin.autocommit = True
    name = f"mb_distributed_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    monkeypatch.setenv("MB_DATABASE_URL", url)
    monkeypatch.setenv("MB_DAGSTER_POSTGRES_URL", url)
    monkeypatch.setenv("MB_CELERY_BROKER_URL", broker)
    settings = Settings.from_env()
    try:
        yield settings
    finally:
        processes.down(settings)
        redis.Redis.from_url(broker).flushdb()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_worker_process_runs_a_detached_build_to_release(distributed):
    settings = distributed
    started = processes.up(settings, workers=1, port=0, webserver=False)
    assert set(started) == {"daemon", "worker-1"}
    submitted = subprocess.run([str(REPO / ".venv" / "bin" / "mb"), "build", "--detach", "--sla", "fast",
                                "Build a CRM system with contacts and deals"], check=False,
                               capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert submitted.returncode == 0, submitted.stderr
    build_id = submitted.stdout.split()[1].rstrip(":")

    env = BuildEnvironment.open(settings)
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while (build := env.store.get_build(build_id)).status not in TERMINAL_STATUSES:
        assert time.monotonic() < deadline, f"{build_id} still {build.status.value}"
        assert processes.running(settings).keys() == {"daemon", "worker-1"}, _logs(settings)
        time.sleep(3)
    assert build.status == BuildStatus.released, (build.error, _logs(settings))

    from mb_dagster.instance import open_instance

    instance = open_instance(settings)
    try:
        runs = instance.get_runs()
        assert runs and all(r.tags.get("dagster-celery/task_id") for r in runs)  # through Celery
        build_run = next(r for r in runs if r.job_name == "build_job")
        assert (build_run.tags["mb/queue"], build_run.tags["dagster/priority"]) == ("high", "10")
    finally:
        instance.dispose()
    assert build_run.run_id in (processes.run_dir(settings) / "worker-1.log").read_text()

    pids = processes.running(settings)
    processes.down(settings)
    assert processes.running(settings) == {}
    for pid in pids.values():  # each whole process group is gone: no orphans
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def _logs(settings: Settings) -> str:
    return "\n".join(f"== {p.name}\n{p.read_text()[-1500:]}"
                     for p in sorted(processes.run_dir(settings).glob("*.log")))
