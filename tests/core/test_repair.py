"""The Patch and Re-plan rungs over real generated trees: a real git workspace, the real sandbox,
the offline Auto-Fixer, and faults a careless edit would make."""

from __future__ import annotations

import pytest

from mb_core.agents.base import AgentContext
from mb_core.chaos import CODE_FAULTS, corrupt_generated
from mb_core.codegen import render_application, render_devops
from mb_core.diff_safety import diff_stats
from mb_core.errors import DiffRejected, InvalidState
from mb_core.failures import NothingToRepair
from mb_core.healing import mark_base_commit, read_base_commit
from mb_core.models import (
    BuildRun,
    BuildStatus,
    EvalReport,
    FeatureKind,
    GeneratedFile,
    GeneratedFiles,
    TestCaseResult,
    TestOutcome,
)
from mb_core.pipeline import BuildEnvironment
from mb_core.providers.offline import OfflineProvider
from mb_core.repair import implicated_files, patch_violations, patched_diff, simplified_plan
from mb_core.sandbox import run_tests
from mb_core.settings import Settings
from mb_core.workspace import Workspace
from tests.core.codegen.conftest import crm_plan


def _report(result) -> EvalReport:
    failed = [t for t in result.tests if t.outcome in (TestOutcome.failed, TestOutcome.error)]
    return EvalReport(build_id="b1", passed=not failed and result.exit_code == 0, tests=result.tests,
                      tests_failed=len(failed), output_tail=result.output[-4000:])


@pytest.fixture
def env(tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}",
                        dagster_home=tmp_path / "dagster")
    return BuildEnvironment.open(settings)


@pytest.mark.parametrize("fault", CODE_FAULTS)
def test_the_offline_auto_fixer_repairs_a_faulty_generated_tree(env, tmp_path, fault):
    plan = crm_plan()
    clean = GeneratedFiles(files=render_application(plan) + render_devops(plan))
    corrupted, what = corrupt_generated(clean, fault)
    assert what.startswith(f"{fault} in app/routers/"), what
    build = env.store.create_build(BuildRun(id="b1", spec_text="contacts and deals",
                                            status=BuildStatus.running))
    ws = Workspace.create(env.workspace_path(build.id))
    mark_base_commit(ws.path, ws.head())
    faulty_head = ws.apply_diff(ws.render_diff(corrupted), "generated, with a fault")

    broken = run_tests(ws.export(tmp_path / "broken"), timeout_s=180)
    report = _report(broken)
    assert not report.passed  # the fault is real: the generated tests catch it

    diff, notes = patched_diff(env, build, plan, report, AgentContext(provider=OfflineProvider()), 2)
    assert diff.iteration == 2 and notes == ["restored 1 file(s) to the generator's output"]
    assert set(ws.files()) >= {f.path for f in clean.files}
    assert all(ws.files()[f.path] == f.content for f in clean.files)
    # The repair commit touches the faulty module only; the diff value is the whole change from base.
    assert diff_stats(ws.diff_between(faulty_head, diff.head_commit))[0] == [what.split(" in ")[1]]
    assert diff.base_commit == read_base_commit(ws.path)
    fixed = run_tests(ws.export(tmp_path / "fixed"), timeout_s=180)
    assert _report(fixed).passed, fixed.output[-2000:]


def _failing(*nodeids: str, output: str = "") -> EvalReport:
    return EvalReport(build_id="b1", passed=False, output_tail=output, tests=[
        TestCaseResult(nodeid=n, outcome=TestOutcome.failed) for n in nodeids])


def test_implicated_files_follow_the_failing_tests_and_the_traceback():
    plan = crm_plan()
    tree = {f.path: f.content for f in render_application(plan)}
    report = _failing("tests/test_entity_deal.py::test_create_deal",
                      output='File "/ws/app/listing.py", line 3\nSyntaxError')
    assert implicated_files(report, tree, plan) == [
        "app/listing.py", "app/main.py", "app/models/deal.py", "app/routers/__init__.py",
        "app/routers/deal.py", "app/schemas/deal.py", "tests/test_entity_deal.py"]
    assert implicated_files(_failing(), tree, plan) == []


def test_a_patch_may_not_leave_its_files_delete_or_weaken_tests():
    tree = {"app/routers/deal.py": "x = 1\n",
            "tests/test_entity_deal.py": "def test_a():\n    assert 1\n    assert 2\n\ndef test_b():\n    assert 3\n"}
    implicated = sorted(tree)
    fine = GeneratedFiles(files=[GeneratedFile(path="app/routers/deal.py", content="x = 2\n")])
    assert patch_violations(fine, implicated, tree) == []
    bad = GeneratedFiles(
        files=[GeneratedFile(path="app/security.py", content="ALLOW_ALL = True\n"),
               GeneratedFile(path="tests/test_entity_deal.py",
                             content="def test_a():\n    assert 1\n\ndef test_b():\n    assert 3\n")],
        deleted=["tests/test_entity_deal.py"])
    rules = [v.rule for v in patch_violations(bad, implicated, tree)]
    assert rules == ["patch_deletes", "patch_scope", "patch_weakens_tests"]


def test_a_cancelled_build_gets_no_patch(env):
    plan = crm_plan()
    build = env.store.create_build(BuildRun(id="b1", spec_text="contacts and deals",
                                            status=BuildStatus.running))
    ws = Workspace.create(env.workspace_path(build.id))
    mark_base_commit(ws.path, ws.head())
    clean = GeneratedFiles(files=render_application(plan))
    corrupted, _ = corrupt_generated(clean, "wrong_status_code")
    ws.apply_diff(ws.render_diff(corrupted), "generated, with a fault")
    head = ws.head()
    env.store.transition("b1", "cancel")
    report = _failing("tests/test_entity_contact.py::test_create_contact")
    with pytest.raises(InvalidState, match="^build b1 was cancelled$"):
        patched_diff(env, build, plan, report, AgentContext(provider=OfflineProvider()), 2)
    assert ws.head() == head


def test_a_malicious_patch_never_reaches_the_workspace(env):
    plan = crm_plan()
    build = env.store.create_build(BuildRun(id="b1", spec_text="contacts and deals",
                                            status=BuildStatus.running))
    ws = Workspace.create(env.workspace_path(build.id))
    mark_base_commit(ws.path, ws.head())
    ws.apply_diff(ws.render_diff(GeneratedFiles(files=render_application(plan))), "generated")
    head, files = ws.head(), ws.files()

    class Faulty(OfflineProvider):  # an agent that answers a patch outside what failed
        def complete(self, request, output_model):
            reply = super().complete(request, output_model)
            if request.role.value != "auto_fixer":
                return reply
            evil = GeneratedFiles(files=[GeneratedFile(path="app/security.py", content="OPEN = 1\n")])
            return reply.model_copy(update={"content": evil.model_dump_json()})

    report = _failing("tests/test_entity_deal.py::test_create_deal")
    with pytest.raises(DiffRejected, match="app/security.py: not one of the files the failing tests"):
        patched_diff(env, build, plan, report, AgentContext(provider=Faulty()), 2)
    assert (ws.head(), ws.files()) == (head, files)


def test_replan_drops_what_failed_and_says_so():
    plan = crm_plan()
    report = _failing("tests/test_feature_csv_export_contact.py::test_export")
    simpler = simplified_plan(plan, report, "tests_failed")
    kept = {(f.kind, f.entity) for f in simpler.features}
    assert (FeatureKind.csv_export, "contact") not in kept
    assert kept == {(f.kind, f.entity) for f in plan.features} - {(FeatureKind.csv_export, "contact")}
    assert simpler.decisions[-1].phrase == "csv_export on contact"
    assert simpler.decisions[-1].decision == "dropped"
    assert "its tests failed (tests_failed)" in simpler.decisions[-1].reason
    # Nothing named: every optional feature goes; nothing left: re-planning cannot help.
    bare = simplified_plan(plan, _failing("tests/test_security.py::test_x"), "tests_failed")
    assert bare.features == [] and bare != plan
    with pytest.raises(NothingToRepair, match="no optional feature left"):
        simplified_plan(bare, _failing("tests/test_security.py::test_x"), "tests_failed")
