"""Approved builds are released: auto-approved ones and those a person approved."""


from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, sensor

from mb_core.lifecycle import BuildEvent
from mb_core.models import BuildStatus
from mb_dagster.build.metadata import run_tags
from mb_dagster.jobs import release_job
from mb_dagster.resources import MetaBuilderResource


@sensor(job=release_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Claims approved builds and launches their release run.")
def approvals_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    store = mb.environment().store
    requests = []
    for build in store.list_builds(limit=50, status=BuildStatus.approved):
        # Compare-and-set: the CLI's own driver may claim the same build; only one releases it.
        if store.transition(build.id, BuildEvent.start_release, expected={BuildStatus.approved}):
            requests.append(RunRequest(partition_key=build.id, run_key=f"release:{build.id}",
                                       tags=run_tags(build)))
    if not requests:
        return SensorResult(skip_reason="no approved builds waiting")
    return SensorResult(run_requests=requests)
