"""Chaos bench: builds under injected faults, healing on and off, the same seeds.

Run by hand: `python bench/chaos.py --builds 50 --probabilities 0.1 0.3`. For each probability
and each of healing on / off, `--builds` CRM builds run through the in-process healing driver on
one fresh storage root and Dagster instance, build n with seed n (so "on" and "off" meet the same
faults). Healing off is a run budget of one attempt. Prints per configuration: success rate,
median attempts, extra cost (USD and tokens over a clean build) and extra running time, and the
chaos events by whether their build recovered. Targets: >= 98% at 0.1 and >= 90% at 0.3 with
healing, within budgets. Only the seams the in-process driver exposes today are drawn from
(META_V4_CHAOS_SEAMS, default codegen).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPEC = "Build a CRM system with contacts and deals"


def run_config(probability: float, healing: bool, builds: int, seams: str) -> dict:
    from dagster import DagsterInstance

    from mb_core.errors import MBError
    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings
    from mb_core.store import new_build_id
    from mb_dagster.driver import run_build

    rows = []
    with tempfile.TemporaryDirectory(prefix="mb-chaos-") as home:
        os.environ.update({"MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster",
                           "META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_SEAMS": seams,
                           "META_V4_CHAOS_INJECTION_PROBABILITY": str(probability),
                           "META_BUILDER_MAX_ITERATIONS": "4" if healing else "1"})
        Path(home, "dagster").mkdir(parents=True)
        env = BuildEnvironment.open(Settings.from_env())
        instance = DagsterInstance.get()
        for n in range(builds):
            os.environ["META_V4_CHAOS_SEED"] = str(n)
            build_id = new_build_id()
            env.store.create_build(BuildRun(id=build_id, spec_text=SPEC, status=BuildStatus.running))
            started = time.perf_counter()
            try:
                run_build(env, instance, build_id)
            except MBError:
                pass
            build = env.store.get_build(build_id)
            attempts = env.store.list_attempts(build_id)
            rows.append({"ok": build.status == BuildStatus.released, "attempts": len(attempts),
                         "tokens": sum(a.tokens for a in attempts),
                         "cost_usd": sum(a.cost_usd for a in attempts),
                         "running_s": sum(a.seconds or 0 for a in attempts),
                         "wall_s": time.perf_counter() - started,
                         "faults": len(env.store.list_chaos_events(build_id))})
        chaos = env.store.chaos_stats()
        instance.dispose()
        env.store.dispose()
    clean = [r for r in rows if r["faults"] == 0] or rows
    base_tokens = statistics.median(r["tokens"] for r in clean)
    base_time = statistics.median(r["running_s"] for r in clean)
    return {
        "probability": probability, "healing": healing, "builds": builds,
        "success_rate": sum(r["ok"] for r in rows) / len(rows),
        "median_attempts": statistics.median(r["attempts"] for r in rows),
        "extra_tokens_median": statistics.median(r["tokens"] - base_tokens for r in rows),
        "extra_cost_usd_total": round(sum(r["cost_usd"] for r in rows), 6),
        "extra_running_s_median": round(statistics.median(r["running_s"] - base_time for r in rows), 2),
        "chaos": chaos,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=50)
    parser.add_argument("--probabilities", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--seams", default="codegen")
    parser.add_argument("--json", action="store_true", help="one JSON object per configuration")
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    for probability in args.probabilities:
        for healing in (True, False):
            result = run_config(probability, healing, args.builds, args.seams)
            if args.json:
                print(json.dumps(result), flush=True)
                continue
            print(f"p={probability:<4} healing {'on ' if healing else 'off'}  "
                  f"success {result['success_rate']:.0%}  median attempts {result['median_attempts']}  "
                  f"extra tokens {result['extra_tokens_median']:+.0f}  "
                  f"extra running {result['extra_running_s_median']:+.1f} s", flush=True)
            for key, row in result["chaos"].items():
                print(f"    {key:<28} injected {row['injected']:>3}  recovered {row['recovered']:>3}")


if __name__ == "__main__":
    main()
