"""The canary report, materialized on a schedule (the sequential test stays valid however often)."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

canary_report_job = define_asset_job(
    "canary_report_job", selection=AssetSelection.assets("canary_report"), executor_def=in_process_executor,
    description="The canary report over every sample, and its regression check")

canary_report_schedule = ScheduleDefinition(
    name="canary_report_schedule", job=canary_report_job, cron_schedule="*/30 * * * *",
    default_status=DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
    description="Every 30 minutes: the canary report from the samples so far")
