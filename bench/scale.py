"""Scale: the submissions sensor's tick, `mb list` and the latest-builds query with 10 and with
10,000 build partitions in the instance (and builds in the store). Run by hand:

    nice -n 10 .venv/bin/python bench/scale.py                       # SQLite store and instance
    nice -n 10 .venv/bin/python bench/scale.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

With --postgres a throwaway database per size holds both the store and the instance (the
one-database layout), dropped at the end. Prints a table of medians and the 10,000 / 10 ratio
(target: at most 1.5).
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server for the one-database layout")
    parser.add_argument("--sizes", default="10,10000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--cli-repeat", type=int, default=3, help="runs of the whole `mb list` process")
    args = parser.parse_args()
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
