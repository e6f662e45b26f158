"""The end of a sensor-requested run: after its last asset succeeded, the attempt is closed when
the build moved on and the worker lease is given back (mb_dagster.healing.attempts.end_run)."""

# No `from __future__ import annotations`: Dagster reads the op's annotations as types.

from dagster import HookContext, success_hook

from mb_dagster.healing.attempts import end_run

ENDING_STEPS = frozenset({"eval_report", "artifact"})


@success_hook(required_resource_keys={"mb"})
def end_sensor_run(context: HookContext) -> None:
    if context.step_key not in ENDING_STEPS:
        return
    run = context.instance.get_run_by_id(context.run_id)
    if run is not None:
        end_run(context.resources.mb.environment(), run, context.step_key)
