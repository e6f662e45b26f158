"""Build speed: `mb build` on the CRM spec, and Dagster's cost over the direct pipeline.

Run by hand (`make bench` or `python bench/build_speed.py --runs 5`); targets: median `mb build`
wall time <= 15 s on a 2-core machine, Dagster / direct <= 1.3. Each run uses a fresh storage root.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = "Build a CRM system with contacts and deals"


def time_cli_build(runs: int) -> list[float]:
    """Wall time of the whole `mb build` command, interpreter start-up and imports included."""
    times = []
    mb = Path(sys.executable).parent / "mb"
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="mb-bench-") as home:
            env = {**os.environ, "MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster"}
            started = time.perf_counter()
            subprocess.run([str(mb), "build", SPEC], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    return times


def time_in_process(runs: int) -> tuple[list[float], list[float]]:
    """The same build through Dagster (in-process job) and through mb_core directly, warm imports."""
    from dagster import DagsterInstance

    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment, run_build_direct
    from mb_core.settings import Settings
    from mb_core.store import new_build_id
    from mb_dagster import driver

    direct, dagster = [], []
    for _ in range(runs):
        for mode, bucket in (("direct", direct), ("dagster", dagster)):
            with tempfile.TemporaryDirectory(prefix="mb-bench-") as home:
                env_vars = {**os.environ, "MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster"}
                settings = Settings.from_env(env_vars)
                env = BuildEnvironment.open(settings)
                build_id = new_build_id()
                env.store.create_build(BuildRun(id=build_id, spec_text=SPEC,
                                                status=BuildStatus.running))
                if mode == "direct":
                    started = time.perf_counter()
                    run_build_direct(env, build_id)
                else:
                    Path(f"{home}/dagster").mkdir()
                    instance = DagsterInstance.ephemeral(tempdir=f"{home}/dagster")
                    os.environ["MB_HOME"] = home  # the Dagster resource reads the environment
                    started = time.perf_counter()
                    driver.run_build(env, instance, build_id)
                bucket.append(time.perf_counter() - started)
                env.store.dispose()
    return direct, dagster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cli = time_cli_build(args.runs)
    direct, dagster = time_in_process(args.runs)
    med = statistics.median
    print(f"mb build (CLI, cold process), median of {args.runs}: {med(cli):.2f} s "
          f"(min {min(cli):.2f}, max {max(cli):.2f})  target <= 15 s")
    print(f"direct pipeline, median: {med(direct):.2f} s")
    print(f"through Dagster, median: {med(dagster):.2f} s")
    print(f"Dagster / direct: {med(dagster) / med(direct):.2f}  target <= 1.3")


if __name__ == "__main__":
    main()
