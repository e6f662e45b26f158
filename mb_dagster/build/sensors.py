"""New submissions become partitions and build runs (so a build submitted while the UI runs shows).

The sensor only reads: the run it requests claims its build (submitted -> running, compare and
set) in its first step. A build stays submitted until its run starts, so every tick until then
asks again under the same run key, which Dagster launches once.
"""


from dagster import DefaultSensorStatus, SensorEvaluationContext, SensorResult, sensor

from mb_core.models import BuildStatus
from mb_core.store.platform import PlatformStore
from mb_dagster.healing.requests import first_run_request
from mb_dagster.jobs import build_job
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource

BATCH = 10


@sensor(job=build_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Requests a build run for each submitted build; the run claims it.")
def submissions_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    submitted = mb.environment().store.list_builds(limit=200, status=BuildStatus.submitted)
    submitted = sorted(submitted, key=lambda b: (b.created_at, b.id))
    # Each tenant starts at most META_V4_MAX_WORKERS builds at once (kept with each build).
    submitted = PlatformStore(mb.environment().store).admitted(submitted)[:BATCH]  # oldest first
    if not submitted:
        return SensorResult(skip_reason="no new submissions")
    new = [b.id for b in submitted if not context.instance.has_dynamic_partition(builds_partitions.name, b.id)]
    return SensorResult(
        run_requests=[first_run_request(b) for b in submitted],
        dynamic_partitions_requests=[builds_partitions.build_add_request(new)] if new else [],
    )
