"""A failed build run marks its build failed and rolls its workspace back."""


from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from mb_core.healing import record_build_failure
from mb_dagster.jobs import build_job, release_job
from mb_dagster.resources import MetaBuilderResource


@run_failure_sensor(monitored_jobs=[build_job, release_job], default_status=DefaultSensorStatus.RUNNING,
                    description="Marks the build of a failed run failed and rolls back its workspace.")
def build_failure_sensor(context: RunFailureSensorContext, mb: MetaBuilderResource) -> None:
    build_id = context.dagster_run.tags.get("dagster/partition")
    if not build_id or context.dagster_run.tags.get("mb/healing") == "1":
        return  # a healing run's own driver applies the repair ladder to it
    reason = context.failure_event.message or "the build run failed"
    for event in context.get_step_failure_events():
        if event.event_specific_data and event.event_specific_data.error:
            reason = event.event_specific_data.error.message.strip().splitlines()[-1]
            break
    record_build_failure(mb.environment(), build_id, reason)
