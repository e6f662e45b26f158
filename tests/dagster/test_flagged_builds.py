"""A build obeys the flags kept with it: a tenant's tiny token budget stops it before its first
LLM call and rolls it back, a tenant's chaos switch injects faults into its builds only, and v4
off means no repair rung."""

from __future__ import annotations

import pytest
from dagster import instance_for_test

from mb_core.errors import MBError
from mb_core.ladder import RungLimits
from mb_core.models import BuildRun, BuildStatus, RepairPhase
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_core.store.platform import PlatformStore
from mb_dagster.driver import run_build

TODO = "Build a todo app where people keep tasks with a title and a due date"


def _build(env: BuildEnvironment, instance, tenant: str, limits: RungLimits | None = None) -> BuildRun:
    build_id = new_build_id()
    run = env.store.create_build(BuildRun(id=build_id, tenant=tenant, spec_text=TODO, status=BuildStatus.running))
    PlatformStore(env.store).freeze_build_flags(run)  # as `mb build` does at submission
    try:
        run_build(env, instance, build_id, limits=limits)
    except MBError:
        pass  # the build's status says how it ended
    return env.store.get_build(build_id)


@pytest.fixture
def env(mb_home):
    environment = BuildEnvironment.open(Settings.from_env())
    yield environment
    environment.store.dispose()


def test_a_tenants_tiny_token_budget_rolls_its_build_back(env):
    platform = PlatformStore(env.store)
    platform.set_flag("META_V4_BUDGET_TOKENS", 1, "tenant", tenant="acme")
    with instance_for_test() as instance:
        build = _build(env, instance, "acme")
    assert build.status is BuildStatus.rolled_back, build
    assert "token budget" in (build.error or ""), build.error
    assert env.store.get_budget(build.id).max_tokens == 1
    assert env.store.list_exchanges(build.id) == []  # refused before any call was made


def test_chaos_on_for_one_tenant_injects_into_its_builds_only(env, monkeypatch):
    # The environment says where and how often; the flag says whether, per tenant.
    for var, value in {"META_V4_CHAOS_INJECTION_PROBABILITY": "1", "META_V4_CHAOS_SEAMS": "codegen",
                       "META_V4_CHAOS_CODE_FAULTS": "wrong_status_code"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("META_V4_CHAOS_ENABLED", raising=False)
    PlatformStore(env.store).set_flag("META_V4_CHAOS_ENABLED", True, "tenant", tenant="acme")
    no_repairs = RungLimits(retry=0, patch=0, replan=0)
    with instance_for_test() as instance:
        chaotic = _build(env, instance, "acme", no_repairs)
        calm = _build(env, instance, "globex", no_repairs)
    assert [(e.seam, e.fault) for e in env.store.list_chaos_events(chaotic.id)] == [("codegen", "wrong_status_code")]
    assert chaotic.status is BuildStatus.rolled_back
    assert env.store.list_chaos_events(calm.id) == []
    assert calm.status in (BuildStatus.released, BuildStatus.awaiting_approval), calm


def test_v4_off_for_a_tenant_gives_its_builds_no_repair_rung(env, monkeypatch):
    for var, value in {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
                       "META_V4_CHAOS_SEAMS": "codegen", "META_V4_CHAOS_CODE_FAULTS": "wrong_status_code"}.items():
        monkeypatch.setenv(var, value)
    platform = PlatformStore(env.store)
    platform.set_flag("FEATURE_META_V4_ENABLED", False, "tenant", tenant="acme")
    with instance_for_test() as instance:
        build = _build(env, instance, "acme")
    # v4 off: no chaos (it exercises v4 healing), and the build runs its one attempt.
    assert env.store.list_chaos_events(build.id) == []
    assert [a.phase for a in env.store.list_attempts(build.id)] == [RepairPhase.build]
    assert PlatformStore(env.store).build_flags(build.id).sources["FEATURE_META_V4_ENABLED"] == "tenant"
