"""The Dagster face on real instances: definitions load, assets materialize, sensors act."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import (
    build_sensor_context,
    instance_for_test,
    materialize,
)

from mb_core.models import BuildRun, BuildStatus, EvalReport, ScaffoldPlan
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_dagster.build.assets import diff, eval_report, plan, spec
from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.definitions import defs
from mb_dagster.release.assets import artifact
from mb_dagster.release.sensors import approvals_sensor
from mb_dagster.resources import MetaBuilderResource, PydanticJsonIOManager

REPO = Path(__file__).resolve().parents[2]


def test_definitions_validate_with_the_dagster_cli(mb_home):
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(REPO / "workspace.yaml")],
        capture_output=True, cwd=REPO, env={**os.environ}, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def test_assets_and_jobs_are_the_designed_graph():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"spec", "plan", "diff", "eval_report", "artifact", "canary_report"}
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"build_job", "release_job"}


def test_every_job_runs_in_process():
    # A Celery run worker executes each run in its daemonic pool process, which cannot start the
    # multiprocess executor's step processes: a job on that executor fails on every worker.
    jobs = defs.resolve_all_job_defs()
    assert {j.name for j in jobs} >= {"rollback_job", "__ASSET_JOB"}
    assert {j.name: j.executor_def.name for j in jobs} == {j.name: "in_process" for j in jobs}


def _env() -> BuildEnvironment:
    return BuildEnvironment.open(Settings.from_env())


def test_materialize_a_build_partition_with_metadata(mb_home):
    env = _env()
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a CRM system with contacts and deals",
                                    status=BuildStatus.running))
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        resources = {"mb": MetaBuilderResource(), "mb_io": PydanticJsonIOManager()}
        result = materialize([spec, plan, diff, eval_report], partition_key=build_id,
                             instance=instance, resources=resources)
        assert result.success
        plan_md = result.asset_materializations_for_node("plan")[0].metadata
        assert plan_md["risk_score"].value == env.store.get_build(build_id).risk_score
        eval_md = result.asset_materializations_for_node("eval_report")[0].metadata
        assert eval_md["tests_failed"].value == 0 and eval_md["tests_passed"].value > 10
        assert "```diff" in result.asset_materializations_for_node("diff")[0].metadata[
            "diff_preview"].value
        report = env.assets.read("eval_report", build_id, EvalReport)
        assert report is not None and report.passed
        assert env.assets.read("plan", build_id, ScaffoldPlan).entities

        # Below the threshold the gate clears it; the approvals sensor asks for its release under
        # one run key, tick after tick, and claims nothing itself (the run does).
        assert env.store.get_build(build_id).status == BuildStatus.approved
        context = build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()})
        first = approvals_sensor(context)
        assert [r.partition_key for r in first.run_requests] == [build_id]
        assert env.store.get_build(build_id).status == BuildStatus.approved
        second = approvals_sensor(build_sensor_context(instance=instance,
                                                       resources={"mb": MetaBuilderResource()}))
        assert [r.run_key for r in second.run_requests] == [r.run_key for r in first.run_requests]

        released = materialize([spec, plan, diff, eval_report, artifact], selection=[artifact],
                               partition_key=build_id, instance=instance, resources=resources)
        assert released.success
        assert env.store.get_build(build_id).status == BuildStatus.released


def test_submissions_sensor_adds_partitions_and_requests_runs_once(mb_home):
    env = _env()
    ids = [new_build_id() for _ in range(2)]
    for build_id in ids:
        env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks"))
    with instance_for_test() as instance:
        context = build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()})
        result = submissions_sensor(context)
        assert sorted(r.partition_key for r in result.run_requests) == sorted(ids)
        assert sorted(result.dynamic_partitions_requests[0].partition_keys) == sorted(ids)
        # The tick claims nothing: each build's run claims it when it starts.
        assert all(env.store.get_build(i).status == BuildStatus.submitted for i in ids)
        instance.add_dynamic_partitions("builds", ids)
        again = submissions_sensor(build_sensor_context(instance=instance,
                                                        resources={"mb": MetaBuilderResource()}))
        # The same run keys again (Dagster launches each once); the partitions exist now.
        assert sorted(r.run_key for r in again.run_requests) == sorted(r.run_key for r in result.run_requests)
        assert not again.dynamic_partitions_requests


def test_the_ladder_alone_follows_a_failed_attempt_or_release():
    # Dagster's run retries would relaunch a failed attempt beside the healing sensor's next run.
    tags = {j.name: j.tags.get("dagster/max_retries") for j in defs.resolve_all_job_defs()}
    assert {n: tags[n] for n in ("build_job", "release_job", "repair_job", "replan_job")} == dict.fromkeys(
        ("build_job", "release_job", "repair_job", "replan_job"), "0")
    assert tags["rollback_job"] is None  # the last rung keeps the instance's run retries
