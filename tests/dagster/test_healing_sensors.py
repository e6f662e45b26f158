"""The ladder under the daemon, on a real Dagster instance and the real store: sensor ticks only
read and request runs (a tick writes nothing); the requested runs, executed for real, keep the
books (claim, attempt records, leases, rollback) with compare-and-set, so a repeated tick or a
duplicate run changes nothing twice."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from dagster import DagsterRunStatus, build_sensor_context, instance_for_test
from sqlalchemy import event

from mb_core.canary.variants import Variant
from mb_core.healing import mark_base_commit, read_base_commit
from mb_core.models import AttemptOutcome, BuildRun, BuildStatus, FailureClass, RepairPhase
from mb_core.reconcile import WorkerDriver
from mb_core.store import new_build_id
from mb_core.store.canary import CanaryStore
from mb_core.store.platform import PlatformStore
from mb_core.store.workers import get_lease, take_lease
from mb_core.workspace import Workspace
from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.driver import execute_request, follow_requests
from mb_dagster.healing.sensors import healing_sensor, reconciler_sensor
from mb_dagster.release.sensors import approvals_sensor
from mb_dagster.resources import MetaBuilderResource

TODO = "Build a todo app with tasks"


def _env():
    return MetaBuilderResource().environment()  # the very environment the sensors use


def _tick(sensor, instance, cursor=None):
    return sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()},
                                       cursor=cursor))


@contextmanager
def store_writes(env):
    """Every INSERT, UPDATE or DELETE sent to the store while the block runs."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(env.store.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(env.store.engine, "before_cursor_execute", listen)


def _submit(env, text=TODO) -> str:
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=text))
    return build_id


def test_the_daemon_path_claims_builds_and_releases_them_in_runs_not_in_ticks(mb_home):
    env = _env()
    build_id = _submit(env)
    with instance_for_test() as instance:
        with store_writes(env) as writes:
            first = _tick(submissions_sensor, instance)
            again = _tick(submissions_sensor, instance)
            assert not _tick(approvals_sensor, instance).run_requests
            assert not _tick(healing_sensor, instance).run_requests
            assert not _tick(reconciler_sensor, instance).run_requests
        assert writes == []
        [request] = first.run_requests
        assert [r.run_key for r in again.run_requests] == [request.run_key] == [f"build:{build_id}:1"]
        assert request.tags["mb/phase"] == "build" and request.tags["mb/iteration"] == "1"
        assert env.store.get_build(build_id).status == BuildStatus.submitted  # nothing claimed yet
        instance.add_dynamic_partitions("builds", first.dynamic_partitions_requests[0].partition_keys)

        queued_at = datetime.now(UTC)
        time.sleep(1.5)  # the run waits in a queue: that wait is not the build's running time
        result = execute_request(instance, request)
        assert result.success
        build = env.store.get_build(build_id)
        assert (build.status, build.attempt) == (BuildStatus.approved, 1)
        [attempt] = env.store.list_attempts(build_id)
        assert attempt.outcome is AttemptOutcome.succeeded and attempt.phase is RepairPhase.build
        assert (attempt.started_at - queued_at).total_seconds() >= 1.5
        assert env.store.get_budget(build_id).running_seconds == attempt.seconds
        assert get_lease(env.store, build_id) is None  # given back when the run ended
        # The run drew the build's variant when it claimed it, and the gate ended the drive: the
        # same canary sample the CLI driver writes.
        [sample] = CanaryStore(env.store).list_samples()
        assert (sample.build_id, sample.variant, sample.success, sample.status) == (
            build_id, Variant.v4, True, "approved")
        assert (sample.iterations, sample.duration_s) == (1, round(attempt.seconds, 6))
        assert sample.tokens == env.store.usage_totals(build_id)["total"]["total_tokens"] > 0

        # The same request launched twice: the second run finds the build claimed and stops. It
        # ends superseded, a success with its reason, not a red run beside a build that goes on.
        duplicate = execute_request(instance, request)
        assert duplicate.success
        tags = instance.get_run_by_id(duplicate.run_id).tags
        assert tags["mb/outcome"] == "superseded" and "nothing to do" in tags["mb/reason"]
        assert not duplicate.asset_materializations_for_node("spec")
        assert not duplicate.asset_materializations_for_node("eval_report")  # skipped after it
        assert len(env.store.list_attempts(build_id)) == 1
        assert env.store.get_build(build_id).status == BuildStatus.approved

        with store_writes(env) as writes:
            healed = _tick(healing_sensor, instance)
            release = _tick(approvals_sensor, instance)
        assert writes == [] and not healed.run_requests
        assert [r.run_key for r in release.run_requests] == [f"release:{build_id}:1"]
        assert env.store.get_build(build_id).status == BuildStatus.approved
        assert execute_request(instance, release.run_requests[0]).success
        assert env.store.get_build(build_id).status == BuildStatus.released
        assert (env.artifact_dir(build_id) / "PR_BODY.md").exists()
        # Launched again, the release run does nothing and ends superseded, not failed: one
        # artifact, released once, and the healing sensor asks for nothing after it.
        again = execute_request(instance, release.run_requests[0])
        assert again.success
        assert instance.get_run_by_id(again.run_id).tags["mb/outcome"] == "superseded"
        assert not again.asset_materializations_for_node("artifact")
        assert env.store.get_build(build_id).status == BuildStatus.released
        assert len(env.store.list_attempts(build_id)) == 1
        assert not _tick(healing_sensor, instance).run_requests
    # Released: the build's one sample now says so (replaced, not added).
    [sample] = CanaryStore(env.store).list_samples()
    assert (sample.build_id, sample.status, sample.success) == (build_id, "released", True)


def _code_fault(monkeypatch, attempts: int) -> None:
    for var, value in {"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
                       "META_V4_CHAOS_SEAMS": "codegen", "META_V4_CHAOS_CODE_FAULTS": "wrong_status_code",
                       "META_BUILDER_MAX_ITERATIONS": str(attempts)}.items():
        monkeypatch.setenv(var, value)


def test_a_failed_evaluation_is_patched_by_the_next_run_of_the_same_partition(mb_home, monkeypatch):
    _code_fault(monkeypatch, attempts=3)
    env = _env()
    build_id = _submit(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        first = execute_request(instance, _tick(submissions_sensor, instance).run_requests[0])
        assert not first.success  # a blocking quality gate failed
        assert env.store.get_build(build_id).status == BuildStatus.running  # left to the ladder

        with store_writes(env) as writes:
            tick = _tick(healing_sensor, instance)
            repeated = _tick(healing_sensor, instance)  # the same cursor: the same run key
            later = _tick(healing_sensor, instance, cursor=tick.cursor)
        assert writes == [] and not later.run_requests
        [patch] = tick.run_requests
        assert [r.run_key for r in repeated.run_requests] == [patch.run_key] == [f"heal:{build_id}:2"]
        assert patch.job_name == "repair_job" and patch.partition_key == build_id
        assert (patch.tags["mb/phase"], patch.tags["mb/iteration"], patch.tags["mb/attempt"],
                patch.tags["mb/after"]) == ("patch", "2", "2", "tests_failed")

        follow_requests(env, instance, patch)
    build = env.store.get_build(build_id)
    attempts = env.store.list_attempts(build_id)
    assert attempts[0].failure_class is FailureClass.tests_failed
    assert attempts[0].outcome is AttemptOutcome.failed and attempts[1].phase is RepairPhase.patch
    assert build.status == BuildStatus.released, (build.error, attempts)
    assert attempts[-1].outcome is AttemptOutcome.succeeded
    budget = env.store.get_budget(build_id)
    assert budget.attempts_used == len(attempts)  # each attempt charged once
    assert abs(budget.running_seconds - sum(a.seconds for a in attempts)) < 1e-3


def test_a_build_out_of_attempts_is_rolled_back_by_the_rollback_job(mb_home, monkeypatch):
    _code_fault(monkeypatch, attempts=1)
    env = _env()
    build_id = _submit(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        execute_request(instance, _tick(submissions_sensor, instance).run_requests[0])
        with store_writes(env) as writes:
            [rollback] = _tick(healing_sensor, instance).run_requests
        assert writes == []
        assert rollback.job_name == "rollback_job" and rollback.run_key == f"rollback:{build_id}:1"
        assert env.store.get_build(build_id).status == BuildStatus.running
        assert execute_request(instance, rollback).success
        assert execute_request(instance, rollback).success  # run twice: nothing moves again
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.rolled_back and build.failure_class is FailureClass.tests_failed
    assert "no attempts left: rolled back" in build.error
    workspace = env.workspace_path(build_id)
    assert Workspace(workspace).head() == read_base_commit(workspace)
    [attempt] = env.store.list_attempts(build_id)
    assert attempt.outcome is AttemptOutcome.failed and env.store.get_budget(build_id).attempts_used == 1
    [sample] = CanaryStore(env.store).list_samples()  # written once, though the job ran twice
    assert (sample.build_id, sample.success, sample.status, sample.iterations) == (
        build_id, False, "rolled_back", 1)


def test_a_baseline_build_gets_no_repair_from_the_daemon_and_writes_its_sample(mb_home, monkeypatch):
    _code_fault(monkeypatch, attempts=3)  # the whole ladder would patch it
    env = _env()
    PlatformStore(env.store).set_flag("FEATURE_META_V4_CANARY_PERCENT", 0, "platform")
    build_id = _submit(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        assert not execute_request(instance, _tick(submissions_sensor, instance).run_requests[0]).success
        # Baseline is the builder without the ladder, as the CLI driver runs it: no patch run.
        [rollback] = _tick(healing_sensor, instance).run_requests
        assert rollback.job_name == "rollback_job"
        assert execute_request(instance, rollback).success
    assert env.store.get_build(build_id).status == BuildStatus.rolled_back
    [sample] = CanaryStore(env.store).list_samples()
    assert (sample.build_id, sample.variant, sample.randomized, sample.canary_percent) == (
        build_id, Variant.baseline, False, 0)
    assert (sample.success, sample.status, sample.iterations) == (False, "rolled_back", 1)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_reconciler_rolls_back_a_build_whose_cli_died_and_restores_its_workspace(mb_home, monkeypatch):
    monkeypatch.setenv("META_BUILDER_MAX_ITERATIONS", "1")
    env = _env()
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=TODO, status=BuildStatus.running))
    env.store.start_attempt(build_id, RepairPhase.build, "the first attempt")
    # The killed process had started a change: a file written, an index lock left behind.
    workspace = env.workspace_path(build_id)
    ws = Workspace.create(workspace)
    mark_base_commit(workspace, ws.head())
    (workspace / "half_written.py").write_text("def broken(:\n")
    (workspace / ".git" / "index.lock").write_text("")
    take_lease(env.store, build_id, 1, WorkerDriver.cli, pid=_dead_pid())
    with instance_for_test() as instance:
        with store_writes(env) as writes:
            [request] = _tick(reconciler_sensor, instance).run_requests
            assert [r.run_key for r in _tick(reconciler_sensor, instance).run_requests] == [request.run_key]
        assert writes == []
        assert request.job_name == "rollback_job"
        assert execute_request(instance, request).success
        assert not _tick(reconciler_sensor, instance).run_requests
        assert not instance.get_runs() or all(r.status == DagsterRunStatus.SUCCESS for r in instance.get_runs())
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.rolled_back and build.failure_class is FailureClass.worker_lost
    assert build.error.startswith("worker lost: the `mb build` process")
    assert not (workspace / "half_written.py").exists() and not (workspace / ".git" / "index.lock").exists()
    assert get_lease(env.store, build_id) is None
    [attempt] = env.store.list_attempts(build_id)
    assert attempt.outcome is AttemptOutcome.failed and attempt.failure_class is FailureClass.worker_lost
