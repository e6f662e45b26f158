"""Quality gates as blocking partitioned asset checks, on a real Dagster instance and sandbox."""

from __future__ import annotations

import re
import subprocess

from dagster import AssetCheckSeverity, instance_for_test, materialize

from mb_core.models import BuildRun, BuildStatus, EvalReport
from mb_core.pipeline import BuildEnvironment
from mb_core.quality import GATES
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_dagster.build.assets import diff, eval_report, plan, spec
from mb_dagster.build.checks import eval_report_checks
from mb_dagster.definitions import defs
from mb_dagster.golden.checks import golden_expectations
from mb_dagster.healing.judge import failed_blocking_checks
from mb_dagster.release.assets import artifact
from mb_dagster.resources import MetaBuilderResource, PydanticJsonIOManager

CRM = "Build a CRM system with contacts and deals"
RESOURCES = {"mb": MetaBuilderResource(), "mb_io": PydanticJsonIOManager()}
ALL = [spec, plan, diff, eval_report, artifact, *eval_report_checks, golden_expectations]


def _new_build(env: BuildEnvironment, text: str = CRM) -> str:
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=text, status=BuildStatus.running))
    return build_id


def _evaluations(result) -> dict:
    return {ev.check_name: ev for ev in result.get_asset_check_evaluations()}


def test_every_gate_is_a_blocking_partitioned_check_in_the_definitions():
    specs = {key.name: spec for key, spec in
             ((s.key, s) for c in eval_report_checks for s in c.check_specs)}
    assert set(GATES) <= set(specs)
    assert all(specs[name].blocking for name in GATES)
    assert not specs["confidence"].blocking and not specs["results_table_valid"].blocking
    graph = defs.resolve_asset_graph()
    check_names = {k.name for k in graph.asset_check_keys}
    assert set(GATES) | {"confidence", "results_table_valid", "golden_expectations"} <= check_names
    assert specs["requirements_covered"].blocking and "requirements_covered" in check_names


def test_a_sound_build_passes_every_gate_and_carries_its_evidence(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _new_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        result = materialize(ALL, selection=[spec, plan, diff, eval_report], partition_key=build_id,
                             instance=instance, resources=RESOURCES, raise_on_error=False)
        evaluations = _evaluations(result)
        failed = {n: e.description for n, e in evaluations.items() if not e.passed}
        assert failed == {}, failed
        assert result.success
        tenant = evaluations["tenant_isolation"]
        assert tenant.metadata["evidence"].value["tests"]
        assert tenant.partition == build_id
        assert evaluations["golden_expectations"].description == "not a golden build"
        report = env.assets.read("eval_report", build_id, EvalReport)
        assert report.confidence is not None and report.confidence.level.value in ("high", "medium")
        assert evaluations["confidence"].metadata["confidence_score"].value == report.confidence.score
        # The probes ran from the builder's harness, apart from the project: none reaches it.
        assert report.probes and not list(env.workspace_path(build_id).rglob("test_openapi.py"))


def test_removing_tenant_scoping_fails_the_tenant_gate_and_blocks_the_release(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _new_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        first = materialize(ALL, selection=[spec, plan, diff], partition_key=build_id,
                            instance=instance, resources=RESOURCES)
        assert first.success
        # The generator "forgets" tenant scoping in one router: its queries see every tenant's rows.
        ws = env.workspace_path(build_id)
        router = ws / "app" / "routers" / "contact.py"
        source = router.read_text()
        broken, count = re.subn(r"Contact\.tenant_id == principal\.tenant", "sa.true()", source)
        assert count >= 2
        router.write_text(broken)
        subprocess.run(["git", "-C", str(ws), "commit", "-qam", "drop tenant scoping"], check=True,
                       capture_output=True)

        result = materialize(ALL, selection=[eval_report, artifact], partition_key=build_id,
                             instance=instance, resources=RESOURCES, raise_on_error=False)
        assert not result.success
        evaluations = _evaluations(result)
        tenant = evaluations["tenant_isolation"]
        assert not tenant.passed and tenant.severity == AssetCheckSeverity.ERROR
        assert "tenant isolation broken: tests/test_entity_contact.py::test_other_tenant_rows_are_invisible" \
            in tenant.description
        assert evaluations["no_secrets"].passed and evaluations["bandit_clean"].passed
        assert not result.asset_materializations_for_node("artifact")  # blocked downstream
        blocked = failed_blocking_checks(result.all_events)
        assert any(b.startswith("tenant_isolation failed: tenant isolation broken") for b in blocked)
        build = env.store.get_build(build_id)
        assert build.status == BuildStatus.failed
        assert "quality gate" in build.error or "tests failed" in build.error
        report = env.assets.read("eval_report", build_id, EvalReport)
        assert not report.passed and "gate_failed:tenant_isolation" in report.risk_signals
        assert report.confidence.level.value == "low"


STUDIOS = ("Keep studios and bookings. A studio has many bookings. A studio must never be "
           "double-booked.")


def test_an_unmet_requirement_holds_the_build_for_approval_with_the_list(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    # A chart is a user interface: the offline generator builds an API, so it stays unmet.
    build_id = _new_build(env, "Keep donors and donations. Show a chart of donations per month.")
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        result = materialize(ALL, selection=[spec, plan, diff, eval_report], partition_key=build_id,
                             instance=instance, resources=RESOURCES, raise_on_error=False)
        covered = _evaluations(result)["requirements_covered"]
        assert not covered.passed and covered.severity == AssetCheckSeverity.WARN
        assert "report" in covered.description and "held at the approval gate" in covered.description
        assert "--provider openai" in str(covered.metadata), covered.metadata
        assert result.success and not failed_blocking_checks(result.all_events)
        assert env.store.get_build(build_id).status == BuildStatus.awaiting_approval
        gate = env.store.get_gate(build_id)
        assert "not met" in gate.reason and "chart of donations per month" in gate.reason
        report = env.assets.read("eval_report", build_id, EvalReport)
        assert report.failure_class.value == "requirement_unmet"
        assert report.confidence.level.value != "high"
        assert any(s.startswith("requirement_unmet:") for s in report.risk_signals)


def test_removing_the_overlap_rule_fails_its_test_and_the_requirement(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _new_build(env, STUDIOS)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        first = materialize(ALL, selection=[spec, plan, diff], partition_key=build_id,
                            instance=instance, resources=RESOURCES)
        assert first.success
        # The generator "forgets" the no-overlap rule: a clash is never found.
        ws = env.workspace_path(build_id)
        router = ws / "app" / "routers" / "booking.py"
        broken, count = re.subn(r"if found is not None:", "if False:", router.read_text())
        assert count == 1
        router.write_text(broken)
        subprocess.run(["git", "-C", str(ws), "commit", "-qam", "drop the overlap rule"], check=True,
                       capture_output=True)
        result = materialize(ALL, selection=[eval_report], partition_key=build_id,
                             instance=instance, resources=RESOURCES, raise_on_error=False)
        evaluations = _evaluations(result)
        assert "test_overlap_is_409_and_adjacent_is_fine" in evaluations["tests_pass"].description
        covered = evaluations["requirements_covered"]
        assert not covered.passed and covered.severity == AssetCheckSeverity.ERROR
        assert "rule:no_overlap" in covered.description or any(
            "rule:no_overlap" in line for line in covered.metadata["evidence"].value["unmet"])
        report = env.assets.read("eval_report", build_id, EvalReport)
        row = next(r for r in report.requirements if r.kind == "rule:no_overlap")
        assert row.status.value == "failed" and "test_overlap_is_409" in row.reason
