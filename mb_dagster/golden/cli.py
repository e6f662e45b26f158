"""`mb golden`: the golden suite through Dagster, as a table or as JSON for CI."""

from __future__ import annotations

import json
import logging
import sys
import time

import click

from mb_core.settings import Settings
from mb_dagster.terminal import say

HEADER = (f"{'done':>7}  {'task':<30} {'result':<16} {'entities':>8} {'tests':>9} {'checks':>7} "
          f"{'seconds':>8}")


def _row(run, done: int = 0, total: int = 0) -> str:
    obs = run.result.observation
    mark = "ok" if run.ok else "FAIL"
    result = f"{mark} {run.result.outcome}"
    tests = f"{obs.tests_passed}/{obs.tests_passed + obs.tests_failed}" if obs.build_id else "-"
    checks = "-"
    if run.checks:
        passed = sum(1 for c in run.checks.values() if c["passed"])
        checks = f"{passed}/{len(run.checks)}"
    return (f"{f'{done}/{total}':>7}  {run.task.name[:30]:<30} {result:<16} {len(obs.entities):>8} "
            f"{tests:>9} {checks:>7} {run.seconds:>8.1f}")


def _why(run) -> list[str]:
    lines = [f"    - {m}" for m in run.result.mismatches]
    # The golden check repeats the mismatches above; the other checks are news.
    lines += [f"    - check {name} failed: {run.checks[name]['text']}"
              for name in run.failed_error_checks
              if not (name == "golden_expectations" and run.result.mismatches)]
    return lines


@click.command()
@click.option("--only", "only", multiple=True, metavar="NAME", help="Run only this task (repeatable).")
@click.option("--ci", is_flag=True, help="Print one JSON document instead of the table.")
@click.option("--replay", is_flag=True,
              help="Replay each task's last recorded build (tasks never run before run fresh).")
@click.option("--dir", "folder", default=None, help="Folder of golden task YAML files.")
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Worker processes running tasks side by side.")
def golden(only: tuple[str, ...], ci: bool, replay: bool, folder: str | None, jobs: int) -> None:
    """Run the golden tasks through Dagster and compare each build with its expectations."""
    from pathlib import Path

    from mb_core.golden import golden_dir, load_golden_tasks
    from mb_core.pipeline import BuildEnvironment
    from mb_dagster.golden.suite import run_golden_suite
    from mb_dagster.instance import open_instance

    tasks = load_golden_tasks(Path(folder) if folder else golden_dir(), list(only) or None)
    env = BuildEnvironment.open(Settings.from_env())
    instance = open_instance(env.settings)
    # The steps' progress lines would interleave with the table.
    logging.getLogger("mb.steps").propagate = False
    started = time.perf_counter()

    done = 0

    def printed(run) -> None:
        nonlocal done
        done += 1
        if not ci:  # each task as it finishes, in the order they finish
            say(_row(run, done, len(tasks)))
            for line in _why(run):
                say(line)

    if not ci:
        say(f"{len(tasks)} golden tasks, {min(jobs, len(tasks))} at a time "
            f"({'replaying their last builds' if replay else 'fresh builds'}); each row prints as "
            "its task finishes")
        say(HEADER)
    runs = run_golden_suite(env, instance, tasks, replay=replay, on_done=printed, jobs=jobs)
    seconds = time.perf_counter() - started
    failed = [r for r in runs if not r.ok]
    if ci:
        say(json.dumps({
            "ok": not failed, "tasks": [r.as_json() for r in runs], "passed": len(runs) - len(failed),
            "failed": len(failed), "seconds": round(seconds, 1), "replay": replay,
        }, indent=2))
    else:
        say(f"{len(runs) - len(failed)} of {len(runs)} golden tasks passed in {seconds:.1f} s")
    sys.exit(1 if failed else 0)
