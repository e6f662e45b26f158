"""The gate approves a build inside its build run's eval_report step; the run then goes on with
the blocking quality checks. The approvals sensor asks for the release only once that run ended,
so no release run (on another Celery worker) writes the artifact beside a build run still going.

A real store and a real Dagster instance; the build run is a run record in that instance."""

from __future__ import annotations

from dagster import DagsterEvent, DagsterEventType, DagsterRunStatus, build_sensor_context, instance_for_test
from dagster._core.test_utils import create_run_for_test

from mb_core.lifecycle import BuildEvent
from mb_core.models import BuildRun, BuildStatus
from mb_core.store import new_build_id
from mb_dagster.release.sensors import approvals_sensor
from mb_dagster.resources import MetaBuilderResource


def _tick(instance):
    return approvals_sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()}))


def _approved_build(env) -> str:
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks"))
    assert env.store.transition(build_id, BuildEvent.claim, expected={BuildStatus.submitted})
    assert env.store.transition(build_id, BuildEvent.auto_approve, expected={BuildStatus.running})
    return build_id


def _run(instance, build_id: str, job_name: str, attempt: int, status: DagsterRunStatus):
    return create_run_for_test(instance, job_name=job_name, status=status,
                               tags={"mb/build": build_id, "mb/attempt": str(attempt), "mb/driver": "sensor"})


def test_the_release_is_asked_for_once_the_build_run_that_approved_it_ended(mb_home):
    env = MetaBuilderResource().environment()
    build_id = _approved_build(env)
    with instance_for_test() as instance:
        build_run = _run(instance, build_id, "build_job", 1, DagsterRunStatus.STARTED)
        waiting = _tick(instance)
        assert not waiting.run_requests
        assert "waits for its build run" in waiting.skip_reason.skip_message

        # Its end lets the release go.
        instance.report_dagster_event(DagsterEvent(event_type_value=DagsterEventType.RUN_SUCCESS.value,
                                                   job_name="build_job"), run_id=build_run.run_id)
        assert instance.get_run_by_id(build_run.run_id).status == DagsterRunStatus.SUCCESS
        assert [r.run_key for r in _tick(instance).run_requests] == [f"release:{build_id}:1"]
        assert env.store.get_build(build_id).status == BuildStatus.approved  # the sensor only reads


def test_runs_of_an_earlier_attempt_or_other_jobs_do_not_hold_the_release(mb_home):
    env = MetaBuilderResource().environment()
    build_id = _approved_build(env)
    with instance_for_test() as instance:
        _run(instance, build_id, "build_job", 0, DagsterRunStatus.STARTED)  # not the current attempt
        _run(instance, build_id, "release_job", 1, DagsterRunStatus.STARTED)
        assert [r.run_key for r in _tick(instance).run_requests] == [f"release:{build_id}:1"]
