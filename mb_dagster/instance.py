"""The Dagster instance the CLI drives: DAGSTER_HOME under the storage root unless set."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mb_core.errors import MBError
from mb_core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INSTANCE_YAML = REPO_ROOT / "dagster.yaml"
POSTGRES_INSTANCE_YAML = REPO_ROOT / "dagster.postgres.yaml"
CELERY_INSTANCE_YAML = REPO_ROOT / "dagster.celery.yaml"
POSTGRES_URL_VARIABLE = "MB_DAGSTER_POSTGRES_URL"


def instance_yaml_for(settings: Settings) -> Path:
    """The instance file a new DAGSTER_HOME gets: PostgreSQL when MB_DAGSTER_POSTGRES_URL is set,
    and Celery run workers when MB_CELERY_BROKER_URL is set as well."""
    if not settings.dagster_postgres_url:
        return DEFAULT_INSTANCE_YAML
    return CELERY_INSTANCE_YAML if settings.celery_broker_url else POSTGRES_INSTANCE_YAML


def _require_postgres_instance(config: Path) -> None:
    """MB_DAGSTER_POSTGRES_URL with an embedded (SQLite) instance file would keep Dagster's runs
    where no other machine sees them while the setting says otherwise."""
    import yaml

    try:
        storage = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("storage") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MBError(f"{config} cannot be read as YAML: {exc}".splitlines()[0]) from None
    if "postgres" not in storage:
        raise MBError(f"MB_DAGSTER_POSTGRES_URL is set but {config} is not a PostgreSQL instance: "
                      f"copy {POSTGRES_INSTANCE_YAML.name} there, or use a new DAGSTER_HOME")


def prepare_dagster_home(settings: Settings) -> Path:
    """Makes DAGSTER_HOME exist with a dagster.yaml (the embedded default, or the production one)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # Written aside and renamed: another process opening the instance never reads half a file.
        fd, scratch = tempfile.mkstemp(prefix=".dagster.yaml.", dir=home)
        os.close(fd)
        shutil.copyfile(instance_yaml_for(settings), scratch)
        os.replace(scratch, config)
    if settings.dagster_postgres_url:
        _require_postgres_instance(config)
        # Dagster reads the URL itself (here and in every process started from here): psycopg2 is
        # the driver installed, and a plain postgresql:// would make SQLAlchemy look for psycopg 3.
        from mb_dagster.deploy.preflight import psycopg2_url

        os.environ[POSTGRES_URL_VARIABLE] = psycopg2_url(settings.dagster_postgres_url)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


INSTANCE_LOCK = ".mb-instance.lock"
LOCK_TIMEOUT_S = 300


def open_instance(settings: Settings):
    """The Dagster instance of DAGSTER_HOME, opened by one process at a time.

    Opening an instance creates its SQLite storage and runs Dagster's schema migrations when they
    are missing; four first builds at once raced on them and left the storage with two alembic
    heads, after which every command failed. The lock makes the first opening create everything
    before any other looks; later openings only wait for each other briefly.
    """
    from dagster import DagsterInstance
    from filelock import FileLock, Timeout

    home = settings.dagster_home
    if settings.dagster_postgres_url:
        from mb_dagster.deploy.preflight import check_postgres

        # One clear line for a wrong URL or a server that is down, before Dagster retries it.
        check_postgres(settings.dagster_postgres_url, "the Dagster instance's database")
    home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(home / INSTANCE_LOCK))
    try:
        with lock.acquire(timeout=LOCK_TIMEOUT_S):
            prepare_dagster_home(settings)
            return DagsterInstance.get()
    except Timeout:
        raise MBError(f"the Dagster instance at {home} stayed locked for {LOCK_TIMEOUT_S} s "
                      f"({home / INSTANCE_LOCK}): is another mb command stuck?") from None
