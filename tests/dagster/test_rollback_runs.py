"""A rollback run that fails for good never leaves its build in flight: on a real Dagster instance
and the real store, a rollback whose worker died is asked for again, then only the build's end;
a rollback that cannot restore the workspace ends the build failed with both reasons."""

from __future__ import annotations

import subprocess
import sys

from dagster import DagsterRunStatus, build_sensor_context, instance_for_test

from mb_core.healing import mark_base_commit, read_base_commit
from mb_core.models import AttemptOutcome, BuildRun, BuildStatus, FailureClass, RepairPhase
from mb_core.reconcile import WorkerDriver
from mb_core.store import new_build_id
from mb_core.store.workers import take_lease
from mb_core.workspace import Workspace
from mb_dagster.driver import _defs, execute_request
from mb_dagster.healing.sensors import healing_sensor, reconciler_sensor
from mb_dagster.resources import MetaBuilderResource


def _tick(sensor, instance, cursor=None):
    return sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()},
                                       cursor=cursor))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _lost_build(monkeypatch):
    """A running build whose `mb build` process died mid-change: the reconciler rolls it back."""
    monkeypatch.setenv("META_BUILDER_MAX_ITERATIONS", "1")
    env = MetaBuilderResource().environment()
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks",
                                    status=BuildStatus.running))
    env.store.start_attempt(build_id, RepairPhase.build, "the first attempt")
    workspace = env.workspace_path(build_id)
    ws = Workspace.create(workspace)
    mark_base_commit(workspace, ws.head())
    (workspace / "half_written.py").write_text("def broken(:\n")
    take_lease(env.store, build_id, 1, WorkerDriver.cli, pid=_dead_pid())
    return env, build_id, workspace


def _dies(instance, request):
    """The request launched as the daemon would, its worker killed before the op ran: run
    monitoring fails the run (no run retry is configured, so it fails for good)."""
    job = _defs().resolve_job_def(request.job_name)
    run = instance.create_run_for_job(job, run_config=dict(request.run_config or {}), tags=dict(request.tags))
    instance.report_run_failed(run, "the run worker was lost")
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE


def test_a_rollback_run_whose_worker_died_is_asked_for_again_and_rolls_the_build_back(mb_home, monkeypatch):
    env, build_id, workspace = _lost_build(monkeypatch)
    with instance_for_test() as instance:
        [rollback] = _tick(reconciler_sensor, instance).run_requests
        assert rollback.job_name == "rollback_job"
        _dies(instance, rollback)
        # The reconciler asks again under the same key (the daemon launches a key once).
        assert [r.run_key for r in _tick(reconciler_sensor, instance).run_requests] == [rollback.run_key]
        healed = _tick(healing_sensor, instance)
        [again] = healed.run_requests
        assert again.run_key == f"rollback:{build_id}:1:r1"
        assert again.run_config == rollback.run_config  # the same rollback, the same reason
        assert not _tick(healing_sensor, instance, healed.cursor).run_requests
        assert env.store.get_build(build_id).status == BuildStatus.running
        assert execute_request(instance, again).success
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.rolled_back and build.failure_class is FailureClass.worker_lost
    assert not (workspace / "half_written.py").exists()
    [attempt] = env.store.list_attempts(build_id)
    assert attempt.outcome is AttemptOutcome.failed


def test_rollback_runs_that_keep_failing_end_the_build_failed_with_the_reason(mb_home, monkeypatch):
    env, build_id, workspace = _lost_build(monkeypatch)
    with instance_for_test() as instance:
        [rollback] = _tick(reconciler_sensor, instance).run_requests
        _dies(instance, rollback)
        healed = _tick(healing_sensor, instance)
        [again] = healed.run_requests
        _dies(instance, again)
        healed = _tick(healing_sensor, instance, healed.cursor)
        [end] = healed.run_requests
        assert end.run_key == f"rollback:{build_id}:1:end"
        config = end.run_config["ops"]["roll_back_build"]["config"]
        assert (config["end"], config["restore"]) == ("failed", False)
        assert execute_request(instance, end).success
        assert not _tick(healing_sensor, instance, healed.cursor).run_requests
        assert not _tick(reconciler_sensor, instance).run_requests
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.failed and build.failure_class is FailureClass.worker_lost
    assert build.error.startswith("worker lost: the `mb build` process")
    assert "the rollback failed 2 times (last: the run failed)" in build.error
    assert (workspace / "half_written.py").exists()  # left as it was: the reason says so


def test_a_rollback_that_cannot_restore_the_workspace_ends_the_build_failed(mb_home, monkeypatch):
    env, build_id, workspace = _lost_build(monkeypatch)
    mark_base_commit(workspace, "0" * 40)  # the base the workspace should go back to is gone
    with instance_for_test() as instance:
        [rollback] = _tick(reconciler_sensor, instance).run_requests
        result = execute_request(instance, rollback)
        assert not result.success  # the run says the rollback did not work...
        build = env.store.get_build(build_id)
        # ...and the build is not left running: failed, with the reason and what went wrong.
        assert build.status == BuildStatus.failed and build.failure_class is FailureClass.worker_lost
        assert "the rollback could not restore the workspace" in build.error
        assert build.error.startswith("worker lost:")
        assert not _tick(healing_sensor, instance).run_requests
        assert not _tick(reconciler_sensor, instance).run_requests
    assert read_base_commit(workspace) == "0" * 40
