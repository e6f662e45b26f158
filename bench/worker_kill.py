"""Worker-kill bench: the process running a build is killed with SIGKILL at a random point, and
the reconciler must heal the build or roll it back, with nothing counted or written twice.

Run by hand: `nice -n 10 python bench/worker_kill.py --kills 10 --seed 7 [--jobs 2]`. Kill n draws
from (seed, n), in its own storage root and Dagster instance, and picks
a worker kind, a step and a delay into that step:
- `cli`: a real `mb build` process (the in-process driver);
- `run`: a separate process executing the run the submissions sensor requested for an
  `mb build --detach` submission, exactly as a daemon-launched run worker executes it (the same
  `execute_in_process` of the requested job with the sensor's tags; the launcher is left out).
It waits until the store shows the step started, sleeps the delay, SIGKILLs the worker, then runs
`mb reconcile` (the reconciler sensor's work, done in process) until the build ends. Per build it
checks: the build ended released or rolled back; at most one artifact materialization and one
artifact folder (none when rolled back); the budget charged once per attempt (attempts_used equals
the attempt records, running seconds equal their sum); no lease, running step or Dagster run in
flight left; the workspace clean (at its base when rolled back); no release scratch folder; no
process of the build (sandbox) alive. Prints one line per build and the totals.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPECS = ["Build a todo app with tasks and due dates", "Build a library app with books and loans"]
STEPS = ["spec", "plan", "diff", "eval_report", "artifact"]

RUN_WORKER = """
import sys
from dagster import build_sensor_context
from mb_core.pipeline import BuildEnvironment
from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.driver import ensure_partition, follow_requests
from mb_dagster.instance import open_instance
from mb_dagster.resources import MetaBuilderResource
env = BuildEnvironment.open()
instance = open_instance(env.settings)
tick = submissions_sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()}))
[request] = [r for r in tick.run_requests if r.partition_key == sys.argv[1]]
ensure_partition(instance, sys.argv[1])
follow_requests(env, instance, request)
"""


def _mb(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "mb"), *args], capture_output=True,
                          text=True, env=env, timeout=1800, check=False)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                found.append(int(proc.name))
    return found


def _wait_for(store, build_id: str | None, step: str, worker: subprocess.Popen, timeout: float = 1800):
    """The build id once `step` has started (None: the worker ended first). Without an id, the
    build is the first one the worker created (its store holds no other)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            return None
        ids = [build_id] if build_id else [b.id for b in store.list_builds(limit=1)]
        for bid in ids:
            with contextlib.suppress(Exception):  # the build row may not be there yet
                if any(s.name == step for s in store.list_steps(bid)):
                    return bid
        time.sleep(0.1)
    return None


def one_kill(n: int, seed: int, base: Path, kinds: list[str]) -> dict:
    """Kill n: its own storage root and Dagster instance, its draws from (seed, n)."""
    from dagster import DagsterInstance

    from mb_core.models import BuildStatus
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings

    rng = random.Random(f"{seed}:{n}")
    kind, step, delay = rng.choice(kinds), rng.choice(STEPS), round(rng.uniform(0.0, 3.0), 2)
    spec = rng.choice(SPECS)
    home = base / f"kill-{n:02d}"
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MB_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "DAGSTER_DISABLE_TELEMETRY": "1"}
    env.pop("MB_DATABASE_URL", None)
    mbenv = BuildEnvironment.open(Settings.from_env(env))
    build_id = None
    started = time.perf_counter()
    if kind == "cli":
        worker = subprocess.Popen([str(Path(sys.executable).parent / "mb"), "build", spec], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        out = _mb("build", "--detach", spec, env=env)
        build_id = out.stdout.split()[1].rstrip(":")
        worker = subprocess.Popen([sys.executable, "-c", RUN_WORKER, build_id], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    build_id = _wait_for(mbenv.store, build_id, step, worker)
    time.sleep(delay)
    killed = worker.poll() is None
    if killed:
        os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    if build_id is None:
        build_id = mbenv.store.list_builds(limit=1)[0].id
    status_line = next((line for line in _mb("status", build_id, env=env).stdout.splitlines()
                        if line.startswith("worker:")), "")
    rounds = 0
    while mbenv.store.get_build(build_id).status not in (
            BuildStatus.released, BuildStatus.rolled_back, BuildStatus.failed) and rounds < 4:
        _mb("reconcile", env=env)
        rounds += 1
    row = {"n": n, "worker": kind, "step": step, "delay_s": delay, "killed": killed,
           "reconcile_rounds": rounds, "status_said": status_line[:120],
           **build_verdict(mbenv, DagsterInstance.from_config(env["DAGSTER_HOME"]), build_id),
           "seconds": round(time.perf_counter() - started, 1)}
    return row


def build_verdict(mbenv, instance, build_id: str) -> dict:
    """What one build left behind: its end, its attempts, and whether anything was written or
    charged twice or left in flight (`ok` when it ended released or rolled back with none)."""
    from dagster import AssetKey, DagsterEventType, DagsterRunStatus, EventRecordsFilter

    from mb_core.healing import read_base_commit
    from mb_core.models import BuildStatus, StepStatus
    from mb_core.store.workers import get_lease
    from mb_core.workspace import Workspace

    build = mbenv.store.get_build(build_id)
    attempts = mbenv.store.list_attempts(build_id)
    budget = mbenv.store.get_budget(build_id)
    materialized = len(instance.get_event_records(EventRecordsFilter(
        event_type=DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey("artifact"),
        asset_partitions=[build_id])))
    in_flight = [r.run_id for r in instance.get_runs()
                 if r.tags.get("mb/build") == build_id and r.status in (
                     DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.QUEUED)]
    workspace = mbenv.workspace_path(build_id)
    ws_clean = True
    if (workspace / ".git").exists():
        dirty = subprocess.run(["git", "-C", str(workspace), "status", "--porcelain"], capture_output=True,
                               text=True, check=False).stdout.strip()
        ws_clean = not dirty and not (workspace / ".git" / "index.lock").exists()
        if build.status == BuildStatus.rolled_back:
            ws_clean = ws_clean and Workspace(workspace).head() == read_base_commit(workspace)
    artifact_dir = mbenv.artifact_dir(build_id)
    scratch = list(artifact_dir.parent.glob(f".{build_id}.*")) if artifact_dir.parent.exists() else []
    released = build.status == BuildStatus.released
    row = {
        "build": build_id,
        "status": build.status.value, "attempts": len(attempts),
        "phases": "->".join(f"{a.phase.value}:{a.failure_class.value if a.failure_class else a.outcome.value}"
                            for a in attempts),
        "duplicate_artifact": materialized > 1 or (not released and (materialized > 0 or artifact_dir.exists()))
        or (released and not artifact_dir.exists()),
        "charged_twice": budget is not None and (
            budget.attempts_used != sum(1 for a in attempts if a.seconds is not None)
            or abs(budget.running_seconds - sum(a.seconds or 0.0 for a in attempts)) > 1e-3),
        "orphans": {
            "lease": get_lease(mbenv.store, build_id) is not None,
            "running_steps": any(s.status == StepStatus.running for s in mbenv.store.list_steps(build_id)),
            "dagster_runs_in_flight": len(in_flight),
            "dirty_workspace": not ws_clean,
            "release_scratch": len(scratch),
            "processes": len(_processes_mentioning(str(workspace))),
        },
    }
    row["ok"] = (build.status in (BuildStatus.released, BuildStatus.rolled_back)
                 and not row["duplicate_artifact"] and not row["charged_twice"]
                 and not any(row["orphans"].values()))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--start", type=int, default=1,
                        help="first kill to carry out (kill n draws from (seed, n) alone: a run of "
                             "kills 1-5 and one of 6-10 make the same ten)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", nargs="+", default=["cli", "run"], choices=["cli", "run"])
    parser.add_argument("--jobs", type=int, default=1, help="kills carried out at once")
    parser.add_argument("--home", help="storage root (default: a fresh temporary folder)")
    args = parser.parse_args()
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="mb-worker-kill-"))
    rows = []
    # Processes, not threads: each kill opens its own store, whose migrations are not thread-safe.
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one_kill, n, args.seed, home, args.workers): n for n in range(args.start, args.kills + 1)}
        for future in as_completed(futures):
            try:
                rows.append(future.result())
            except Exception as exc:  # noqa: BLE001 - a broken kill is a row of its own, not the end
                rows.append({"n": futures[future], "status": "bench error", "error": repr(exc)[:300],
                             "killed": False, "duplicate_artifact": False, "charged_twice": False,
                             "orphans": {}, "ok": False, "seconds": 0.0})
            print(json.dumps(rows[-1]), flush=True)
    rows.sort(key=lambda r: r["n"])
    killed = [r for r in rows if r["killed"]]
    summary = {
        "builds": len(rows), "killed": len(killed),
        "completed_or_rolled_back": sum(r["status"] in ("released", "rolled_back") for r in rows),
        "released": sum(r["status"] == "released" for r in rows),
        "rolled_back": sum(r["status"] == "rolled_back" for r in rows),
        "duplicate_artifacts": sum(r["duplicate_artifact"] for r in rows),
        "budgets_charged_twice": sum(r["charged_twice"] for r in rows),
        "orphans": sum(any(r["orphans"].values()) for r in rows),
        "all_ok": all(r["ok"] for r in rows),
        "median_seconds": sorted(r["seconds"] for r in rows)[len(rows) // 2] if rows else None,
        "seed": args.seed, "home": str(home),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
