"""New submissions become partitions and build runs (so a build submitted while the UI runs shows)."""


from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, sensor

from mb_core.store.platform import PlatformStore
from mb_dagster.jobs import build_job
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource


@sensor(job=build_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Claims submitted builds from the store and starts a build run for each.")
def submissions_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    # Each tenant starts at most META_V4_MAX_WORKERS builds at once (kept with each build).
    claimed = PlatformStore(mb.environment().store).claim_submitted(limit=10)
    if not claimed:
        return SensorResult(skip_reason="no new submissions")
    ids = [b.id for b in claimed]
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=b.id, run_key=f"build:{b.id}",
                       tags={"mb/build": b.id, "mb/provider": b.provider, "mb/tenant": b.tenant})
            for b in claimed
        ],
        dynamic_partitions_requests=[builds_partitions.build_add_request(ids)],
    )
