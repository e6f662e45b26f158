"""Quality over specs the builder has not been tuned on: each one through the direct pipeline.

Run by hand: `python bench/external_specs.py [SPECS_JSON ...] [--workers 2]`. Each spec builds in its
own temporary storage root; afterwards the generated tree is checked with `ruff check` (default
rules) and `bandit -r app -ll` (medium and high findings). Prints one markdown table per file.
A row is green when the build released, every generated test passed, no error-level quality gate
failed and ruff and bandit report nothing; "held" when all that holds but the risk score sent the
build to a person for approval.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DEFAULT_SPECS = Path(__file__).resolve().parent.parent / ".." / "shared" / "eval" / "external_specs.json"


# Both tools read the generated tree as untrusted: `python -I -m`, run from a scratch folder with
# a cleared environment (mb_core.isolated_tools), the tree only ever an argument.


def _ruff_issues(tree: Path) -> int:
    from mb_core.isolated_tools import python_tool_argv, run_tool

    out = run_tool(python_tool_argv("ruff", "check", "--no-cache", "--output-format", "json",
                                    "--isolated", str(tree.resolve())), timeout_s=300)
    try:
        return len(json.loads(out.stdout.decode() or "[]"))
    except json.JSONDecodeError:
        return -1


def _bandit_issues(tree: Path) -> int:
    from mb_core.isolated_tools import python_tool_argv, run_tool
    from mb_core.quality import BANDIT_INI

    if not (tree / "app").exists():
        return -1
    out = run_tool(python_tool_argv("bandit", "--ini", "bandit.ini", "--ignore-nosec", "-r",
                                    str((tree / "app").resolve()), "-ll", "-f", "json", "-q"),
                   timeout_s=300, files={"bandit.ini": BANDIT_INI})
    try:
        return len(json.loads(out.stdout.decode())["results"])
    except (json.JSONDecodeError, KeyError):
        return -1


def build_one(spec_id: str, spec_text: str, keep: str | None) -> dict:
    """One spec through the pipeline in a fresh storage root; the row of the table."""
    home = keep and str(Path(keep) / spec_id) or tempfile.mkdtemp(prefix="mb-ext-")
    Path(home).mkdir(parents=True, exist_ok=True)
    os.environ["MB_HOME"] = home
    from mb_core.models import BuildRun, BuildStatus
    from mb_core.pipeline import BuildEnvironment, run_build_direct
    from mb_core.settings import Settings
    from mb_core.store import new_build_id

    row = {"id": spec_id, "entities": "", "endpoints": 0, "tests": "", "gates_failed": "",
           "ruff": "", "bandit": "", "result": "error", "seconds": 0.0, "detail": ""}
    started = time.perf_counter()
    env = BuildEnvironment.open(Settings.from_env({**os.environ, "MB_HOME": home}))
    build_id = new_build_id()
    try:
        env.store.create_build(BuildRun(id=build_id, spec_text=spec_text, status=BuildStatus.running))
        outcome = run_build_direct(env, build_id)
        report = outcome.report
        row["entities"] = ", ".join(e.name for e in outcome.plan.entities)
        row["endpoints"] = len(outcome.plan.endpoints)
        total = report.tests_passed + report.tests_failed + report.tests_errored
        row["tests"] = f"{report.tests_passed}/{total}"
        failed = [c.name for c in getattr(report, "checks", [])
                  if not c.passed and getattr(c.severity, "value", c.severity) == "error"]
        # The builder's own probes (schemathesis among them) run in a scratch copy: count misses.
        failed += [f"probe {t.nodeid.rsplit('::', 1)[-1]}" for t in getattr(report, "probes", [])
                   if t.outcome.value in ("failed", "error")]
        row["gates_failed"] = ", ".join(failed) or "-"
        tree = env.workspace_path(build_id)
        row["ruff"] = _ruff_issues(tree)
        row["bandit"] = _bandit_issues(tree)
        clean = (report.passed and total > 0 and report.tests_passed == total and not failed
                 and row["ruff"] == 0 and row["bandit"] == 0)
        # A clean build held for a person's approval (risk at the threshold) did its job.
        held = clean and outcome.artifact is None and outcome.gate.decision.value == "pending"
        row["result"] = "green" if clean and outcome.artifact is not None else (
            "held" if held else "red")
        if not clean:
            problems = [report.failure_summary] if report.failure_summary else []
            if row["ruff"]:
                problems.append(f"ruff: {row['ruff']} issue(s)")
            if row["bandit"]:
                problems.append(f"bandit: {row['bandit']} medium/high")
            row["detail"] = "; ".join(problems or [outcome.build.status.value])[:300]
        elif held:
            row["detail"] = outcome.gate.reason[:200]
    except Exception as exc:  # noqa: BLE001 - a failed build is a row, not the end of the run
        row["detail"] = f"{type(exc).__name__}: {exc}"[:300]
        if os.environ.get("MB_BENCH_TRACE"):
            traceback.print_exc()
    finally:
        env.store.dispose()
        row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def _table(rows: list[dict]) -> str:
    lines = ["| spec | entities | endpoints | tests | gates failed | ruff | bandit M/H | result | s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['entities']} | {r['endpoints']} | {r['tests']} | "
                     f"{r['gates_failed']} | {r['ruff']} | {r['bandit']} | {r['result']} | "
                     f"{r['seconds']} |")
    green = sum(r["result"] == "green" for r in rows)
    held = sum(r["result"] == "held" for r in rows)
    lines.append(f"\n{green}/{len(rows)} green, {held} held for approval")
    details = [f"- {r['id']}: {r['detail']}" for r in rows if r["detail"]]
    return "\n".join(lines + details)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, default=[DEFAULT_SPECS])
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--only", action="append", default=[], help="spec id to run (repeatable)")
    parser.add_argument("--keep", help="keep each build's storage root under this folder")
    args = parser.parse_args()
    for path in args.files:
        specs = json.loads(path.read_text(encoding="utf-8"))["specs"]
        if args.only:
            specs = [s for s in specs if s["id"] in args.only]
        # A fresh process per build keeps MB_HOME and imported state from leaking between specs.
        with ProcessPoolExecutor(max_workers=args.workers, max_tasks_per_child=1) as pool:
            rows = list(pool.map(build_one, [s["id"] for s in specs], [s["spec"] for s in specs],
                                 [args.keep] * len(specs)))
        print(f"\n### {path.name}\n")
        print(_table(rows), flush=True)


if __name__ == "__main__":
    main()
