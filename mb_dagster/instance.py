"""The Dagster instance the CLI drives: DAGSTER_HOME under the storage root unless set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mb_core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INSTANCE_YAML = REPO_ROOT / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """Makes DAGSTER_HOME exist with a dagster.yaml (the repository's embedded default)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DEFAULT_INSTANCE_YAML, config)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


def open_instance(settings: Settings):
    from dagster import DagsterInstance

    prepare_dagster_home(settings)
    return DagsterInstance.get()
