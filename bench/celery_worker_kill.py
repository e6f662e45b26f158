"""Faults on the distributed path: the Celery run worker running a build is SIGKILLed, or the
PostgreSQL server under the store and the instance restarts, in the middle of a build; every build
must end released or rolled back, none lost, nothing written or charged twice.

Run by hand, against a PostgreSQL server of your own (the `postgres` fault restarts it):

    nice -n 10 .venv/bin/python bench/celery_worker_kill.py --kills 10 \
        --postgres postgresql+psycopg2://postgres@127.0.0.1:5433/postgres \
        --redis redis://127.0.0.1:6379/11 [--faults worker child] [--pg-data DIR]

It creates a throwaway database (store and instance in one), empties the Redis database, and runs
`make up`'s processes (the daemon and --workers Celery workers, dagster.celery.yaml). Fault n
draws from (seed, n) a fault, a spec, a step and a delay; it submits `mb build --detach`, waits
until the store shows the step started and a run worker holds the build's lease, sleeps the
delay, then:
- `worker`: SIGKILLs the whole Celery worker (its main process and the pool child running the
  run: a host gone), then starts it again as a supervisor would;
- `child`: SIGKILLs only the pool child running the run (the Celery main process stays);
- `postgres`: `pg_ctl -D --pg-data restart -m fast` (every connection is cut).
Nothing else is done by hand: the daemon's sensors (the reconciler's worker_lost, the healing
sensor) and run monitoring must find it. Per build it checks what bench/worker_kill.py checks
(ended released or rolled back, one artifact at most, budget charged once per attempt, nothing in
flight or left behind) and that the build never had two runs started at once. Prints one line per
fault and the totals; stops every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

SPECS = ["Build a todo app with tasks and due dates", "Build a library app with books and loans"]
STEPS = ["spec", "plan", "diff", "eval_report"]
MB = str(Path(sys.executable).parent / "mb")
PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"


def _wait_for_worker(store, build_id: str, step: str, timeout: float):
    """The lease of the run worker once `step` started on it (None: the build ended first)."""
    from mb_core.models import TERMINAL_STATUSES
    from mb_core.reconcile import WorkerDriver
    from mb_core.store.workers import get_lease

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the database may be restarting under us
            if store.get_build(build_id).status in TERMINAL_STATUSES:
                return None
            lease = get_lease(store, build_id)
            if lease and lease.driver is WorkerDriver.run and any(
                    s.name == step for s in store.list_steps(build_id)):
                return lease
        time.sleep(0.1)
    return None


def _worker_number(settings, pid: int) -> int | None:
    """Which `make up` worker the process `pid` belongs to (its process group)."""
    from mb_dagster.deploy import processes

    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return None
    for name, leader in processes.running(settings).items():
        if name.startswith("worker-") and leader == group:
            return int(name.split("-")[1])
    return None


def _overlapping_runs(instance, build_id: str) -> list[str]:
    """This build's runs whose step executions overlapped in time (a run redelivered or relaunched
    while its first copy still ran, a release started beside the build run still running its
    checks), each pair as `job#attempt/job#attempt` and by how long. A run's span is its first to
    its last step event: a killed run's record is closed later, by whoever cancels it, and that
    writes a run event (RUN_CANCELED), no step event."""
    from dagster import RunsFilter

    spans = []
    for record in instance.get_run_records(RunsFilter(tags={"mb/build": build_id})):
        run = record.dagster_run
        times = [e.timestamp for e in instance.all_logs(run.run_id)
                 if e.is_dagster_event and e.dagster_event.is_step_event]
        if times:
            spans.append((min(times), max(times), f"{run.job_name}#{run.tags.get('mb/attempt', '?')}"))
    spans.sort()
    return [f"{a}/{b} by {a1 - b0:.2f}s" for (_, a1, a), (b0, _, b) in itertools.pairwise(spans) if b0 < a1]


def one_fault(n: int, args, settings, mbenv) -> dict:
    from worker_kill import build_verdict

    from mb_core.models import TERMINAL_STATUSES
    from mb_dagster.deploy import processes
    from mb_dagster.instance import open_instance

    rng = random.Random(f"{args.seed}:{n}")
    fault, step = rng.choice(args.faults), rng.choice(STEPS)
    delay, spec = round(rng.uniform(0.0, 3.0), 2), rng.choice(SPECS)
    started = time.perf_counter()
    out = subprocess.run([MB, "build", "--detach", spec], capture_output=True, text=True, check=False,
                         timeout=300)
    if out.returncode != 0:
        return {"n": n, "fault": fault, "status": "submit failed", "error": out.stderr.strip()[-300:],
                "ok": False}
    build_id = out.stdout.split()[1].rstrip(":")
    lease = _wait_for_worker(mbenv.store, build_id, step, args.timeout)
    time.sleep(delay)
    done = None
    if lease is not None:
        if fault == "postgres":
            # The new server logs to a file: given our pipe, it would hold it open for good.
            restart = subprocess.run(["runuser", "-u", "postgres", "--", PG_CTL, "-D", args.pg_data,
                                      "restart", "-m", "fast", "-w", "-l",
                                      str(Path(args.pg_data).parent / "log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            done = f"pg_ctl restart rc={restart.returncode}"
        else:
            number = _worker_number(settings, lease.pid)
            try:
                if fault == "worker" and number is not None:
                    os.killpg(os.getpgid(lease.pid), signal.SIGKILL)
                else:
                    os.kill(lease.pid, signal.SIGKILL)
                done = f"SIGKILL pid {lease.pid} (worker-{number}, {fault})"
            except ProcessLookupError:
                done = None
            if fault == "worker" and number is not None:
                time.sleep(1)
                processes.restart_worker(settings, number)
    killed_at = time.perf_counter()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the database may be coming back
            if mbenv.store.get_build(build_id).status in TERMINAL_STATUSES:
                break
        time.sleep(2)
    # The last run's bookkeeping (lease given back, run record closed) follows the status by a moment.
    time.sleep(3)
    instance = open_instance(settings)
    try:
        verdict = build_verdict(mbenv, instance, build_id)
        overlapping = _overlapping_runs(instance, build_id)
        runs = [f"{r.job_name}:{r.status.value}" for r in
                reversed(instance.get_runs(__import__("dagster").RunsFilter(tags={"mb/build": build_id})))]
    finally:
        instance.dispose()
    build = mbenv.store.get_build(build_id)
    row = {"n": n, "fault": fault, "step": step, "delay_s": delay, "done": done, **verdict,
           "error": (build.error or "")[:160], "runs": runs, "overlapping_runs": len(overlapping), "overlaps": overlapping,
           "seconds_to_end_after_fault": round(time.perf_counter() - killed_at, 1),
           "seconds": round(time.perf_counter() - started, 1)}
    row["ok"] = row["ok"] and not overlapping
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faults", nargs="+", default=["worker", "child"],
                        choices=["worker", "child", "postgres"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", required=True, help="admin URL of a PostgreSQL server of your own")
    parser.add_argument("--pg-data", help="its data folder (for the postgres fault's pg_ctl restart)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="broker (emptied)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a build may take")
    args = parser.parse_args()
    if "postgres" in args.faults and not args.pg_data:
        parser.error("the postgres fault needs --pg-data")

    import psycopg2
    import redis
    from sqlalchemy.engine import make_url

    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings
    from mb_dagster.deploy import processes

    home = Path(tempfile.mkdtemp(prefix="mb-celery-kill-"))
    admin_url = make_url(args.postgres)
    database = f"mb_celery_kill_{uuid.uuid4().hex[:8]}"

    def admin_connection():
        conn = psycopg2.connect(host=admin_url.host, port=admin_url.port or 5432,
                                user=admin_url.username, dbname=admin_url.database, connect_timeout=5)
        conn.autocommit = True
        return conn

    with contextlib.closing(admin_connection()) as conn:
        conn.cursor().execute(f'CREATE DATABASE "{database}"')
    url = admin_url.set(database=database).render_as_string(hide_password=False)
    redis.Redis.from_url(args.redis).flushdb()
    os.environ.update(MB_HOME=str(home), DAGSTER_HOME=str(home / "dagster"), MB_DATABASE_URL=url,
                      MB_DAGSTER_POSTGRES_URL=url, MB_CELERY_BROKER_URL=args.redis)
    settings = Settings.from_env()
    rows = []
    try:
        processes.up(settings, workers=args.workers, port=0, webserver=False)
        mbenv = BuildEnvironment.open(settings)
        for n in range(1, args.kills + 1):
            try:
                rows.append(one_fault(n, args, settings, mbenv))
            except Exception as exc:  # noqa: BLE001 - a broken fault is a row of its own
                rows.append({"n": n, "status": "bench error", "error": repr(exc)[:300], "ok": False})
            print(json.dumps(rows[-1]), flush=True)
        mbenv.store.dispose()
    finally:
        processes.down(settings)
        redis.Redis.from_url(args.redis).flushdb()
        with contextlib.closing(admin_connection()) as conn:
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    ended = [r for r in rows if r.get("status") in ("released", "rolled_back")]
    print(json.dumps({
        "faults": len(rows), "faulted": sum(bool(r.get("done")) for r in rows),
        "completed_or_rolled_back": len(ended),
        "released": sum(r["status"] == "released" for r in ended),
        "rolled_back": sum(r["status"] == "rolled_back" for r in ended),
        "lost": len(rows) - len(ended),
        "duplicated": sum(bool(r.get("duplicate_artifact") or r.get("charged_twice")
                               or r.get("overlapping_runs")) for r in rows),
        "orphans": sum(any((r.get("orphans") or {}).values()) for r in rows),
        "all_ok": all(r["ok"] for r in rows),
        "median_seconds_to_end_after_fault": sorted(
            r.get("seconds_to_end_after_fault", 0) for r in rows)[len(rows) // 2] if rows else None,
        "seed": args.seed, "workers": args.workers, "home": str(home),
    }))


if __name__ == "__main__":
    main()
