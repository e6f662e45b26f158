"""Chaos bench: builds under injected faults, healing on and off, the same seeds.

Run by hand: `nice -n 10 python bench/chaos.py --builds 50 --probabilities 0.1 0.3 -j 2`.
For each probability and each of healing on / off, `--builds` builds run through the in-process
healing driver (`run_build`: each attempt a Dagster run, in process), build n with seed n and the
same build id in every configuration, so "on" and "off" meet the same first-attempt faults. The
specs rotate over a few short business applications. Healing off is a run budget of one attempt
(META_BUILDER_MAX_ITERATIONS=1). `-j` runs that many worker processes, each on its own storage
root and Dagster instance.

Prints per configuration: success rate (released, or healed and waiting at the approval gate
where its spec's risk holds every build of it for a person), median attempts, extra tokens and USD over the
configuration's fault-free builds, extra running time, how many builds broke a budget, and the
chaos events per seam and fault with how many of their builds recovered. Targets: >= 98% at 0.1
and >= 90% at 0.3 with healing, within budgets.

The seams drawn from are META_V4_CHAOS_SEAMS' (`--seams`): by default every seam whose faults a
build can heal by itself. The run worker seam (SIGKILL) would kill the bench's own process: the
reconciler heals those, measured apart; the patch seam (a faulty Auto-Fixer) must roll back, never
heal, and is proved by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPECS = (
    "Build a CRM system with contacts and deals",
    "Build a library app with books and members who borrow books, with a due date for each loan",
    "Build a clinic app with pets and owners; vets record visits with a diagnosis and a cost",
)
DEFAULT_SEAMS = "provider,codegen,sandbox,git_apply,store"


def _build_id(n: int) -> str:
    return f"chaos-{n:04d}"


def run_shard(probability: float, healing: bool, numbers: list[int], seams: str) -> list[dict]:
    """Builds `numbers` of one configuration in a fresh storage root, in this process."""
    with tempfile.TemporaryDirectory(prefix="mb-chaos-") as home:
        os.environ.update({"MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster",
                           "DAGSTER_DISABLE_TELEMETRY": "1",
                           "META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_SEAMS": seams,
                           "META_V4_CHAOS_INJECTION_PROBABILITY": str(probability),
                           "META_BUILDER_MAX_ITERATIONS": "4" if healing else "1"})
        Path(home, "dagster").mkdir(parents=True)
        import logging

        logging.getLogger("mb.steps").setLevel(logging.WARNING)
        from mb_core.errors import MBError
        from mb_core.models import BuildRun, BuildStatus, FailureClass
        from mb_core.pipeline import BuildEnvironment
        from mb_core.settings import Settings
        from mb_dagster.driver import run_build
        from mb_dagster.instance import open_instance

        env = BuildEnvironment.open(Settings.from_env())
        instance = open_instance(env.settings)  # the project's dagster.yaml: in-process, no telemetry
        rows = []
        for n in numbers:
            os.environ["META_V4_CHAOS_SEED"] = str(n)
            build_id = _build_id(n)
            env.store.create_build(BuildRun(id=build_id, spec_text=SPECS[n % len(SPECS)],
                                            status=BuildStatus.running))
            started = time.perf_counter()
            error = ""
            try:
                run_build(env, instance, build_id)
            except MBError as exc:
                error = str(exc)
            build = env.store.get_build(build_id)
            attempts = env.store.list_attempts(build_id)
            events = env.store.list_chaos_events(build_id)
            rows.append({
                "n": n, "ok": build.status == BuildStatus.released, "status": build.status.value,
                "failure": build.failure_class.value if build.failure_class else None,
                "over_budget": build.failure_class == FailureClass.budget_exceeded,
                "attempts": len(attempts), "phases": [a.phase.value for a in attempts],
                "first": {"ok": len(attempts) == 1 and build.status == BuildStatus.released,
                          "tokens": attempts[0].tokens if attempts else 0,
                          "cost_usd": attempts[0].cost_usd if attempts else 0.0,
                          "running_s": (attempts[0].seconds or 0) if attempts else 0.0},
                "tokens": sum(a.tokens for a in attempts),
                "cost_usd": sum(a.cost_usd for a in attempts),
                "running_s": sum(a.seconds or 0 for a in attempts),
                "wall_s": round(time.perf_counter() - started, 2),
                "faults": [{"seam": e.seam, "fault": e.fault, "attempt": e.attempt,
                            "recovered": e.recovered, "recovery": e.recovery} for e in events],
                "error": error[:300],
            })
            print(json.dumps({"p": probability, "healing": healing, **rows[-1]}), file=sys.stderr,
                  flush=True)
        instance.dispose()
        env.store.dispose()
        return rows


# A build that healed and waits at the approval gate (its spec's risk or an unmet requirement
# holds it for a person, as it would without any fault) counts as a success of healing.
SUCCESS = ("released", "awaiting_approval")


def with_outcome(rows: list[dict]) -> list[dict]:
    return [{**r, "ok": r["status"] in SUCCESS,
             "first": {**r["first"], "ok": r["attempts"] == 1 and r["status"] in SUCCESS}} for r in rows]


def first_attempts(rows: list[dict]) -> list[dict]:
    """Healing off, read from the first attempt of the same builds: the same build id and seed
    plan the same first-attempt fault, and with one attempt allowed the build ends there."""
    out = []
    for row in rows:
        first = row["first"]
        faults = [dict(f, recovered=first["ok"]) for f in row["faults"] if f["attempt"] == 1]
        out.append({**row, **first, "attempts": 1, "phases": row["phases"][:1], "faults": faults,
                    "status": row["status"] if first["ok"] else "rolled_back",
                    "over_budget": False, "error": "" if first["ok"] else "first attempt failed"})
    return out


def clean_baseline(rows: list[dict]) -> dict[int, tuple[float, float]]:
    """Per spec: (tokens, running seconds) of a build that met no fault. Measured on fault-free
    builds of any configuration; where a spec has none yet, on the clean retry that healed a
    faulted build (a retry is the whole pipeline again, with no fault)."""
    by_spec: dict[int, list[tuple[float, float]]] = {}
    for row in rows:
        if not row["faults"] and row["ok"]:
            by_spec.setdefault(row["n"] % len(SPECS), []).append((row["tokens"], row["running_s"]))
    for row in rows:
        spec = row["n"] % len(SPECS)
        if spec not in by_spec and row["ok"] and row["phases"] == ["build", "retry"]:
            by_spec.setdefault(-1 - spec, []).append((row["tokens"] - row["first"]["tokens"],
                                                      row["running_s"] - row["first"]["running_s"]))
    out = {}
    for key, values in by_spec.items():
        spec = key if key >= 0 else -1 - key
        if spec not in out or key >= 0:
            out[spec] = (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
    return out


def summarize(probability: float, healing: bool, rows: list[dict],
              baseline: dict[int, tuple[float, float]]) -> dict:
    def extra(row: dict, index: int, key: str) -> float | None:
        base = baseline.get(row["n"] % len(SPECS))
        return None if base is None else row[key] - base[index]

    def median(values) -> float | None:
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 2) if values else None

    chaos: dict[str, dict[str, int]] = {}
    for row in rows:
        for f in row["faults"]:
            counts = chaos.setdefault(f"{f['seam']}/{f['fault']}", {"injected": 0, "recovered": 0})
            counts["injected"] += 1
            counts["recovered"] += bool(f["recovered"])
    faulted = [r for r in rows if r["faults"]]
    return {
        "probability": probability, "healing": healing, "builds": len(rows),
        "success_rate": sum(r["ok"] for r in rows) / len(rows),
        "builds_with_faults": len(faulted),
        "faulted_success_rate": (sum(r["ok"] for r in faulted) / len(faulted)) if faulted else None,
        "median_attempts": statistics.median(r["attempts"] for r in rows),
        "median_attempts_faulted": statistics.median(r["attempts"] for r in faulted) if faulted else None,
        "extra_tokens_median": median(extra(r, 0, "tokens") for r in rows),
        "extra_tokens_faulted_median": median(extra(r, 0, "tokens") for r in faulted),
        "extra_cost_usd_total": round(sum(r["cost_usd"] for r in faulted), 6),
        "extra_running_s_median": median(extra(r, 1, "running_s") for r in rows),
        "extra_running_s_faulted_median": median(extra(r, 1, "running_s") for r in faulted),
        "over_budget": sum(r["over_budget"] for r in rows),
        "failures": sorted({f"{r['status']}:{r['failure']}" for r in rows if not r["ok"]}),
        "chaos": dict(sorted(chaos.items())),
        "not_ok": [{"n": r["n"], "phases": r["phases"], "faults": r["faults"], "error": r["error"]}
                   for r in rows if not r["ok"]],
    }


def _first_faulted(probability: float, n: int, seams: str) -> bool:
    from mb_core.chaos import ChaosSettings, FaultInjector

    settings = ChaosSettings(enabled=True, probability=probability, seed=n, seams=tuple(seams.split(",")))
    return FaultInjector(settings).plan(_build_id(n), 1) is not None


def _from_log(path: str) -> dict:
    results: dict = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            results.setdefault((row.pop("p"), row.pop("healing"), 0), []).append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=50)
    parser.add_argument("--start", type=int, default=0,
                        help="first build number (build n draws its faults from seed n alone: "
                             "--start 50 gives builds the default run never drew)")
    parser.add_argument("--probabilities", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--seams", default=DEFAULT_SEAMS)
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--json", action="store_true", help="one JSON object per configuration")
    parser.add_argument("--summarize-log", metavar="FILE",
                        help="only summarize the per-build JSON lines an earlier run wrote to stderr")
    parser.add_argument("--off-derived", action="store_true",
                        help="read healing off from the first attempts of the healing-on builds "
                             "instead of building again (half the time; the same first-attempt faults)")
    args = parser.parse_args()
    if args.start < 0 or args.builds < 1:
        parser.error("--start must be 0 or more and --builds at least 1")
    for p in args.probabilities:
        if not 0.0 <= p <= 1.0:
            parser.error(f"--probabilities: {p} is not a probability: use a number from 0 to 1")
    configs = [(p, healing) for p in args.probabilities for healing in (True, False)]
    jobs = max(1, args.jobs)
    built = [(p, h) for p, h in configs if h or not args.off_derived]
    if args.summarize_log:
        results = _from_log(args.summarize_log)
        started = time.perf_counter()
    else:
        # Builds whose first attempt meets a fault run first, every configuration's in turn, then
        # the fault-free ones: a run stopped early still has the healing figures of each.
        order = sorted(((not _first_faulted(p, n, args.seams), n, p, h) for p, h in built
                        for n in range(args.start, args.start + args.builds)))
        shards = {(p, h, n): [n] for _clean, n, p, h in order}
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {key: pool.submit(run_shard, key[0], key[1], numbers, args.seams)
                       for key, numbers in shards.items() if numbers}
            results = {key: future.result() for key, future in futures.items()}
    done = sum(len(shard) for shard in results.values())
    if args.summarize_log:
        print(f"{done} builds read from {args.summarize_log}", flush=True)
    else:
        print(f"{done} builds in {time.perf_counter() - started:.0f} s (seams {args.seams})", flush=True)
    baseline = clean_baseline(with_outcome([r for (_p, h, _k), shard in results.items() if h for r in shard]))
    print("clean build per spec (tokens, running s): "
          + ", ".join(f"#{k} {t:.0f} tok {sec:.0f} s" for k, (t, sec) in sorted(baseline.items())), flush=True)
    for p, healing in configs:
        derived = not healing and args.off_derived
        built_as = True if derived else healing
        rows = with_outcome(sorted((r for (q, h, _k), shard in results.items() if q == p and h == built_as
                                    for r in shard), key=lambda r: r["n"]))
        if derived:
            rows = first_attempts(rows)
        if not rows:  # a log of other probabilities, or healing off left out
            print(f"p={p:<4} healing {'on' if healing else 'off'}: no builds", flush=True)
            continue
        result = summarize(p, healing, rows, baseline)
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        label = "off (first attempts)" if derived else ("on " if healing else "off")
        def num(value, fmt: str) -> str:
            return "n/a" if value is None else format(value, fmt)

        print(f"p={p:<4} healing {label}  success {result['success_rate']:.0%} "
              f"({result['builds']} builds, {result['builds_with_faults']} with faults, those "
              f"{num(result['faulted_success_rate'], '.0%')})  median attempts {result['median_attempts']} "
              f"(faulted {num(result['median_attempts_faulted'], 'g')})  extra tokens median "
              f"{num(result['extra_tokens_median'], '+.0f')} (faulted {num(result['extra_tokens_faulted_median'], '+.0f')})  "
              f"USD of faulted builds {result['extra_cost_usd_total']:.4f}  extra running median "
              f"{num(result['extra_running_s_median'], '+.0f')} s (faulted "
              f"{num(result['extra_running_s_faulted_median'], '+.0f')} s)  over budget {result['over_budget']}",
              flush=True)
        for key, row in result["chaos"].items():
            print(f"    {key:<28} injected {row['injected']:>3}  build recovered {row['recovered']:>3}")
        for miss in result["not_ok"]:
            print(f"    not released: #{miss['n']} {' -> '.join(miss['phases'])}: {miss['error'][:160]}")


if __name__ == "__main__":
    main()
