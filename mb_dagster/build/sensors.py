"""New submissions become partitions and build runs (so a build submitted while the UI runs shows)."""


from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, sensor

from mb_dagster.build.metadata import run_tags
from mb_dagster.jobs import build_job
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource


@sensor(job=build_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Claims submitted builds from the store and starts a build run for each.")
def submissions_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    claimed = mb.environment().store.claim_submitted(limit=10)
    if not claimed:
        return SensorResult(skip_reason="no new submissions")
    ids = [b.id for b in claimed]
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=b.id, run_key=f"build:{b.id}",
                       tags={**run_tags(b), "mb/provider": b.provider, "mb/tenant": b.tenant})
            for b in claimed
        ],
        dynamic_partitions_requests=[builds_partitions.build_add_request(ids)],
    )
