"""The golden suite driver: each task built through Dagster (its own `builds` partition, the build
job with its asset checks, then the release job when the gate clears it), then compared with the
task's expectations.

`replay=True` re-materializes each task's last recorded build partition with the replay provider
(answers from the store's recorded exchanges); a task with nothing recorded runs fresh.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mb_core.errors import InvalidSpec, MBError
from mb_core.golden import GoldenObservation, GoldenResult, GoldenTask, compare, observe_build
from mb_core.lifecycle import BuildEvent
from mb_core.models import TERMINAL_STATUSES, BuildRun, BuildStatus, SpecMode
from mb_core.pipeline import BuildEnvironment
from mb_core.store import new_build_id
from mb_core.submission import spec_text_from_bytes
from mb_dagster import driver
from mb_dagster.build.assets import PROVIDER_TAG
from mb_dagster.golden import GOLDEN_TENANT
from mb_dagster.golden.checks import GOLDEN_TAG

ATTEMPT_TAG = "mb/golden_attempt"
INDEX_FILE = "golden/index.json"  # task name -> the build id of its last run


@dataclass
class GoldenRun:
    task: GoldenTask
    result: GoldenResult
    seconds: float
    mode: str  # fresh | replay | invalid
    checks: dict[str, dict] = field(default_factory=dict)  # check name -> {passed, severity, text}

    @property
    def failed_error_checks(self) -> list[str]:
        return [name for name, c in self.checks.items() if not c["passed"] and c["severity"] == "ERROR"]

    @property
    def ok(self) -> bool:
        return self.result.ok and not self.failed_error_checks

    def as_json(self) -> dict:
        obs = self.result.observation
        return {
            "task": self.task.name, "domain": self.task.domain, "expect": self.task.expect,
            "ok": self.ok, "outcome": self.result.outcome, "mode": self.mode,
            "build_id": obs.build_id, "status": obs.status, "error": obs.error,
            "entities": obs.entities, "tests_passed": obs.tests_passed,
            "tests_failed": obs.tests_failed, "confidence": obs.confidence,
            "mismatches": self.result.mismatches, "checks": self.checks,
            "failed_error_checks": self.failed_error_checks, "seconds": round(self.seconds, 2),
        }


def _index_path(env: BuildEnvironment) -> Path:
    return env.settings.home / INDEX_FILE


def read_index(env: BuildEnvironment) -> dict[str, str]:
    path = _index_path(env)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_index(env: BuildEnvironment, index: dict[str, str]) -> None:
    path = _index_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)  # never a half-written index


def check_evaluations(instance, attempt: str) -> dict[str, dict]:
    """The asset check evaluations of one golden attempt's runs: name -> {passed, severity, text}."""
    from dagster import DagsterEventType, RunsFilter

    out: dict[str, dict] = {}
    for run in instance.get_runs(filters=RunsFilter(tags={ATTEMPT_TAG: attempt})):
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
            ev = entry.dagster_event.event_specific_data
            out[ev.check_name] = {"passed": ev.passed, "severity": ev.severity.value,
                                  "text": ev.description or ""}
    return out


def run_golden_task(env: BuildEnvironment, instance, task: GoldenTask, replay: bool = False,
                    index: dict[str, str] | None = None) -> GoldenRun:
    started = time.perf_counter()
    index = index if index is not None else read_index(env)
    try:
        text = spec_text_from_bytes(task.text.encode("utf-8"), source=f"golden task {task.name}",
                                    max_bytes=env.settings.max_spec_bytes)
    except InvalidSpec as exc:  # the CLI would refuse it before any build exists
        obs = GoldenObservation(status="invalid", error=str(exc))
        return GoldenRun(task, compare(task, obs), time.perf_counter() - started, "invalid")

    previous = index.get(task.name) if replay else None
    attempt = uuid.uuid4().hex  # finds this attempt's runs again among the partition's history
    if previous and _exists(env, previous) and env.store.list_exchanges(previous):
        build_id, mode = previous, "replay"
        tags = {GOLDEN_TAG: task.name, PROVIDER_TAG: "replay", ATTEMPT_TAG: attempt}
        env.store.transition(build_id, BuildEvent.rerun, error="",
                             expected=set(TERMINAL_STATUSES) | {BuildStatus.awaiting_approval,
                                                                BuildStatus.approved})
    else:
        build_id, mode = new_build_id(), "fresh"
        tags = {GOLDEN_TAG: task.name, ATTEMPT_TAG: attempt}
        env.store.create_build(BuildRun(
            id=build_id, spec_text=text, status=BuildStatus.running,
            mode=SpecMode.guided if task.guided else SpecMode.freeform,
            provider=env.settings.provider, tenant=GOLDEN_TENANT,
        ))
    try:
        driver.run_build(env, instance, build_id, tags=tags)
    except MBError:
        pass  # the build's status and error say what happened; the comparison judges it
    obs = observe_build(env, build_id)
    return GoldenRun(task, compare(task, obs), time.perf_counter() - started, mode,
                     check_evaluations(instance, attempt))


def _exists(env: BuildEnvironment, build_id: str) -> bool:
    try:
        env.store.get_build(build_id)
    except MBError:
        return False
    return True


def run_golden_suite(env: BuildEnvironment, instance, tasks: list[GoldenTask], replay: bool = False,
                     on_done=None, jobs: int = 1) -> list[GoldenRun]:
    """Every task, in task order; `on_done(run)` is called as each finishes (the CLI prints a row).

    With `jobs` > 1 the tasks are shared among that many worker processes, each with its own
    store connection and Dagster instance on the same storage (both take concurrent writers).
    """
    index = read_index(env)
    done: dict[str, GoldenRun] = {}

    def finished(run: GoldenRun) -> None:
        if run.result.observation.build_id:
            index[run.task.name] = run.result.observation.build_id
            _write_index(env, index)
        done[run.task.name] = run
        if on_done is not None:
            on_done(run)

    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            finished(run_golden_task(env, instance, task, replay=replay, index=index))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_open_worker) as pool:
            futures = [pool.submit(_run_in_worker, task, replay, dict(index)) for task in tasks]
            for future in as_completed(futures):
                finished(future.result())
    return [done[task.name] for task in tasks]


_WORKER: dict = {}


def _open_worker() -> None:
    import logging

    from mb_core.settings import Settings
    from mb_dagster.instance import open_instance

    logging.getLogger("mb.steps").propagate = False
    env = BuildEnvironment.open(Settings.from_env())
    _WORKER.update(env=env, instance=open_instance(env.settings))


def _run_in_worker(task: GoldenTask, replay: bool, index: dict[str, str]) -> GoldenRun:
    return run_golden_task(_WORKER["env"], _WORKER["instance"], task, replay=replay, index=index)
