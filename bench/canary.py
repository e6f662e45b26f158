"""Canary bench: builds split between v4 and baseline, under injected faults, then the report.

Run by hand (it takes a while): `nice -n 10 .venv/bin/python bench/canary.py --builds 24
--percent 50 --probability 0.4`. On one fresh storage root and Dagster instance (or --home),
the platform's FEATURE_META_V4_CANARY_PERCENT is set to --percent and chaos is switched on
(META_V4_CHAOS_SEAMS, default codegen; build n draws with seed n); each CRM build runs through the
in-process driver, whose variant decides whether the repair ladder may heal it. Then the
canary_report_job materializes the report as the schedule would. Prints each build's line, the
per-variant figures and the report's summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPEC = "Build a CRM system with contacts and deals"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=24)
    parser.add_argument("--percent", type=float, default=50)
    parser.add_argument("--probability", type=float, default=0.4)
    parser.add_argument("--seams", default="codegen")
    parser.add_argument("--home", help="storage root to use (kept); default a temporary one")
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    home = args.home or tempfile.mkdtemp(prefix="mb-canary-")
    Path(home, "dagster").mkdir(parents=True, exist_ok=True)
    os.environ.update({"MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster", "META_V4_CHAOS_ENABLED": "1",
                       "META_V4_CHAOS_SEAMS": args.seams,
                       "META_V4_CHAOS_INJECTION_PROBABILITY": str(args.probability)})
    os.environ.pop("MB_DATABASE_URL", None)

    from mb_core.canary.report import chart_markdown, summary_markdown
    from mb_core.errors import MBError
    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings
    from mb_core.store import new_build_id
    from mb_core.store.canary import CanaryStore
    from mb_core.store.platform import PlatformStore
    from mb_dagster.definitions import defs
    from mb_dagster.driver import run_build
    from mb_dagster.instance import open_instance

    env = BuildEnvironment.open(Settings.from_env())
    PlatformStore(env.store).set_flag("FEATURE_META_V4_CANARY_PERCENT", args.percent, "platform",
                                      updated_by="bench")
    instance = open_instance(env.settings)
    print(f"storage root {home}; canary {args.percent:g} %, chaos p={args.probability} on {args.seams}",
          flush=True)
    for n in range(args.builds):
        os.environ["META_V4_CHAOS_SEED"] = str(n)
        build_id = new_build_id()
        env.store.create_build(BuildRun(id=build_id, spec_text=SPEC, status=BuildStatus.running))
        started = time.perf_counter()
        try:
            run_build(env, instance, build_id)
        except MBError:
            pass
        build = env.store.get_build(build_id)
        variant = CanaryStore(env.store).variant_of(build_id)
        print(f"{n + 1:>3} {build_id} {variant.variant.value:<8} {build.status.value:<12} "
              f"attempts {len(env.store.list_attempts(build_id))}  faults {len(env.store.list_chaos_events(build_id))}"
              f"  {time.perf_counter() - started:5.1f} s", flush=True)
    result = defs.resolve_job_def("canary_report_job").execute_in_process(instance=instance)
    [check] = result.get_asset_check_evaluations()
    report = CanaryStore(env.store).latest_report("")
    print(f"\ncanary_report_job: {'success' if result.success else 'FAILED'}; check "
          f"no_significant_regression {'passed' if check.passed else 'FAILED'}: {check.description}\n")
    print(summary_markdown(report))
    print(chart_markdown(report))
    instance.dispose()
    env.store.dispose()


if __name__ == "__main__":
    main()
