"""Approved builds are released: auto-approved ones and those a person approved.

The sensor only reads: the release run claims its build (approved -> releasing, compare and set)
in its first step, so when the CLI's own driver claimed it first the run stops without releasing.
"""


from dagster import DefaultSensorStatus, SensorEvaluationContext, SensorResult, sensor

from mb_core.models import BuildStatus
from mb_dagster.healing.requests import release_run_request
from mb_dagster.jobs import release_job
from mb_dagster.resources import MetaBuilderResource


@sensor(job=release_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING,
        description="Requests the release run of each approved build; the run claims it.")
def approvals_sensor(context: SensorEvaluationContext, mb: MetaBuilderResource) -> SensorResult:
    approved = mb.environment().store.list_builds(limit=50, status=BuildStatus.approved)
    if not approved:
        return SensorResult(skip_reason="no approved builds waiting")
    return SensorResult(run_requests=[release_run_request(b) for b in approved])
