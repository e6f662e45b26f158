"""The in-process healing driver on a real Dagster instance: Re-plan re-materializes `plan` with
the failure as context, and a ladder that runs out rolls the build back to its base."""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterEventType, EventRecordsFilter, instance_for_test

from mb_core.errors import MBError
from mb_core.healing import read_base_commit
from mb_core.ladder import RungLimits
from mb_core.models import BuildRun, BuildStatus, RepairPhase, ScaffoldPlan
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_core.workspace import Workspace
from mb_dagster.driver import run_build

CRM = "Build a CRM system with contacts and deals, searchable contacts and a CSV export of deals"


def test_replan_drops_features_and_the_exhausted_ladder_rolls_back(mb_home, monkeypatch):
    # A fault in every generated tree: whatever the plan, the codegen seam breaks a route.
    for var, value in {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
                       "META_V4_CHAOS_SEAMS": "codegen", "META_V4_CHAOS_CODE_FAULTS": "wrong_status_code"}.items():
        monkeypatch.setenv(var, value)
    env = BuildEnvironment.open(Settings.from_env())
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=CRM, status=BuildStatus.running))
    with instance_for_test() as instance:
        with pytest.raises(MBError, match=rf"^build {build_id} rolled back: .*; "
                           r"tests failed after patch x0, replan x1: rolled back$"):
            run_build(env, instance, build_id, limits=RungLimits(retry=0, patch=0, replan=1))

        plans = instance.get_event_records(EventRecordsFilter(
            event_type=DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey("plan"),
            asset_partitions=[build_id]))
        assert len(plans) == 2
    attempts = env.store.list_attempts(build_id)
    assert [a.phase for a in attempts] == [RepairPhase.build, RepairPhase.replan]
    plan = env.assets.read("plan", build_id, ScaffoldPlan)
    dropped = [d for d in plan.decisions if d.reason.startswith("re-plan:")]
    # The fault broke the contact router: the contact features' tests failed and were dropped; the
    # deal features, whose tests passed, stay.
    assert dropped and all(d.phrase.endswith(" on contact") for d in dropped), dropped
    assert plan.features and all(f.entity == "deal" for f in plan.features)
    assert any("re-planned: dropped" in note for note in plan.risk_notes)

    build = env.store.get_build(build_id)
    assert (build.status, build.attempt) == (BuildStatus.rolled_back, 2)
    workspace = env.workspace_path(build_id)
    assert Workspace(workspace).head() == read_base_commit(workspace)
    assert not env.artifact_dir(build_id).exists()
    assert [e.recovered for e in env.store.list_chaos_events(build_id)] == [False, False]
