"""What a run the sensors requested writes, at its start and end: the writes the sensors never make.

A sensor only reads the store and asks for a run (tagged `mb/driver=sensor`, `mb/attempt=N`). The
run's first step then does the bookkeeping, each write a compare-and-set so a repeated or retried
run changes nothing twice:
- a first build run claims its submitted build (submitted -> running) and draws its canary
  variant, as the CLI driver does when it starts a build;
- a repair run closes the failed attempt before it with its failure class (charging its running
  time once), feeds the breaker, starts attempt N (`retry`), and, after a lost worker, puts the
  workspace back at its base;
- a release run claims its approved build (approved -> releasing);
then it opens attempt N's record and takes the build's worker lease. A run that finds its build
moved on (cancelled, claimed by another driver, already at a later attempt) stops before any work.
"""

from __future__ import annotations

import os
from datetime import datetime

from mb_core.breakers import BREAKER_NAMES, record_outcome
from mb_core.canary.recording import assign_build
from mb_core.errors import InvalidState
from mb_core.healing import lost_worker_last_seen, remove_release_scratch, restore_workspace
from mb_core.lifecycle import BuildEvent
from mb_core.models import AttemptOutcome, BuildStatus, FailureClass, RepairPhase
from mb_core.reconcile import WorkerDriver, lease_alive
from mb_core.slo import run_budget_from_env
from mb_core.store.workers import get_lease, give_back_lease, take_lease
from mb_dagster.healing.rollback import close_drive

BUILD_TAG = "mb/build"
DRIVER_TAG = "mb/driver"  # "sensor": a run the daemon's sensors requested (its writes are its own)
SENSOR_DRIVER = "sensor"
ATTEMPT_TAG = "mb/attempt"  # the build attempt number the run is
AFTER_TAG = "mb/after"  # the failure class of the attempt before, which this run repairs
REASON_TAG = "mb/reason"  # the ladder's reason for this run
PHASE_TAG = "mb/phase"
ITERATION_TAG = "mb/iteration"
HEALING_TAG = "mb/healing"
# "superseded": the run found its build moved on and did nothing; it ends skipped, not failed.
# The jobs whose run is one attempt of a build and ends with its gate.
ATTEMPT_JOBS = frozenset({"build_job", "repair_job", "replan_job"})
WILL_RETRY_TAG = "dagster/will_retry"  # Dagster's, on a failed run: "true" when a run retry follows
OUTCOME_TAG = "mb/outcome"
SUPERSEDED = "superseded"

_begun: set[tuple[str, int]] = set()  # (run id, pid): the bookkeeping runs once per run worker


class RunSuperseded(InvalidState):
    """The run's build moved on before the run started: it has nothing to do."""


def mark_superseded(instance, run_id: str, reason: str) -> None:
    """Tag a run that stopped because its build moved on (what the UI and the sensors read)."""
    instance.add_run_tags(run_id, {OUTCOME_TAG: SUPERSEDED, REASON_TAG: reason[:200]})


def is_superseded(tags) -> bool:
    return tags.get(OUTCOME_TAG) == SUPERSEDED


def is_sensor_run(tags) -> bool:
    return tags.get(DRIVER_TAG) == SENSOR_DRIVER


def _attempt_tokens(env, build_id: str, attempt: int) -> tuple[int, float]:
    """What the build spent since its earlier attempts closed: the open attempt's share."""
    total = env.store.usage_totals(build_id)["total"]
    closed = [a for a in env.store.list_attempts(build_id) if a.attempt != attempt]
    return (max(0, total["total_tokens"] - sum(a.tokens for a in closed)),
            max(0.0, total["cost_usd"] - sum(a.cost_usd for a in closed)))


def lost_at(env, build_id: str, attempt) -> datetime:
    """The last sign of life of the worker lost on `attempt` (what it is charged up to)."""
    return lost_worker_last_seen(attempt, env.store.list_steps(build_id), get_lease(env.store, build_id))


def settle_failed_attempt(env, build_id: str, attempt: int, failure: FailureClass | None) -> bool:
    """Close the build's failed `attempt` with its class and feed that class's breaker, once.
    Returns whether this call closed it."""
    records = [a for a in env.store.list_attempts(build_id) if a.attempt == attempt]
    if not records or records[0].outcome is not AttemptOutcome.running:
        return False
    tokens, cost = _attempt_tokens(env, build_id, attempt)
    ended_at = lost_at(env, build_id, records[0]) if failure is FailureClass.worker_lost else None
    _, closed = env.store.finish_attempt(build_id, attempt, AttemptOutcome.failed, failure_class=failure,
                                         tokens=tokens, cost_usd=cost, ended_at=ended_at)
    if closed and failure is not None and failure.value in BREAKER_NAMES:
        record_outcome(env.store, failure, False)
    return closed


def settle_succeeded_attempt(env, build_id: str, attempt: int) -> bool:
    records = [a for a in env.store.list_attempts(build_id) if a.attempt == attempt]
    if not records or records[0].outcome is not AttemptOutcome.running:
        return False
    tokens, cost = _attempt_tokens(env, build_id, attempt)
    _, closed = env.store.finish_attempt(build_id, attempt, AttemptOutcome.succeeded, tokens=tokens,
                                         cost_usd=cost)
    previous = [a for a in env.store.list_attempts(build_id) if a.attempt == attempt - 1]
    if closed and previous and previous[0].failure_class and previous[0].failure_class.value in BREAKER_NAMES:
        record_outcome(env.store, previous[0].failure_class, True)  # a repair of that class worked
    return closed


def cancel_orphaned_runs(instance, build_id: str, keep_run_id: str) -> list[str]:
    """Runs of the build Dagster still thinks are going, left by a worker that is gone: marked
    canceled so nothing reads them as alive."""
    from dagster import DagsterRunStatus, RunsFilter

    going = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    orphans = [r for r in instance.get_runs(RunsFilter(tags={BUILD_TAG: build_id}, statuses=going))
               if r.run_id != keep_run_id]
    for run in orphans:
        instance.report_run_canceled(run, message="its worker was lost; the build goes on in a new run")
    return [r.run_id for r in orphans]


def begin_run(env, instance, run) -> None:
    """The bookkeeping of a sensor-requested run, before its first step does any work (a no-op for
    runs the CLI drives itself, which keep their own books)."""
    tags = run.tags
    if not is_sensor_run(tags):
        return
    key = (run.run_id, os.getpid())
    if key in _begun:
        return
    build_id = tags.get(BUILD_TAG) or tags.get("dagster/partition")
    target = int(tags.get(ATTEMPT_TAG, "1"))
    store = env.store
    if run.job_name == "release_job":
        _begin_release(env, instance, build_id, target, run)
        _begun.add(key)
        return
    phase = RepairPhase(tags.get(PHASE_TAG, RepairPhase.build.value))
    after = FailureClass(tags[AFTER_TAG]) if tags.get(AFTER_TAG) else None
    build = store.get_build(build_id)
    if phase is RepairPhase.build:
        if build.status == BuildStatus.submitted:
            store.transition(build_id, BuildEvent.claim, expected={BuildStatus.submitted})
        if store.get_build(build_id).status == BuildStatus.running:
            # The canary's variant, decided where the CLI driver decides it: when the build starts.
            assign_build(store, build_id)
    elif build.status == BuildStatus.running and build.attempt == target - 1:
        settle_failed_attempt(env, build_id, target - 1, after)
        store.transition(build_id, BuildEvent.retry, failure_class=after, expected={BuildStatus.running})
    build = store.get_build(build_id)
    if build.status != BuildStatus.running or build.attempt != target:
        raise RunSuperseded(f"build {build_id} is {build.status.value} at attempt {build.attempt}: "
                            f"this run of attempt {target} has nothing to do")
    if after is FailureClass.worker_lost:
        cancel_orphaned_runs(instance, build_id, run.run_id)
        restore_workspace(env.workspace_path(build_id))
        remove_release_scratch(env.artifact_dir(build_id), build_id)
    if store.get_budget(build_id) is None:
        store.put_budget(run_budget_from_env(build_id))
    if not any(a.attempt == target for a in store.list_attempts(build_id)):
        store.start_attempt(build_id, phase, tags.get(REASON_TAG) or "the first attempt")
    take_lease(store, build_id, target, WorkerDriver.run, run_id=run.run_id)
    _begun.add(key)


def _begin_release(env, instance, build_id: str, attempt: int, run) -> None:
    """Claim the approved build; or, asked to after a lost worker, take over a release whose
    worker is gone (the artifact is written aside and renamed, so writing it again is safe)."""
    store = env.store
    if not store.transition(build_id, BuildEvent.start_release, expected={BuildStatus.approved}):
        build = store.get_build(build_id)
        takeover = (build.status == BuildStatus.releasing and build.attempt == attempt
                    and run.tags.get(AFTER_TAG) == FailureClass.worker_lost.value
                    and lease_alive(get_lease(store, build_id)) is not True)
        if not takeover:
            raise RunSuperseded(f"build {build_id} is {build.status.value}: another driver releases it")
        cancel_orphaned_runs(instance, build_id, run.run_id)
        remove_release_scratch(env.artifact_dir(build_id), build_id)
    settle_succeeded_attempt(env, build_id, store.get_build(build_id).attempt)
    take_lease(store, build_id, attempt, WorkerDriver.run, run_id=run.run_id)


def end_run(env, run, step_key: str) -> None:
    """After the step that ends a sensor-requested run succeeded: close the attempt when the build
    moved on, give the lease back and close the drive (chaos outcome, canary sample). A build still
    running after its evaluation waits for the healing sensor's judgement, which the next run
    settles."""
    if not is_sensor_run(run.tags) or is_superseded(run.tags):
        return  # a superseded run took no lease and closes nothing
    build_id = run.tags.get(BUILD_TAG) or run.tags.get("dagster/partition")
    build = env.store.get_build(build_id)
    if step_key == "artifact" or build.status not in (BuildStatus.running,):
        if build.status in (BuildStatus.approved, BuildStatus.awaiting_approval, BuildStatus.releasing,
                            BuildStatus.released):
            settle_succeeded_attempt(env, build_id, build.attempt)
        give_back_lease(env.store, build_id, pid=os.getpid())
        close_drive(env, build_id)
