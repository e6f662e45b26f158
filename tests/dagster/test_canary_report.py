"""The canary on real Dagster instances: the report asset and its check, the schedule, and a real
build that records its variant, tags its runs and writes its sample."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from dagster import AssetKey, DagsterInstance, build_schedule_context, instance_for_test, materialize

from mb_core.canary.models import CanarySample
from mb_core.canary.variants import VARIANT_TAG, Variant, assign_variant
from mb_core.models import BuildRun, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_core.store.canary import CanaryStore
from mb_core.store.platform import PlatformStore
from mb_dagster.canary.assets import canary_report
from mb_dagster.canary.checks import no_significant_regression
from mb_dagster.canary.schedules import canary_report_schedule
from mb_dagster.definitions import defs
from mb_dagster.resources import MetaBuilderResource

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _env() -> BuildEnvironment:
    return BuildEnvironment.open(Settings.from_env())


def _put_samples(env: BuildEnvironment, n: int, v4_success: float, baseline_success: float, seed: int,
                 tenant: str = "acme") -> None:
    rng = np.random.default_rng(seed)
    canary = CanaryStore(env.store)
    for k in range(n):
        build_id = f"s{seed}-{k:04d}"
        variant = assign_variant(build_id, 50)
        ok = bool(rng.random() < (v4_success if variant is Variant.v4 else baseline_success))
        canary.put_sample(CanarySample(
            build_id=build_id, tenant=tenant, variant=variant, randomized=True, canary_percent=50, success=ok,
            status="released" if ok else "rolled_back", duration_s=float(rng.lognormal(3, 0.2)), cost_usd=0.0,
            tokens=int(rng.integers(900, 1100)), iterations=1, finished_at=T0 + timedelta(minutes=k)))


def _materialize(instance):
    return materialize([canary_report, no_significant_regression], instance=instance,
                       resources={"mb": MetaBuilderResource()})


def test_a_significant_regression_fails_the_check_and_says_roll_back(mb_home):
    env = _env()
    _put_samples(env, 120, v4_success=0.3, baseline_success=0.9, seed=1)
    with instance_for_test() as instance:
        result = _materialize(instance)
        assert result.success  # the check is not blocking: the report is still there to read
        metadata = result.asset_materializations_for_node("canary_report")[0].metadata
        assert metadata["recommendation"].value == "roll_back"
        assert metadata["regression"].value is True
        rows = {r.data["variant"]: r.data for r in metadata["variants"].value.records}
        assert rows["v4"]["success_rate"] < rows["baseline"]["success_rate"]
        assert "**Recommendation: roll back**" in metadata["summary"].value
        assert "success rate" in metadata["chart"].value
        [check] = result.get_asset_check_evaluations()
        assert check.check_name == "no_significant_regression" and not check.passed
        assert "success rate is lower on v4" in check.description
    kept = CanaryStore(env.store).latest_report("")
    assert kept is not None and kept.recommendation == "roll_back" and kept.samples == 120
    assert CanaryStore(env.store).latest_report("acme").recommendation == "roll_back"


def test_no_effect_passes_the_check_and_keeps_the_canary_running(mb_home):
    env = _env()
    _put_samples(env, 120, v4_success=0.8, baseline_success=0.8, seed=4)
    with instance_for_test() as instance:
        result = _materialize(instance)
        metadata = result.asset_materializations_for_node("canary_report")[0].metadata
        assert metadata["recommendation"].value == "continue"
        [check] = result.get_asset_check_evaluations()
        assert check.passed


def test_the_schedule_requests_the_report_job_which_materializes_it(mb_home):
    env = _env()
    _put_samples(env, 40, v4_success=1.0, baseline_success=0.2, seed=2)
    with instance_for_test() as instance:
        requests = canary_report_schedule.evaluate_tick(build_schedule_context(instance=instance)).run_requests
        assert len(requests) == 1 and canary_report_schedule.job_name == "canary_report_job"
        result = defs.resolve_job_def("canary_report_job").execute_in_process(instance=instance)
        assert result.success
        assert [e.check_name for e in result.get_asset_check_evaluations()] == ["no_significant_regression"]
        materialization = result.asset_materializations_for_node("canary_report")[0]
        assert materialization.metadata["recommendation"].value == "promote"


def test_a_baseline_build_runs_once_tags_its_runs_and_writes_its_sample(mb_home):
    from mb_dagster.driver import run_build

    env = _env()
    PlatformStore(env.store).set_flag("FEATURE_META_V4_CANARY_PERCENT", 0, "platform")
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a CRM system with contacts and deals",
                                    status=BuildStatus.running))
    instance = DagsterInstance.get()
    try:
        result = run_build(env, instance, build_id)
        runs = [instance.get_run_by_id(r) for r in result.run_ids]
        assert {run.tags.get(VARIANT_TAG) for run in runs if run.job_name == "build_job"} == {"baseline"}
        record = instance.get_latest_materialization_event(
            AssetKey("eval_report")).asset_materialization
        assert record.metadata["variant"].value == "baseline (canary 0 %)"
    finally:
        instance.dispose()
    [sample] = CanaryStore(env.store).list_samples()
    assert (sample.build_id, sample.variant, sample.randomized) == (build_id, Variant.baseline, False)
    assert sample.success == (result.build.status == BuildStatus.released)
    assert sample.iterations == len(env.store.list_attempts(build_id)) == 1
    assert sample.tokens > 0 and sample.duration_s > 0
    from click.testing import CliRunner

    from mb_dagster.cli import main

    shown = CliRunner().invoke(main, ["status", build_id])
    assert shown.exit_code == 0 and "variant: baseline, canary 0 %" in shown.output
