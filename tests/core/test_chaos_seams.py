"""Each chaos seam for real: the fault really happens where it would (the provider, its HTTP
client, the sandbox, the store's connection, the Auto-Fixer's patch), reaches the failure class
the ladder acts on, and the ladder picks the rung that can heal it."""

from __future__ import annotations

import pytest

from mb_core import chaos
from mb_core.agents.base import AgentContext, AgentRole, run_agent
from mb_core.agents.io import ArchitectInput
from mb_core.agents.registry import definition_for
from mb_core.chaos import SEAM_FAULTS, ChaosSettings, FaultInjector, attempt_scope
from mb_core.errors import DiffRejected, ProviderError, SandboxError
from mb_core.failures import classify_failure
from mb_core.ladder import BudgetLeft, LadderInput, next_phase
from mb_core.models import BuildRun, BuildStatus, FailureClass, RepairPhase
from mb_core.pipeline import BuildEnvironment
from mb_core.providers.chaos import ChaosProvider
from mb_core.providers.offline import OfflineProvider
from mb_core.settings import Settings
from tests.core.providers.openai_server import ScriptedOpenAIServer

SPEC = "Build a CRM system with contacts and deals"


def _injector(seam: str, fault: str, seed: int = 0) -> FaultInjector:
    return FaultInjector(ChaosSettings(enabled=True, probability=1.0, seed=seed, seams=(seam,),
                                       code_faults=(fault,)))


def _point(injector: FaultInjector, build_id: str) -> int:
    chaos.forget(build_id)  # this process's counts of an earlier test of the same id
    return injector.plan(build_id, 1).point


def _rung(failure: FailureClass) -> RepairPhase | str:
    return next_phase(LadderInput(failure=failure, budget=BudgetLeft(attempts=3))).phase


def _architect(ctx: AgentContext):
    return run_agent(definition_for(AgentRole.product_architect), ArchitectInput(text=SPEC), ctx)


@pytest.mark.parametrize(("fault", "expected"), [
    ("http_429", FailureClass.llm_transient), ("http_500", FailureClass.llm_transient),
    ("timeout", FailureClass.llm_transient), ("malformed", FailureClass.llm_invalid_output),
    ("truncated", FailureClass.llm_invalid_output)])
def test_offline_provider_faults_reach_their_class_and_are_retried(fault, expected):
    injector = _injector("provider", fault)
    build_id = next(f"p{n}" for n in range(100) if _point(injector, f"p{n}") == 0)  # the first call
    recorded = []
    ctx = AgentContext(provider=ChaosProvider(OfflineProvider()))
    with attempt_scope(build_id, 1, injector, record=lambda *a: recorded.append(a[2:4])):
        with pytest.raises(ProviderError) as caught:
            _architect(ctx)
        assert classify_failure(caught.value) is expected
        assert _rung(expected) is RepairPhase.retry
        assert _architect(ctx).entities  # the next call of the attempt is not faulted
    assert recorded == [("provider", fault)]


@pytest.mark.parametrize("fault", ["http_429", "http_500", "timeout", "malformed"])
def test_openai_client_faults_are_retried_by_the_provider_itself(fault):
    from mb_core.providers.openai_provider import OpenAIProvider

    injector = _injector("provider", fault)
    build_id = next(f"o{n}" for n in range(100) if _point(injector, f"o{n}") == 0)
    from mb_core.agents.base import build_request

    definition = definition_for(AgentRole.product_architect)
    content = OfflineProvider().complete(build_request(definition, ArchitectInput(text=SPEC)),
                                         definition.output_model).content
    server = ScriptedOpenAIServer().start()

    def answer(_body):
        return ScriptedOpenAIServer.answer(content)

    server.responder = answer
    try:
        provider = OpenAIProvider(server.base_url, "sk-test", timeout_s=5, sleep=lambda _s: None)
        with attempt_scope(build_id, 1, injector):
            spec = _architect(AgentContext(provider=provider))
    finally:
        server.close()
    assert spec.entities
    # The fault happened on the wire: a 429/500/timeout never reached the server; a malformed
    # answer was the server's own, damaged on its way back.
    assert len(server.requests) == (2 if fault == "malformed" else 1)


def test_an_openai_answer_cut_off_is_invalid_output_for_the_ladder():
    from mb_core.providers.openai_provider import OpenAIProvider

    injector = _injector("provider", "truncated")
    build_id = next(f"t{n}" for n in range(100) if _point(injector, f"t{n}") == 0)
    server = ScriptedOpenAIServer().start()
    server.responder = lambda body: ScriptedOpenAIServer.answer('{"title": "x"}')
    try:
        provider = OpenAIProvider(server.base_url, "sk-test", timeout_s=5, sleep=lambda _s: None)
        with attempt_scope(build_id, 1, injector), pytest.raises(ProviderError) as caught:
            _architect(AgentContext(provider=provider))
    finally:
        server.close()
    assert "cut off" in str(caught.value)
    assert classify_failure(caught.value) is FailureClass.llm_invalid_output


@pytest.mark.parametrize("fault", SEAM_FAULTS["sandbox"])
def test_a_sandbox_fault_is_a_sandbox_error_and_is_retried(tmp_path, fault):
    from mb_core.sandbox import run_tests

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    assert True\n")
    chaos.forget("s1")
    with (attempt_scope("s1", 1, _injector("sandbox", fault)),
          pytest.raises(SandboxError, match="^sandbox: .*the tests were not run$") as caught):
        run_tests(tmp_path, timeout_s=60)
    assert classify_failure(caught.value) is FailureClass.sandbox_error
    assert _rung(FailureClass.sandbox_error) is RepairPhase.retry


def test_a_git_apply_fault_is_diff_apply_and_is_retried(tmp_path):
    from mb_core.errors import DiffApplyFailed
    from mb_core.models import GeneratedFile, GeneratedFiles
    from mb_core.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws")
    patch = ws.render_diff(GeneratedFiles(files=[GeneratedFile(path="app/a.py", content="A = 1\n")]))
    with attempt_scope("g1", 1, _injector("git_apply", "truncated_patch")):
        with pytest.raises(DiffApplyFailed) as caught:
            ws.apply_diff(patch, "first")
        head = ws.apply_diff(patch, "second")  # the attempt's one fault is spent
    assert head != ws.path and (ws.path / "app" / "a.py").read_text() == "A = 1\n"
    assert classify_failure(caught.value) is FailureClass.diff_apply
    assert _rung(FailureClass.diff_apply) is RepairPhase.retry


@pytest.fixture
def env(tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}",
                        dagster_home=tmp_path / "dagster")
    return BuildEnvironment.open(settings)


def test_a_dropped_store_connection_is_opened_again_and_nothing_is_lost(env):
    store = env.store
    store.create_build(BuildRun(id="st1", spec_text=SPEC, status=BuildStatus.running))
    injector = _injector("store", "connection_reset")
    point = injector.plan("st1", 1).point
    with attempt_scope("st1", 1, injector, record=store.record_chaos_event):
        for n in range(point + 2):
            store.start_step("st1", f"step{n}")  # every write lands, the faulted one too
    assert [s.name for s in store.list_steps("st1")] == [f"step{n}" for n in range(point + 2)]
    [event] = store.list_chaos_events("st1")
    assert (event.seam, event.fault, event.attempt) == ("store", "connection_reset", 1)


def test_a_store_that_stays_down_is_unavailable_after_three_tries(tmp_path):
    from mb_core.store import Store
    from mb_core.store.store import StoreUnavailable

    store = Store.from_url("postgresql+psycopg2://postgres@127.0.0.1:9/none")
    with pytest.raises(StoreUnavailable, match="^the store at .* is unavailable: "):
        store.create_build(BuildRun(id="x1", spec_text=SPEC, status=BuildStatus.running))


def test_a_store_lost_in_the_middle_of_an_attempt_is_retried_not_failed():
    # A PostgreSQL restart under a running step: the attempt lost its database, not its way;
    # the ladder's retry rung (bounded) runs it again once the server is back.
    from mb_core.store import Store
    from mb_core.store.store import StoreUnavailable

    store = Store.from_url("postgresql+psycopg2://postgres@127.0.0.1:9/none")
    with pytest.raises(StoreUnavailable) as caught:
        store.start_step("x1", "spec")
    assert classify_failure(caught.value) is FailureClass.worker_lost
    assert _rung(FailureClass.worker_lost) is RepairPhase.retry


@pytest.mark.parametrize("fault", SEAM_FAULTS["patch"])
def test_a_faulty_auto_fixers_patch_never_reaches_the_workspace(env, fault):
    from mb_core.codegen import render_application
    from mb_core.healing import mark_base_commit
    from mb_core.models import EvalReport, GeneratedFiles, TestCaseResult, TestOutcome
    from mb_core.repair import patched_diff
    from mb_core.workspace import Workspace
    from tests.core.codegen.conftest import crm_plan

    plan = crm_plan()
    build = env.store.create_build(BuildRun(id="m1", spec_text=SPEC, status=BuildStatus.running))
    ws = Workspace.create(env.workspace_path(build.id))
    mark_base_commit(ws.path, ws.head())
    ws.apply_diff(ws.render_diff(GeneratedFiles(files=render_application(plan))), "generated")
    head, files = ws.head(), ws.files()
    report = EvalReport(build_id="m1", passed=False, tests=[TestCaseResult(
        nodeid="tests/test_entity_deal.py::test_create_deal", outcome=TestOutcome.failed)])
    chaos.forget("m1")
    with attempt_scope("m1", 1, _injector("patch", fault)), pytest.raises(DiffRejected) as caught:
        patched_diff(env, build, plan, report, AgentContext(provider=OfflineProvider()), 2)
    assert (ws.head(), ws.files()) == (head, files)
    assert not (ws.path.parent / "outside.py").exists()
    assert not (ws.path / ".git" / "hooks" / "post-commit").exists()
    assert classify_failure(caught.value) is FailureClass.safety_violation
    assert _rung(FailureClass.safety_violation) is RepairPhase.rollback  # never retried
