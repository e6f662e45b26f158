"""The synchronous driver: what the CLI does when it runs a build itself, through Dagster, in process.

The same jobs the daemon's sensors launch, executed in this process against the same instance, so
every build the CLI runs shows in the Dagster UI with its lineage and metadata.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass

from mb_core.breakers import BREAKER_NAMES, breaker_state, record_outcome
from mb_core.canary.recording import assign_build
from mb_core.canary.variants import VARIANT_TAG, rung_limits
from mb_core.errors import InvalidState, MBError
from mb_core.healing import record_build_failure, rollback_workspace
from mb_core.ladder import LadderInput, RungLimits, next_phase
from mb_core.lifecycle import BuildEvent
from mb_core.models import (
    ApprovalDecision,
    AttemptOutcome,
    BreakerState,
    BuildArtifact,
    BuildRun,
    BuildStatus,
    FailureClass,
    RepairPhase,
)
from mb_core.pipeline import BuildEnvironment
from mb_core.reconcile import WorkerDriver
from mb_core.slo import budget_left
from mb_core.store.platform import kept_build_flags
from mb_core.store.workers import give_back_lease, take_lease
from mb_dagster.build.assets import HEALING_TAG, ITERATION_TAG, PHASE_TAG
from mb_dagster.healing.judge import AttemptResult, first_error, judge_events, strip_exception_name
from mb_dagster.healing.requests import PHASE_JOBS
from mb_dagster.healing.rollback import close_drive

log = logging.getLogger("mb.steps")


@dataclass
class DriverResult:
    build: BuildRun
    artifact: BuildArtifact | None
    run_ids: list[str]


def _defs():
    from mb_dagster.definitions import defs

    return defs


def load_definitions() -> None:
    """Import the definitions and resolve the jobs now (a few seconds), so the first step's time
    is the step's own."""
    _defs().resolve_all_job_defs()


def execute_job(instance, job_name: str, build_id: str, tags: dict[str, str] | None = None,
                build: BuildRun | None = None):
    """One run of a job for a build's partition; with `build`, the run carries its title and its
    scheduling tags, as the sensors' runs do."""
    from mb_dagster.build.metadata import run_tags

    job = _defs().resolve_job_def(job_name)
    result = job.execute_in_process(
        # The CLI prints its own one-line steps; Dagster's console log stays in the event log.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=instance,
        partition_key=build_id,
        raise_on_error=False,
        tags={"mb/build": build_id, **(run_tags(build, job_name) if build else {}), **(tags or {})},
    )
    report_check_time(instance, result, build_id)
    return result


def report_check_time(instance, result, build_id: str) -> None:
    """The quality gates run as steps of their own after eval_report (about 0.3-1 s each): say
    how long they took, so the CLI's step times add up to the build's."""
    from dagster import DagsterEventType

    started: dict[str, float] = {}
    seconds, count = 0.0, 0
    for record in instance.all_logs(result.run_id, of_type={
            DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}):
        key = record.step_key or ""
        if not key.startswith("eval_report_"):
            continue
        if record.dagster_event.event_type == DagsterEventType.STEP_START:
            started[key] = record.timestamp
        elif key in started:
            seconds += record.timestamp - started.pop(key)
            count += 1
    if count:
        log.info("succeeded", extra={"mb_build": build_id, "mb_step": "checks", "mb_seconds": seconds,
                                     "mb_detail": f"{count} quality gates"})


def ensure_partition(instance, build_id: str) -> None:
    if not instance.has_dynamic_partition("builds", build_id):
        instance.add_dynamic_partitions("builds", [build_id])


NO_REPAIRS = RungLimits(retry=0, patch=0, replan=0)


def judge_attempt(env: BuildEnvironment, build_id: str, attempt: int, result) -> AttemptResult:
    """What one run of an attempt came to, in the ladder's terms (the healing sensor reads the
    same from the event log)."""
    return judge_events(env, build_id, attempt, result.all_events, result.success)


def roll_back_build(env: BuildEnvironment, build_id: str, reason: str,
                    failure: FailureClass | None) -> bool:
    """The workspace back at the build's base, the build rolled back with its reason."""
    rollback_workspace(env.workspace_path(build_id))
    return env.store.transition(build_id, BuildEvent.roll_back, error=reason[:2000], failure_class=failure,
                                expected={BuildStatus.running, BuildStatus.failed, BuildStatus.submitted})


def _spend(env: BuildEnvironment, build_id: str) -> tuple[int, float]:
    total = env.store.usage_totals(build_id)["total"]
    return total["total_tokens"], total["cost_usd"]


def run_build(env: BuildEnvironment, instance, build_id: str,
              tags: dict[str, str] | None = None, limits: RungLimits | None = None) -> DriverResult:
    """The build, healed in process: each attempt is a run of the phase's job for the partition,
    tagged mb/phase and mb/iteration; a failed attempt goes to the repair ladder, which retries,
    patches, re-plans or rolls back. Then the gate, then (when cleared) the release job."""
    # A submitted build is claimed here (compare and set): this process drives it, not the daemon.
    if env.store.get_build(build_id).status == BuildStatus.submitted and not env.store.transition(
            build_id, BuildEvent.claim, expected={BuildStatus.submitted}):
        raise InvalidState(f"build {build_id} was claimed by another driver")
    # The canary: the build's variant decides what the ladder may do (baseline: no repair).
    arm = assign_build(env.store, build_id)
    try:
        return _heal(env, instance, build_id, {**(tags or {}), VARIANT_TAG: arm.variant.value},
                     limits or rung_limits(arm.variant))
    finally:
        # A killed process never gets here: its lease outlives it, and the reconciler sees that.
        give_back_lease(env.store, build_id, pid=os.getpid())
        close_drive(env, build_id)


def _heal(env: BuildEnvironment, instance, build_id: str, tags: dict[str, str] | None,
          limits: RungLimits | None) -> DriverResult:
    ensure_partition(instance, build_id)
    store = env.store
    flags = kept_build_flags(store, build_id)  # the flags kept at submission govern the build
    if store.get_budget(build_id) is None:
        store.put_budget(flags.run_budget(sla=store.get_build(build_id).sla))
    # With v4 off a build gets no healing: a failed first attempt rolls back.
    limits = limits or (RungLimits() if flags.v4_enabled else NO_REPAIRS)
    phase, why = RepairPhase.build, "the first attempt"
    # Rungs run so far, per failure class they repaired (the ladder bounds each rung per class).
    used: dict[FailureClass, Counter[RepairPhase]] = {}
    last_failure: FailureClass | None = None
    run_ids: list[str] = []
    while True:
        build = store.get_build(build_id)
        if build.status == BuildStatus.cancelled:
            raise InvalidState(f"build {build_id} was cancelled")
        store.start_attempt(build_id, phase, why)
        take_lease(store, build_id, build.attempt, WorkerDriver.cli)
        tokens_before, cost_before = _spend(env, build_id)
        result = execute_job(instance, PHASE_JOBS[phase], build_id, {
            # The iteration counts this drive's attempts (a rerun starts again at 1, so a replayed
            # build asks its agents exactly what it asked when it was recorded).
            **(tags or {}), PHASE_TAG: phase.value, ITERATION_TAG: str(1 + sum(sum(c.values()) for c in used.values())),
            HEALING_TAG: "1"}, build=build)
        run_ids.append(result.run_id)
        outcome = judge_attempt(env, build_id, build.attempt, result)
        tokens_after, cost_after = _spend(env, build_id)
        store.finish_attempt(build_id, build.attempt,
                             AttemptOutcome.failed if outcome.reason else AttemptOutcome.succeeded,
                             failure_class=outcome.failure, tokens=tokens_after - tokens_before,
                             cost_usd=max(0.0, cost_after - cost_before))
        if outcome.reason is None:
            if last_failure is not None:  # a repair of that class worked: its breaker hears so
                record_outcome(store, last_failure, True)
            break
        if store.get_build(build_id).status == BuildStatus.cancelled:
            rollback_workspace(env.workspace_path(build_id))  # whatever the run did after the cancel
            raise InvalidState(f"build {build_id} was cancelled")
        if outcome.failure is None:
            # No rung helps with it (a refused key, a bug): the build fails as it is.
            record_build_failure(env, build_id, outcome.reason)
            raise MBError(f"build {build_id} failed: {store.get_build(build_id).error or outcome.reason}")
        rungs = used.setdefault(outcome.failure, Counter())
        if outcome.rung_exhausted:
            rungs[phase] = max(rungs[phase], limits.of(phase))
        budget = store.get_budget(build_id)
        breaker, reopens = BreakerState.closed, None
        if outcome.failure.value in BREAKER_NAMES:
            breaker, reopens = breaker_state(store, outcome.failure)
            record_outcome(store, outcome.failure, False)
        decision = next_phase(LadderInput(
            failure=outcome.failure, reason=outcome.reason, attempts=dict(rungs), limits=limits,
            budget=budget_left(budget, tokens_after, cost_after), breaker=breaker,
            breaker_reopens_at=reopens))
        log.info("repair", extra={"mb_build": build_id, "mb_step": "repair",
                                  "mb_detail": f"{outcome.reason} -> {decision.reason}"})
        if decision.phase == "wait":
            break
        if decision.phase == RepairPhase.rollback:
            current = store.get_build(build_id)  # a step may have failed it with its own reason
            first = current.error if current.status == BuildStatus.failed and current.error else outcome.reason
            reason = f"{first}; {decision.reason}"
            roll_back_build(env, build_id, reason, outcome.failure)
            raise MBError(f"build {build_id} rolled back: {reason}")
        rungs[decision.phase] += 1
        store.transition(build_id, BuildEvent.retry, failure_class=outcome.failure,
                         expected={BuildStatus.running})
        phase, why, last_failure = decision.phase, decision.reason, outcome.failure
    artifact = None
    if store.transition(build_id, BuildEvent.start_release, expected={BuildStatus.approved}):
        artifact, release_run = release(env, instance, build_id)
        run_ids.append(release_run)
    return DriverResult(build=store.get_build(build_id), artifact=artifact, run_ids=run_ids)


def release(env: BuildEnvironment, instance, build_id: str) -> tuple[BuildArtifact, str]:
    """Runs the release job for a build this driver has claimed (status releasing)."""
    take_lease(env.store, build_id, env.store.get_build(build_id).attempt, WorkerDriver.cli)
    try:
        result = execute_job(instance, "release_job", build_id, build=env.store.get_build(build_id))
    finally:
        give_back_lease(env.store, build_id, pid=os.getpid())
    if not result.success:
        reason = strip_exception_name(first_error(result.all_events))
        record_build_failure(env, build_id, reason)
        raise MBError(f"release of build {build_id} failed: {reason}")
    artifact = env.assets.read("artifact", build_id, BuildArtifact)
    assert artifact is not None  # the release job just wrote it
    return artifact, result.run_id


def approve(env: BuildEnvironment, instance, build_id: str, by: str, reason: str,
            release_now: bool = True) -> tuple[BuildRun, BuildArtifact | None]:
    gate = env.store.decide(build_id, approve=True, by=by, reason=reason)
    if gate.decision != ApprovalDecision.approved:
        raise InvalidState(f"build {build_id} could not be approved ({gate.decision.value})")
    env.store.transition(build_id, BuildEvent.approve, expected={BuildStatus.awaiting_approval})
    artifact = None
    if release_now and env.store.transition(build_id, BuildEvent.start_release,
                                            expected={BuildStatus.approved}):
        try:
            artifact, _ = release(env, instance, build_id)
        finally:
            close_drive(env, build_id)
    return env.store.get_build(build_id), artifact


def reject(env: BuildEnvironment, build_id: str, by: str, reason: str) -> BuildRun:
    env.store.decide(build_id, approve=False, by=by, reason=reason)
    env.store.transition(build_id, BuildEvent.reject, error=f"rejected by {by}: {reason}".strip(),
                         expected={BuildStatus.awaiting_approval})
    return env.store.get_build(build_id)


def terminate_runs(instance, build_id: str) -> list[str]:
    """Stop the build's Dagster runs still queued or in progress: the queued ones are cancelled,
    the started ones terminated through the run launcher (an in-process run of another CLI is
    marked canceled; that CLI's driver sees the cancelled build and commits nothing more)."""
    from dagster import DagsterRunStatus, RunsFilter

    active = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
              DagsterRunStatus.STARTED]
    stopped = []
    for run in instance.get_runs(RunsFilter(tags={"mb/build": build_id}, statuses=active)):
        try:
            if run.status == DagsterRunStatus.QUEUED:
                instance.run_coordinator.cancel_run(run.run_id)
            elif not instance.run_launcher.terminate(run.run_id):
                instance.report_run_canceled(run, message="the build was cancelled (mb cancel)")
        except Exception:  # noqa: BLE001 - a launcher that cannot terminate: record the cancel
            instance.report_run_canceled(run, message="the build was cancelled (mb cancel)")
        stopped.append(run.run_id)
    return stopped


def cancel(env: BuildEnvironment, build_id: str, instance=None) -> tuple[BuildRun, list[str]]:
    """Cancel a build that has not finished: its Dagster runs are stopped, then its workspace
    goes back to where it started. Returns the build and the runs stopped."""
    from mb_core.healing import rollback_workspace
    from mb_core.lifecycle import ACTIVE, BuildEvent
    from mb_core.models import TERMINAL_STATUSES

    build = env.store.get_build(build_id)
    if build.status in TERMINAL_STATUSES:
        raise InvalidState(f"build {build_id} is already {build.status.value}")
    if not env.store.transition(build_id, BuildEvent.cancel, expected=ACTIVE):
        raise InvalidState(f"build {build_id} finished while being cancelled")
    if instance is None:
        from mb_dagster.instance import open_instance

        instance = open_instance(env.settings)
    stopped = terminate_runs(instance, build_id)
    rollback_workspace(env.workspace_path(build_id))
    give_back_lease(env.store, build_id)  # nobody works on a cancelled build
    return env.store.get_build(build_id), stopped


# ---------------------------------------------------------------------------------------------
# The sensors' ladder without a daemon: their run requests executed here, one after another
# ---------------------------------------------------------------------------------------------


def execute_request(instance, request):
    """Execute a sensor's run request in this process, as the daemon would launch it."""
    job = _defs().resolve_job_def(request.job_name)
    config = dict(request.run_config or {})
    config.setdefault("loggers", {"console": {"config": {"log_level": "CRITICAL"}}})
    return job.execute_in_process(run_config=config, instance=instance,
                                  partition_key=request.partition_key, raise_on_error=False,
                                  tags=dict(request.tags))


def follow_requests(env: BuildEnvironment, instance, request) -> list[str]:
    """Run `request`, then whatever the healing sensor would request after it, then the release
    of an approved build: the daemon's path for one build, executed here. Returns the run ids."""
    from mb_dagster.healing.requests import release_run_request
    from mb_dagster.healing.sensors import judge_finished_run

    run_ids, released = [], False
    while request is not None:
        released = released or request.job_name == "release_job"
        result = execute_request(instance, request)
        run_ids.append(result.run_id)
        build_id = request.tags.get("mb/build")
        request, _ = judge_finished_run(env, instance, instance.get_run_record_by_id(result.run_id))
        build = env.store.get_build(build_id)
        if request is None and not released and build.status == BuildStatus.approved:
            request = release_run_request(build)
    return run_ids


def reconcile(env: BuildEnvironment, instance) -> list[tuple[str, str, BuildRun]]:
    """The reconciler sensor's work done here: each build whose worker is gone is retried or
    rolled back by the ladder. Returns (build id, what was found, the build afterwards)."""
    from mb_dagster.healing.sensors import lost_builds, reconcile_request

    healed = []
    for build, reason in lost_builds(env, instance):
        request = reconcile_request(env, instance, build, reason)
        if request is not None:
            ensure_partition(instance, build.id)
            follow_requests(env, instance, request)
        healed.append((build.id, reason, env.store.get_build(build.id)))
    return healed
