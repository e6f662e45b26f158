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


def prepare_dagster_home(settings: Settings) -> Path:
    """Makes DAGSTER_HOME exist with a dagster.yaml (the repository's embedded default)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # Written aside and renamed: another process opening the instance never reads half a file.
        fd, scratch = tempfile.mkstemp(prefix=".dagster.yaml.", dir=home)
        os.close(fd)
        shutil.copyfile(DEFAULT_INSTANCE_YAML, scratch)
        os.replace(scratch, config)
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
    home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(home / INSTANCE_LOCK))
    try:
        with lock.acquire(timeout=LOCK_TIMEOUT_S):
            prepare_dagster_home(settings)
            return DagsterInstance.get()
    except Timeout:
        raise MBError(f"the Dagster instance at {home} stayed locked for {LOCK_TIMEOUT_S} s "
                      f"({home / INSTANCE_LOCK}): is another mb command stuck?") from None
