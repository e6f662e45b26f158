"""The ladder under the daemon: sensors that read the store and request runs, never write.

`healing_sensor` judges every finished run the sensors requested (a failed run, or a successful
one whose blocking checks or gate left its build running) and asks the ladder for the next run:
the same partition again, tagged `mb/phase` and `mb/iteration`, or the rollback job. Its cursor is
the update time of the last run it judged; run keys name the build and attempt, so a repeated
tick requests nothing twice, and a tick that fails leaves the cursor where it was. A rollback run
that failed for good (its worker died, no run retry follows) while its build is still in flight is
asked for again, and after ROLLBACK_LAUNCHES such failures replaced by a run that only ends the
build failed with the reason: no build stays `running` for want of a rollback.

`reconciler_sensor` finds builds in flight whose worker is gone (an `mb build` process killed, a
run worker dead while Dagster still shows it started, a run canceled unseen) and hands them to the
same ladder as worker_lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from mb_core.errors import UnknownBuild
from mb_core.lifecycle import ACTIVE
from mb_core.models import BuildStatus, FailureClass, RepairPhase
from mb_core.reconcile import IN_FLIGHT, ReconcileInput, RunState, lease_alive, reconcile_verdict
from mb_core.store.workers import get_lease
from mb_dagster.healing.attempts import (
    AFTER_TAG,
    ATTEMPT_JOBS,
    ATTEMPT_TAG,
    BUILD_TAG,
    PHASE_TAG,
    REASON_TAG,
    WILL_RETRY_TAG,
    is_sensor_run,
    is_superseded,
)
from mb_dagster.healing.judge import error_names, judge_events, run_events, strip_exception_name
from mb_dagster.healing.requests import (
    ladder_request,
    release_run_request,
    rollback_relaunch,
    rollback_request,
)
from mb_dagster.healing.rollback import rollback_job
from mb_dagster.jobs import build_job, release_job, repair_job, replan_job
from mb_dagster.resources import MetaBuilderResource

BATCH = 50


def _cursor(raw: str | None) -> float:
    try:
        return float(json.loads(raw)["after"]) if raw else 0.0
    except (ValueError, KeyError, TypeError):
        return 0.0


def judge_finished_run(env, instance, record):
    """The run request that follows one finished sensor run, and why (None: nothing to do)."""
    run = record.dagster_run
    build_id = run.tags.get(BUILD_TAG)
    try:
        build = env.store.get_build(build_id)
    except UnknownBuild:
        return None, "the build is gone"
    if str(build.attempt) != run.tags.get(ATTEMPT_TAG):
        return None, f"the build is at attempt {build.attempt} now"
    events = run_events(instance, run.run_id)
    if is_superseded(run.tags) or "RunSuperseded" in error_names(events):
        return None, "the run found its build moved on"
    if run.job_name == "release_job":
        if run.status != DagsterRunStatus.FAILURE or build.status != BuildStatus.releasing:
            return None, "released"
        reason = f"release failed: {strip_exception_name(_first(events))}"
        return rollback_request(build, None, reason, end="failed"), reason
    if run.job_name == "rollback_job":
        return _after_rollback_run(instance, build, run, events)
    if run.job_name not in ATTEMPT_JOBS or build.status not in (BuildStatus.running, BuildStatus.failed):
        return None, f"the build is {build.status.value}"
    if run.status == DagsterRunStatus.FAILURE:
        newest = instance.get_runs(RunsFilter(tags={BUILD_TAG: build_id}), limit=1)
        if newest and newest[0].run_id != run.run_id:
            # The reconciler saw the dead worker first and already asked for the next run (a
            # Celery pool process killed: its lease is gone before run monitoring fails the run).
            return None, f"run {newest[0].run_id[:8]} already follows it"
    outcome = judge_events(env, build.id, build.attempt, events, run.status == DagsterRunStatus.SUCCESS)
    if outcome.reason is None:
        return None, "the attempt succeeded"
    phase = RepairPhase(run.tags.get(PHASE_TAG, RepairPhase.build.value))
    reason = env.store.get_build(build.id).error if build.status == BuildStatus.failed and build.error \
        else outcome.reason
    return ladder_request(env, build, outcome.failure, reason,
                          exhausted=phase if outcome.rung_exhausted else None)


def _after_rollback_run(instance, build, run, events):
    """A rollback run that failed for good (no run retry follows) while its build is still in
    flight: the rollback again, then a run that only ends the build (mb_dagster.healing.requests)."""
    if run.status != DagsterRunStatus.FAILURE or build.status not in ACTIVE:
        return None, f"the build is {build.status.value}"
    if run.tags.get(WILL_RETRY_TAG) == "true":
        return None, "Dagster retries the rollback run"
    failed = instance.get_runs(RunsFilter(job_name="rollback_job", statuses=[DagsterRunStatus.FAILURE],
                                          tags={BUILD_TAG: build.id, ATTEMPT_TAG: str(build.attempt)}))
    for_good = sum(1 for r in failed if r.tags.get(WILL_RETRY_TAG) != "true")
    config = ((run.run_config or {}).get("ops", {}).get("roll_back_build", {}).get("config") or {})
    return rollback_relaunch(build, config, for_good, _first(events))


def _first(events) -> str:
    from mb_dagster.healing.judge import first_error

    return first_error(events)


@sensor(jobs=[build_job, repair_job, replan_job, rollback_job], minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
        description="Applies the repair ladder to each finished build run: the next attempt of the "
                    "same partition (mb/phase, mb/iteration) or the rollback job.")
def healing_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    env = mb.environment()
    after = _cursor(context.cursor)
    records = context.instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE],
                   updated_after=datetime.fromtimestamp(after, UTC) if after else None),
        limit=BATCH, order_by="update_timestamp", ascending=True)
    requests, notes = [], []
    newest = after
    for record in records:
        newest = max(newest, record.update_timestamp.timestamp())
        if not is_sensor_run(record.dagster_run.tags):
            continue  # the CLI's driver applies the ladder to its own runs
        request, why = judge_finished_run(env, context.instance, record)
        if request is not None:
            requests.append(request)
            notes.append(f"{record.dagster_run.tags.get(BUILD_TAG)}: {why}")
    cursor = json.dumps({"after": newest})
    if not requests:
        return SensorResult(skip_reason="no finished build run needs a repair", cursor=cursor)
    context.log.info("; ".join(notes))
    return SensorResult(run_requests=requests, cursor=cursor)


_RUN_STATES = {
    DagsterRunStatus.QUEUED: RunState.waiting, DagsterRunStatus.NOT_STARTED: RunState.waiting,
    DagsterRunStatus.STARTING: RunState.waiting, DagsterRunStatus.STARTED: RunState.started,
    DagsterRunStatus.SUCCESS: RunState.succeeded, DagsterRunStatus.FAILURE: RunState.failed,
    DagsterRunStatus.CANCELING: RunState.canceled, DagsterRunStatus.CANCELED: RunState.canceled,
}


def reconcile_input(env, instance, build, now: datetime | None = None) -> ReconcileInput:
    """What the reconciler knows of one in-flight build (reads only)."""
    lease = get_lease(env.store, build.id)
    latest = instance.get_runs(RunsFilter(tags={BUILD_TAG: build.id}), limit=1) if instance else []
    run = latest[0] if latest else None
    attempt_tag = run.tags.get(ATTEMPT_TAG) if run else None
    return ReconcileInput(
        status=build.status, attempt=build.attempt, updated_at=build.updated_at,
        now=now or datetime.now(UTC), lease=lease, lease_alive=lease_alive(lease),
        run=_RUN_STATES.get(run.status, RunState.none) if run else RunState.none,
        run_id=run.run_id if run else None,
        run_attempt=int(attempt_tag) if attempt_tag and attempt_tag.isdigit() else None,
        run_by_sensor=bool(run and is_sensor_run(run.tags)))


def lost_builds(env, instance, now: datetime | None = None) -> list[tuple[object, str]]:
    """In-flight builds whose worker is gone, with the reconciler's reason."""
    lost = []
    for build in env.store.list_builds(limit=500, status=sorted(IN_FLIGHT, key=lambda s: s.value)):
        verdict = reconcile_verdict(reconcile_input(env, instance, build, now))
        if verdict.kind == "lost":
            lost.append((build, verdict.reason))
    return lost


RELEASE_TAKEOVERS = 2  # a release whose worker keeps dying is rolled back after this many


def reconcile_request(env, instance, build, reason: str):
    """The ladder's answer to a lost worker: the next attempt; for a release, the release run
    again (it takes over), and after RELEASE_TAKEOVERS of those the rollback job."""
    if build.status == BuildStatus.releasing:
        runs = instance.get_runs(RunsFilter(job_name="release_job", tags={BUILD_TAG: build.id})) \
            if instance is not None else []
        takeovers = sum(1 for r in runs if r.tags.get(AFTER_TAG) == FailureClass.worker_lost.value)
        if takeovers >= RELEASE_TAKEOVERS:
            return rollback_request(build, FailureClass.worker_lost,
                                    f"{reason}; the release lost its worker {takeovers + 1} times: rolled back")
        request = release_run_request(build)
        return request.with_replaced_attrs(
            run_key=f"release:{build.id}:{build.attempt}:{takeovers + 1}",
            tags={**request.tags, AFTER_TAG: FailureClass.worker_lost.value, REASON_TAG: reason[:200]})
    request, _ = ladder_request(env, build, FailureClass.worker_lost, reason)
    return request


@sensor(jobs=[build_job, release_job, rollback_job], minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description="Finds builds in flight whose worker is gone (a killed `mb build`, a dead run "
                    "worker, a run canceled unseen) and hands them to the ladder as worker_lost.")
def reconciler_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    env = mb.environment()
    requests = []
    for build, reason in lost_builds(env, context.instance):
        request = reconcile_request(env, context.instance, build, reason)
        if request is not None:
            context.log.info(f"{build.id}: {reason}")
            requests.append(request)
    if not requests:
        return SensorResult(skip_reason="every build in flight has a live worker")
    return SensorResult(run_requests=requests)

