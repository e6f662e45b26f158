"""Replaying past builds through `replay_job` on a real Dagster instance, and budgets stopping a
build run."""

from __future__ import annotations

import pytest
from dagster import AssetKey, instance_for_test
from sqlalchemy import delete

from mb_core.errors import MBError
from mb_core.models import BuildRun, BuildStatus, DiffArtifact
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_core.store.tables import exchanges
from mb_core.workspace import Workspace
from mb_dagster.definitions import defs
from mb_dagster.driver import run_build
from mb_dagster.replay.driver import replay_build

CRM = "Build a CRM system with contacts and deals"


def _new_build(env: BuildEnvironment) -> str:
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=CRM, status=BuildStatus.running))
    return build_id


def _latest_metadata(instance, asset: str, build_id: str) -> dict:
    event = instance.get_latest_materialization_event(AssetKey(asset))
    assert event.asset_materialization.partition == build_id
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_replay_job_is_registered_with_its_tags():
    job = defs.resolve_job_def("replay_job")
    assert job.tags["mb/provider"] == "replay" and job.tags["mb/replay"] == "1"
    assert {k.path[-1] for k in job.asset_layer.executable_asset_keys} >= {
        "spec", "plan", "diff", "eval_report"}


def test_replay_rematerializes_without_drift_and_leaves_the_build_as_released(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _new_build(env)
    with instance_for_test() as instance:
        result = run_build(env, instance, build_id)
        assert result.build.status == BuildStatus.released
        usage = _latest_metadata(instance, "plan", build_id)["usage"]
        assert set(usage["by_role"]) == {"product_architect", "system_designer", "security"}
        # The build's token budget (META_BUILDER_TOKEN_BUDGET's default, kept with it) is checked
        # before every call, so what is left of it shows.
        assert usage["total"]["calls"] == 3
        assert usage["remaining"]["tokens"] == 2_000_000 - usage["total"]["total_tokens"]

        original = env.assets.read("diff", build_id, DiffArtifact)
        recorded = env.store.list_exchanges(build_id)
        gate = env.store.get_gate(build_id)
        ws = Workspace(env.workspace_path(build_id))
        head = ws.head()

        outcome = replay_build(env, instance, build_id)
        assert outcome.ok and not outcome.drift and outcome.error is None
        assert outcome.replayed_sha256 == original.sha256
        run = instance.get_run_by_id(outcome.run_id)
        assert run.job_name == "replay_job" and run.tags["mb/provider"] == "replay"
        diff_meta = _latest_metadata(instance, "diff", build_id)
        assert diff_meta["replay_of"] == build_id and diff_meta["drift"] is False
        assert diff_meta["original_sha256"] == original.sha256
        assert _latest_metadata(instance, "eval_report", build_id)["replay_of"] == build_id

        assert env.store.get_build(build_id).status == BuildStatus.released
        assert env.store.get_gate(build_id) == gate
        assert len(env.store.list_exchanges(build_id)) == len(recorded)
        assert ws.head() == head

        # A bundle missing the codegen answer: the replay stops, names the agent and the request.
        codegen = next(e for e in recorded if e.role == "codegen")
        with env.store.engine.begin() as conn:
            conn.execute(delete(exchanges).where(exchanges.c.build_id == build_id,
                                                 exchanges.c.role == "codegen"))
        broken = replay_build(env, instance, build_id)
        assert not broken.ok
        assert "codegen" in broken.error and codegen.request_key[:12] in broken.error
        assert ws.head() == head  # the workspace went back to the released commit
        assert env.store.get_build(build_id).status == BuildStatus.released


def test_a_spent_budget_stops_the_build_with_its_reason(mb_home, monkeypatch):
    monkeypatch.setenv("MB_BUDGET_CALLS", "2")
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _new_build(env)
    with instance_for_test() as instance:
        with pytest.raises(MBError, match="call budget spent: 2 of 2 LLM calls made; security"):
            run_build(env, instance, build_id)
        build = env.store.get_build(build_id)
        # A spent budget is never retried: the ladder rolls the build back with the reason.
        assert build.status == BuildStatus.rolled_back and "call budget spent" in build.error
        assert build.failure_class.value == "budget_exceeded"
        assert len(env.store.list_exchanges(build_id)) == 2
        usage = _latest_metadata(instance, "spec", build_id)["usage"]
        assert usage["budget"]["max_calls"] == 2 and usage["remaining"]["calls"] == 1
