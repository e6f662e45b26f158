"""Approved builds are released: auto-approved ones and those a person approved.

The sensor only reads: the release run claims its build (approved -> releasing, compare and set)
in its first step, so when the CLI's own driver claimed it first the run stops without releasing.
The gate approves inside the build run's eval_report step, before that run's blocking quality
checks ran: the release is asked for once the run has ended (mb_core.reconcile.release_may_start),
so the artifact is never written beside a build run still going.
A release run that ended while its build is still approved never claimed it (it failed to launch
or to start, a code server that timed out, a worker that never took it): the sensor asks for the
next launch under a new run key, up to MAX_RELEASE_LAUNCHES, and then says why it stopped.
"""

from collections import Counter
from datetime import UTC, datetime

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from mb_core.models import BuildStatus
from mb_core.reconcile import release_may_start
from mb_dagster.healing.attempts import ATTEMPT_JOBS, ATTEMPT_TAG, BUILD_TAG
from mb_dagster.healing.requests import MAX_RELEASE_LAUNCHES, release_relaunch, release_run_request
from mb_dagster.jobs import release_job
from mb_dagster.resources import MetaBuilderResource

_ENDED = [DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
_GOING = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


def _current_attempt_runs(instance, builds, statuses, jobs) -> Counter[str]:
    """Per build id, its runs of `jobs` in `statuses` that belong to its current attempt. One
    query for every build of the tick."""
    attempt_of = {b.id: str(b.attempt) for b in builds}
    only = next(iter(jobs)) if len(jobs) == 1 else None  # one job: the database filters it
    records = instance.get_run_records(filters=RunsFilter(
        job_name=only, statuses=statuses, tags={BUILD_TAG: list(attempt_of)}))
    return Counter(r.dagster_run.tags[BUILD_TAG] for r in records
                   if r.dagster_run.job_name in jobs
                   and r.dagster_run.tags.get(ATTEMPT_TAG) == attempt_of.get(r.dagster_run.tags.get(BUILD_TAG)))


def unclaimed_release_ends(instance, builds) -> Counter[str]:
    """Per build id, the release runs of its current attempt that ended; the build being approved
    still says none of them claimed it."""
    return _current_attempt_runs(instance, builds, _ENDED, {release_job.name})


def attempt_runs_going(instance, builds) -> Counter[str]:
    """Per build id, the runs of its current attempt still queued or going (the build run whose
    gate approved it, running its quality checks)."""
    return _current_attempt_runs(instance, builds, _GOING, ATTEMPT_JOBS)


@sensor(job=release_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Requests the release run of each approved build; the run claims it.")
def approvals_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    approved = mb.environment().store.list_builds(limit=50, status=BuildStatus.approved)
    if not approved:
        return SensorResult(skip_reason="no approved builds waiting")
    ended = unclaimed_release_ends(context.instance, approved)
    going = attempt_runs_going(context.instance, approved)
    now = datetime.now(UTC)
    requests, waiting = [], 0
    for build in approved:
        if not release_may_start(going[build.id], build.updated_at, now):
            waiting += 1  # asked for at a later tick, once its build run has ended
            continue
        launch = release_relaunch(ended[build.id])
        if launch is None:
            context.log.warning(f"build {build.id}: {MAX_RELEASE_LAUNCHES} release runs ended without "
                                "starting; launch release_job for its partition from the Dagster "
                                f"UI once runs can start again, or `mb cancel {build.id}`")
            continue
        requests.append(release_run_request(build, launch))
    if not requests:
        return SensorResult(skip_reason="every approved build waits for its build run to end"
                            if waiting else "every approved build's release runs failed to start")
    return SensorResult(run_requests=requests)
