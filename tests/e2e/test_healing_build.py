"""Self-healing builds through the CLI: a fault injected at the codegen seam is repaired by the
Auto-Fixer in a second attempt the Dagster instance shows; with healing off the same fault (same
seed) rolls the build back to its base."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"
CHAOS = {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
         "META_V4_CHAOS_SEED": "11", "META_V4_CHAOS_SEAMS": "codegen",
         "META_V4_CHAOS_CODE_FAULTS": "broken_route"}


def mb(*args: str, env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([MB, *args], capture_output=True, env=env, timeout=900, check=False)


def out(result) -> str:
    return result.stdout.decode() + result.stderr.decode()


def _store():
    from mb_core.pipeline import BuildEnvironment

    return BuildEnvironment.open().store


def test_a_broken_route_is_patched_in_a_second_attempt(mb_home):
    result = mb("build", CRM, env_extra=CHAOS)
    text = out(result)
    assert result.returncode == 0, text
    assert "chaos broken_route in app/routers/" in text
    assert "-> tests failed: patch 1 of 2" in text
    build_id = text.split()[1]

    store = _store()
    build = store.get_build(build_id)
    assert (build.status.value, build.attempt) == ("released", 2)
    attempts = store.list_attempts(build_id)
    assert [(a.phase.value, a.outcome.value) for a in attempts] == [("build", "failed"), ("patch", "succeeded")]
    assert attempts[0].failure_class.value == "tests_failed"
    assert store.get_budget(build_id).attempts_used == 2
    [event] = store.list_chaos_events(build_id)
    assert (event.seam, event.fault, event.recovered, event.recovery) == (
        "codegen", "broken_route", True, "healed by patch")

    status = out(mb("status", build_id))
    assert "repair timeline:" in status and "#2 patch    succeeded" in status, status

    # Every attempt is a run of the same partition, tagged with its phase and iteration, and the
    # diff and eval_report assets have a materialization for each.
    from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter, RunsFilter

    instance = DagsterInstance.from_config(str(mb_home / "dagster"))
    runs = instance.get_runs(RunsFilter(tags={"mb/build": build_id}))
    tags = sorted((r.tags.get("mb/phase"), r.tags.get("mb/iteration")) for r in runs if r.job_name != "release_job")
    assert tags == [("build", "1"), ("patch", "2")]
    for asset, count in (("diff", 2), ("eval_report", 2), ("plan", 1)):
        records = instance.get_event_records(EventRecordsFilter(
            event_type=DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey(asset),
            asset_partitions=[build_id]))
        assert len(records) == count, asset


def test_with_healing_off_the_same_fault_rolls_back_to_the_base(mb_home):
    result = mb("build", CRM, env_extra={**CHAOS, "META_BUILDER_MAX_ITERATIONS": "1"})
    err = result.stderr.decode().strip()
    assert result.returncode != 0 and "Traceback" not in out(result)
    assert len(err.splitlines()) == 1 and "rolled back" in err and "no attempts left" in err, err
    build_id = result.stdout.decode().split()[1]

    store = _store()
    build = store.get_build(build_id)
    assert build.status.value == "rolled_back" and "quality gate" in build.error
    assert build.failure_class.value == "tests_failed"
    [event] = store.list_chaos_events(build_id)
    assert event.recovered is False and event.recovery.startswith("rolled_back")

    from mb_core.healing import read_base_commit
    from mb_core.workspace import Workspace

    workspace = mb_home / "workspaces" / build_id
    assert Workspace(workspace).head() == read_base_commit(workspace)
    assert not (mb_home / "artifacts" / build_id).exists()


def test_bad_healing_input_is_one_line_and_changes_nothing(mb_home):
    for args, extra, message in (
        (("breakers", "--reset", "nope"), {}, "no circuit breaker named 'nope'"),
        (("build", CRM), {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1.5"},
         "META_V4_CHAOS_INJECTION_PROBABILITY='1.5' is not a probability"),
        (("build", CRM), {"META_BUILDER_MAX_ITERATIONS": "0"}, "META_BUILDER_MAX_ITERATIONS=0 is out of range"),
    ):
        result = mb(*args, env_extra=extra)
        err = result.stderr.decode().strip()
        assert result.returncode != 0 and len(err.splitlines()) == 1 and message in err, out(result)
    assert "no builds yet" in out(mb("list"))
    assert _store().list_breakers() == []
    listing = out(mb("breakers"))
    assert "tests_failed" in listing and "closed" in listing
    assert "no chaos events recorded" in out(mb("chaos", "stats"))


def test_a_refused_spec_rolls_back_at_once_and_cannot_be_cancelled(mb_home):
    result = mb("build", "zzz qqq")
    assert result.returncode != 0
    build_id = result.stdout.decode().split()[1]
    build = _store().get_build(build_id)
    assert build.status.value == "rolled_back" and build.error.startswith("spec refused:")
    assert [a.phase.value for a in _store().list_attempts(build_id)] == ["build"]  # never retried
    cancel = mb("cancel", build_id)
    err = cancel.stderr.decode().strip()
    assert cancel.returncode != 0 and err == f"error: build {build_id} is already rolled_back", err
    assert _store().get_build(build_id).status.value == "rolled_back"
