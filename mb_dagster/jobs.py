"""The jobs: the build (up to the gate), the release (after it), the ladder's rungs and rollback."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from mb_dagster.healing.hooks import end_sensor_run
from mb_dagster.healing.rollback import rollback_job  # noqa: F401  (the ladder's last rung, an op job)
from mb_dagster.partitions import builds_partitions

# A run the sensors requested closes its own attempt and gives its lease back when it ends.
_HOOKS = {end_sensor_run}
# What follows a failed attempt or release is the ladder's call (healing and reconciler sensors,
# one attempt record and one budget charge each): Dagster's run retries would relaunch the same
# run beside the ladder's next one. Only the rollback job keeps them.
_NO_RUN_RETRIES = {"dagster/max_retries": "0"}

# In-process: on a small machine a multiprocess step re-imports everything (about 4x slower).
build_job = define_asset_job(
    "build_job",
    selection=AssetSelection.groups("build"),
    partitions_def=builds_partitions,
    executor_def=in_process_executor,
    hooks=_HOOKS,
    tags=_NO_RUN_RETRIES,
    description="spec -> plan -> diff -> eval_report for one build partition",
)

release_job = define_asset_job(
    "release_job",
    selection=AssetSelection.groups("release"),
    partitions_def=builds_partitions,
    executor_def=in_process_executor,
    hooks=_HOOKS,
    tags=_NO_RUN_RETRIES,
    description="the artifact of one approved build",
)

# The repair ladder's rungs: new materializations of the same partition, tagged mb/phase and
# mb/iteration, so the UI shows each attempt next to the first.
repair_job = define_asset_job(
    "repair_job",
    selection=AssetSelection.assets("diff", "eval_report"),
    partitions_def=builds_partitions,
    executor_def=in_process_executor,
    hooks=_HOOKS,
    tags=_NO_RUN_RETRIES,
    description="Patch: the Auto-Fixer's patch as the next diff, then the evaluation again",
)

replan_job = define_asset_job(
    "replan_job",
    selection=AssetSelection.assets("plan", "diff", "eval_report"),
    partitions_def=builds_partitions,
    executor_def=in_process_executor,
    hooks=_HOOKS,
    tags=_NO_RUN_RETRIES,
    description="Re-plan: a simpler plan with the failure as context, then diff and evaluation",
)
