"""Faults at the real seams through the in-process healing driver on a real Dagster instance: the
seed is chosen so that the first attempt meets the fault named; a transient provider fault is
retried by the step itself, a faulty Auto-Fixer's patch rolls the build back without a retry."""

from __future__ import annotations

import pytest
from dagster import instance_for_test

from mb_core.chaos import ChaosSettings, FaultInjector
from mb_core.errors import MBError
from mb_core.healing import read_base_commit
from mb_core.models import BuildRun, BuildStatus, FailureClass, RepairPhase
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.workspace import Workspace
from mb_dagster.driver import run_build

CRM = "Build a CRM system with contacts and deals"


def _seed(build_id: str, seams: tuple[str, ...], faults: tuple[str, ...], wanted) -> int:
    """The first seed whose planned faults for attempts 1..3 are `wanted` (seam, point or None)."""
    for seed in range(5000):
        injector = FaultInjector(ChaosSettings(enabled=True, probability=0.5, seed=seed, seams=seams,
                                               code_faults=faults))
        plans = [injector.plan(build_id, a) for a in (1, 2, 3)]
        got = [None if p is None else (p.seam, p.point) for p in plans]
        if all(w == "any" or g == w for g, w in zip(got, wanted, strict=True)):
            return seed
    raise AssertionError("no seed plans these faults")


def _chaos(monkeypatch, seams, faults, seed):
    for var, value in {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "0.5",
                       "META_V4_CHAOS_SEAMS": ",".join(seams), "META_V4_CHAOS_CODE_FAULTS": ",".join(faults),
                       "META_V4_CHAOS_SEED": str(seed)}.items():
        monkeypatch.setenv(var, value)


def test_a_provider_fault_is_retried_by_the_step_and_the_build_releases(mb_home, monkeypatch):
    build_id = "chaos-provider-1"
    # A 500 at the second call (the System Designer) of attempt 1. A transient provider error is
    # the step's own RetryPolicy's to absorb: the plan step runs again within the same attempt.
    seed = _seed(build_id, ("provider",), ("http_500",), [("provider", 1), None, "any"])
    _chaos(monkeypatch, ("provider",), ("http_500",), seed)
    env = BuildEnvironment.open(Settings.from_env())
    env.store.create_build(BuildRun(id=build_id, spec_text=CRM, status=BuildStatus.running))
    with instance_for_test() as instance:
        result = run_build(env, instance, build_id)
    assert result.build.status is BuildStatus.released
    attempts = env.store.list_attempts(build_id)
    assert [(a.phase, a.failure_class) for a in attempts] == [(RepairPhase.build, None)]
    [event] = env.store.list_chaos_events(build_id)
    assert (event.seam, event.fault, event.attempt, event.recovered) == ("provider", "http_500", 1, True)
    assert event.recovery.startswith("absorbed in attempt 1")
    plan_steps = [(s.attempt, s.status.value) for s in env.store.list_steps(build_id) if s.name == "plan"]
    assert plan_steps == [(1, "failed"), (1, "succeeded")]
    failed = [s for s in env.store.list_steps(build_id) if s.status.value == "failed"]
    assert "500: injected fault" in failed[0].detail


def test_a_faulty_auto_fixers_secret_rolls_back_and_is_not_retried(mb_home, monkeypatch):
    build_id = "chaos-patch-1"
    seams, faults = ("codegen", "patch"), ("broken_route", "secret")
    seed = _seed(build_id, seams, faults, [("codegen", 0), ("patch", 0), "any"])
    _chaos(monkeypatch, seams, faults, seed)
    env = BuildEnvironment.open(Settings.from_env())
    env.store.create_build(BuildRun(id=build_id, spec_text=CRM, status=BuildStatus.running))
    with (instance_for_test() as instance,
          pytest.raises(MBError, match=rf"^build {build_id} rolled back: .*secret.*; "
                                       r"safety violation is never retried: rolled back$")):
        run_build(env, instance, build_id)
    build = env.store.get_build(build_id)
    assert (build.status, build.failure_class) == (BuildStatus.rolled_back, FailureClass.safety_violation)
    assert [a.phase for a in env.store.list_attempts(build_id)] == [RepairPhase.build, RepairPhase.patch]
    workspace = env.workspace_path(build_id)
    assert Workspace(workspace).head() == read_base_commit(workspace)
    assert all("AKIA" not in text for text in Workspace(workspace).files().values())
    events = env.store.list_chaos_events(build_id)
    assert [(e.seam, e.fault, e.recovered) for e in events] == [
        ("codegen", "broken_route", False), ("patch", "secret", False)]
