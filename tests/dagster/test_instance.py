"""The Dagster instance the CLI opens: first openings at once on a new DAGSTER_HOME."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mb_core.settings import Settings
from mb_dagster.driver import ensure_partition
from mb_dagster.instance import open_instance

# Each process imports everything first, then waits for the others: the openings overlap.
OPEN_AT_ONCE = """
import os, sys, time
from pathlib import Path
from mb_core.settings import Settings
from mb_dagster.driver import ensure_partition
from mb_dagster.instance import open_instance
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.01)
instance = open_instance(Settings.from_env())
ensure_partition(instance, "b-" + str(os.getpid()))
instance.get_runs(limit=1)
print("opened")
"""


def alembic_heads(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def test_four_first_openings_at_once_leave_one_sound_instance(mb_home, tmp_path):
    home = mb_home / "fresh-dagster-home"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    procs = []
    for n in range(4):
        procs.append(subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(tmp_path / f"ready-{n}"), str(tmp_path / "go")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    deadline = time.monotonic() + 300
    while not all((tmp_path / f"ready-{n}").exists() for n in range(4)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    (tmp_path / "go").touch()
    outcomes = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e.decode()[-2000:] for _, e in outcomes]

    databases = sorted(home.rglob("*.db"))
    assert databases, list(home.rglob("*"))
    for db in databases:
        if db.name in ("runs.db", "index.db", "schedules.db"):
            assert len(alembic_heads(db)) == 1, db

    # A later command on the same home works: it opens the instance and uses every storage.
    instance = open_instance(Settings.from_env({**env, "MB_HOME": str(mb_home)}))
    ensure_partition(instance, "b-later")
    assert len(instance.get_dynamic_partitions("builds")) == 5
    assert instance.get_runs(limit=1) == []
    instance.all_instigator_state()
