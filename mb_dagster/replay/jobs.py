"""The replay job: the build assets answered from each build's recorded bundle.

A Dagster backfill of `replay_job` over `builds` partitions re-materializes spec, plan, diff and
eval_report of many past builds; the gate, status and artifact of each build are left as they were.
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

from mb_dagster.partitions import builds_partitions

PROVIDER_TAG = "mb/provider"
REPLAY_TAG = "mb/replay"

replay_job = define_asset_job(
    "replay_job",
    selection=AssetSelection.groups("build"),
    partitions_def=builds_partitions,
    executor_def=in_process_executor,
    tags={PROVIDER_TAG: "replay", REPLAY_TAG: "1"},
    description="spec -> plan -> diff -> eval_report of past builds, from their recorded exchanges",
)
