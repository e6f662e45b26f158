"""Scale: the submissions sensor's tick, `mb list` and the latest-builds query with 10 and with
10,000 build partitions in the instance (and builds in the store). Run by hand:

    nice -n 10 .venv/bin/python bench/scale.py                       # SQLite store and instance
    nice -n 10 .venv/bin/python bench/scale.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

With --postgres a throwaway database per size holds both the store and the instance (the
one-database layout), dropped at the end. Prints a table of medians and the 10,000 / 10 ratio
(target: at most 1.5).

Throughput of the distributed path (`make up`'s daemon and N Celery workers, dagster.celery.yaml,
one throwaway database for the store and the instance, a Redis database emptied first):

    nice -n 10 .venv/bin/python bench/scale.py --throughput 50 --workers 1,2,4 \
        --postgres postgresql+psycopg2://postgres@127.0.0.1:5433/postgres --redis redis://127.0.0.1:6379/11

submits the builds at once (SLA tiers alternating fast and normal: the `high` and `cpu` queues
hold 2 runs each, so 4 workers can all be busy), and times the first submission to the last end:
builds per minute, the ratio to 1 worker, the median build latency, and the CPU seconds per build
of every process (daemon, workers, runs, sandboxes). `--in-process K` runs K `mb build` processes
one after another for the in-process cost. The load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

SPEC = "Build a CRM system with contacts and deals"


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _fill(store, instance, count: int) -> None:
    """`count` released builds in the store and as partitions, inserted in bulk."""
    from sqlalchemy import insert

    from mb_core.store.tables import builds

    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"id": f"b-scale-{n:06d}", "tenant": f"t{n % 20}", "spec_text": SPEC, "mode": "freeform",
             "status": "released", "provider": "offline", "base_build_id": None, "repo_path": None,
             "risk_score": 35, "error": None, "attempt": 1, "failure_class": None, "sla": "normal",
             "created_at": start + timedelta(seconds=n), "updated_at": start + timedelta(seconds=n)}
            for n in range(count)]
    with store.engine.begin() as conn:
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(builds), rows[chunk:chunk + 1000])
    ids = [r["id"] for r in rows]
    for chunk in range(0, len(ids), 1000):
        instance.add_dynamic_partitions("builds", ids[chunk:chunk + 1000])


def measure(count: int, postgres_admin: str | None, repeat: int, cli_repeat: int) -> dict[str, float]:
    from dagster import build_sensor_context

    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings
    from mb_core.store import new_build_id
    from mb_dagster.build.sensors import submissions_sensor
    from mb_dagster.instance import open_instance
    from mb_dagster.resources import MetaBuilderResource

    home = Path(tempfile.mkdtemp(prefix=f"mb-scale-{count}-"))
    env_vars = {"MB_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    database = None
    if postgres_admin:
        import psycopg2
        from sqlalchemy.engine import make_url

        admin_url = make_url(postgres_admin)
        database = f"mb_scale_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(host=admin_url.host, port=admin_url.port or 5432,
                                 user=admin_url.username, dbname=admin_url.database)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{database}"')
        url = admin_url.set(database=database).render_as_string(hide_password=False)
        env_vars.update(MB_DATABASE_URL=url, MB_DAGSTER_POSTGRES_URL=url)
    os.environ.update(env_vars)
    try:
        settings = Settings.from_env()
        env = BuildEnvironment.open(settings)
        instance = open_instance(settings)
        _fill(env.store, instance, count)
        resources = {"mb": MetaBuilderResource()}

        def idle_tick():
            submissions_sensor(build_sensor_context(instance=instance, resources=resources))

        def busy_tick():
            for _ in range(10):
                env.store.create_build(BuildRun(id=new_build_id(), spec_text=SPEC,
                                                status=BuildStatus.submitted))
            result = submissions_sensor(build_sensor_context(instance=instance, resources=resources))
            assert len(result.run_requests) == 10
            # What the daemon does with the tick's requests: the new partitions are added.
            for request in result.dynamic_partitions_requests:
                instance.add_dynamic_partitions("builds", list(request.partition_keys))

        figures = {
            "sensor tick, nothing submitted": _median(idle_tick, repeat),
            "sensor tick, 10 submitted": _median(busy_tick, repeat),
            "latest builds (store, 20)": _median(lambda: env.store.list_builds(limit=20), repeat),
            "latest builds of a tenant (20)": _median(lambda: env.store.list_builds(limit=20, tenant="t3"),
                                                      repeat),
            "latest runs (instance, 20)": _median(lambda: instance.get_runs(limit=20), repeat),
            "has partition (instance)": _median(
                lambda: instance.has_dynamic_partition("builds", "b-scale-000005"), repeat),
        }
        mb = str(REPO / ".venv" / "bin" / "mb")
        figures["mb list (whole process)"] = _median(
            lambda: subprocess.run([mb, "list"], check=True, capture_output=True,
                                   env={**os.environ, **env_vars}), cli_repeat)
        instance.dispose()
        env.store.dispose()
        return figures
    finally:
        if database:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


class _Orphans:
    """Makes this process the subreaper of everything it starts and reaps what is orphaned.

    A run's process is started by the daemon's code server and not always waited for; orphaned,
    it would go to init and its CPU would never reach RUSAGE_CHILDREN. As subreaper this process
    inherits it, and reaping it adds its CPU. Reaping a child that `processes.down` also waits for
    is harmless: down treats a pid that is gone as stopped.
    """

    def __enter__(self):
        import ctypes
        import threading

        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reap, daemon=True)
        self._thread.start()
        return self

    def _reap(self) -> None:
        while not self._stop.wait(0.5):
            self.reap_all()

    @staticmethod
    def reap_all() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.reap_all()
        self._prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def throughput(builds: int, workers: int, postgres_admin: str, broker: str, timeout: float) -> dict:
    """`builds` submitted at once to the daemon and `workers` Celery workers; times to the last end."""
    import psycopg2
    import redis
    from sqlalchemy.engine import make_url

    from mb_core.models import TERMINAL_STATUSES, BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings
    from mb_core.store import new_build_id
    from mb_dagster.deploy import processes

    home = Path(tempfile.mkdtemp(prefix=f"mb-throughput-{workers}-"))
    admin_url = make_url(postgres_admin)
    database = f"mb_throughput_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=admin_url.host, port=admin_url.port or 5432, user=admin_url.username,
                             dbname=admin_url.database)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{database}"')
    url = admin_url.set(database=database).render_as_string(hide_password=False)
    redis.Redis.from_url(broker).flushdb()
    os.environ.update(MB_HOME=str(home), DAGSTER_HOME=str(home / "dagster"), MB_DATABASE_URL=url,
                      MB_DAGSTER_POSTGRES_URL=url, MB_CELERY_BROKER_URL=broker)
    settings = Settings.from_env()
    load_before = _load()
    cpu_before = _children_cpu()
    with _Orphans():  # reaps after down(), so every run process's CPU is counted
        try:
            processes.up(settings, workers=workers, port=0, webserver=False)
            env = BuildEnvironment.open(settings)
            started = time.time()
            ids = []
            for n in range(builds):  # what `mb build --detach` writes; the submissions sensor claims them
                build_id = new_build_id()
                env.store.create_build(BuildRun(id=build_id, spec_text=SPEC, status=BuildStatus.submitted,
                                                sla="fast" if n % 2 == 0 else "normal"))
                ids.append(build_id)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                ended = [b for b in (env.store.get_build(i) for i in ids) if b.status in TERMINAL_STATUSES]
                if len(ended) == len(ids):
                    break
                time.sleep(2)
            elapsed = time.time() - started
            latencies = sorted((b.updated_at.timestamp() - b.created_at.timestamp()) for b in ended)
            statuses = {}
            for b in ended:
                statuses[b.status.value] = statuses.get(b.status.value, 0) + 1
            env.store.dispose()
        finally:
            processes.down(settings)
            redis.Redis.from_url(broker).flushdb()
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
    return {"workers": workers, "builds": builds, "ended": len(ended), "statuses": statuses,
            "seconds": round(elapsed, 1), "builds_per_minute": round(len(ended) / elapsed * 60, 2),
            "median_latency_s": round(latencies[len(latencies) // 2], 1) if latencies else None,
            "cpu_s_per_build": round((_children_cpu() - cpu_before) / max(1, len(ended)), 1),
            "load_before": load_before, "load_after": _load()}


def in_process(builds: int) -> dict:
    """`builds` `mb build` processes one after another (SQLite store and instance)."""
    home = Path(tempfile.mkdtemp(prefix="mb-throughput-inprocess-"))
    env = {k: v for k, v in os.environ.items() if k not in (
        "MB_DATABASE_URL", "MB_DAGSTER_POSTGRES_URL", "MB_CELERY_BROKER_URL")}
    env.update(MB_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    mb = str(REPO / ".venv" / "bin" / "mb")
    load_before, cpu_before, walls, released = _load(), _children_cpu(), [], 0
    for _ in range(builds):
        started = time.perf_counter()
        done = subprocess.run([mb, "build", SPEC], check=False, capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - started)
        released += done.returncode == 0
    return {"workers": "in-process", "builds": builds, "released": released,
            "seconds": round(sum(walls), 1), "builds_per_minute": round(builds / sum(walls) * 60, 2),
            "median_latency_s": round(sorted(walls)[len(walls) // 2], 1),
            "cpu_s_per_build": round((_children_cpu() - cpu_before) / builds, 1),
            "load_before": load_before, "load_after": _load()}


def main_throughput(args) -> None:
    import json

    if not args.postgres:
        raise SystemExit("error: --throughput needs --postgres (the shared store and instance)")
    rows = []
    if args.in_process:
        rows.append(in_process(args.in_process))
        print(json.dumps(rows[-1]), flush=True)
    for workers in (int(w) for w in args.workers.split(",")):
        rows.append(throughput(args.throughput, workers, args.postgres, args.redis, args.timeout))
        print(json.dumps(rows[-1]), flush=True)
    base = next((r for r in rows if r["workers"] == 1), None)
    print(f"{'workers':<11} {'builds':>6} {'seconds':>8} {'per min':>8} {'ratio':>6} {'latency':>8} "
          f"{'cpu/build':>9}  load before -> after")
    for r in rows:
        ratio = f"{r['builds_per_minute'] / base['builds_per_minute']:.2f}" if base else "-"
        print(f"{r['workers']!s:<11} {r['builds']:>6} {r['seconds']:>8} {r['builds_per_minute']:>8} "
              f"{ratio:>6} {r['median_latency_s']!s:>7}s {r['cpu_s_per_build']:>8}s  "
              f"{r['load_before']} -> {r['load_after']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server for the one-database layout")
    parser.add_argument("--sizes", default="10,10000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--cli-repeat", type=int, default=3, help="runs of the whole `mb list` process")
    parser.add_argument("--throughput", type=int, help="builds per run of the distributed path")
    parser.add_argument("--workers", default="1,2,4", help="Celery worker counts (with --throughput)")
    parser.add_argument("--in-process", type=int, default=0, help="`mb build` processes for the baseline")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="broker (emptied)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one throughput run may take")
    args = parser.parse_args()
    if args.throughput:
        main_throughput(args)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {n: measure(n, args.postgres, args.repeat, args.cli_repeat) for n in sizes}
    small, large = sizes[0], sizes[-1]
    print(f"backend: {'PostgreSQL (one database)' if args.postgres else 'SQLite'}; medians of "
          f"{args.repeat} (mb list: of {args.cli_repeat})")
    print(f"{'measure':<34} {small:>10} {large:>10}  ratio")
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        print(f"{name:<34} {a * 1000:8.1f}ms {b * 1000:8.1f}ms  {b / a:5.2f}")


if __name__ == "__main__":
    main()
