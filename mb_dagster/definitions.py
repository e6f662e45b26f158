"""Everything Dagster loads: one Definitions merged from the domain folders."""

from __future__ import annotations

import os

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

from dagster import Definitions, in_process_executor, load_assets_from_modules

from mb_dagster.build import assets as build_assets
from mb_dagster.build.checks import eval_report_checks
from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.canary import assets as canary_assets
from mb_dagster.canary.checks import no_significant_regression
from mb_dagster.canary.schedules import canary_report_job, canary_report_schedule
from mb_dagster.golden.checks import golden_expectations
from mb_dagster.healing.sensors import healing_sensor, reconciler_sensor
from mb_dagster.jobs import build_job, release_job, repair_job, replan_job, rollback_job
from mb_dagster.release import assets as release_assets
from mb_dagster.release.sensors import approvals_sensor
from mb_dagster.replay.jobs import replay_job
from mb_dagster.resources import MetaBuilderResource, PydanticJsonIOManager
from mb_dagster.review.jobs import approve_build_job, reject_build_job

defs = Definitions(
    assets=load_assets_from_modules([build_assets, release_assets, canary_assets]),
    asset_checks=[*eval_report_checks, golden_expectations, no_significant_regression],
    jobs=[build_job, release_job, replay_job, repair_job, replan_job, rollback_job, canary_report_job,
          approve_build_job, reject_build_job],
    schedules=[canary_report_schedule],
    sensors=[submissions_sensor, approvals_sensor, healing_sensor, reconciler_sensor],
    resources={"mb": MetaBuilderResource(), "mb_io": PydanticJsonIOManager()},
    # Also for runs launched from the UI's asset graph (the implicit asset job): a Celery run
    # worker's pool process is daemonic and cannot start the multiprocess executor's children.
    executor=in_process_executor,
)
