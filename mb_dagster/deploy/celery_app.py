"""The Celery app of the builder's run workers: `celery -A mb_dagster.deploy.celery_app worker`.

The same tasks, broker, result backend and settings as the CeleryRunLauncher of dagster.celery.yaml,
so a run the daemon queues is picked up by any worker on any host that reaches the broker, the
PostgreSQL instance and the storage root. Each task runs the whole run in the worker (the jobs use
the in-process executor), against the instance of the worker's DAGSTER_HOME."""

from __future__ import annotations

import os
import sys

from celery.signals import worker_init
from dagster_celery.config import DEFAULT_CONFIG
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task

DEFAULT_QUEUE = "dagster"


def _broker() -> str:
    url = os.environ.get("MB_CELERY_BROKER_URL")
    if not url:
        raise SystemExit("error: MB_CELERY_BROKER_URL is not set: the run workers need the Redis broker")
    return url


app = make_app(app_args={
    "broker": _broker(),
    "backend": _broker(),
    "include": [],
    "config_source": {**DEFAULT_CONFIG, "worker_prefetch_multiplier": 1},
    "task_default_queue": DEFAULT_QUEUE,
})
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)


@worker_init.connect
def _check_before_taking_runs(**_kwargs) -> None:
    """A wrong PostgreSQL or Redis URL, or a worker on another instance, is one line and exit 1:
    Celery itself would retry the broker a hundred times, and a foreign instance would fail every
    run it took."""
    from mb_core.errors import MBError
    from mb_core.settings import Settings
    from mb_dagster.deploy.preflight import check_run_worker

    try:
        check_run_worker(Settings.from_env())
    except MBError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        os._exit(1)  # at once: nothing of the worker has started yet
