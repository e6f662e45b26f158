"""How the healing sensor reads a finished run that failed: a run that failed with no step failing
(its Celery worker died; run monitoring marked it failed) is a lost worker and is retried; a step
that failed with an error no rung knows still ends the build. Real runs on a real test instance."""

from __future__ import annotations

from dagster import instance_for_test, job, op

from mb_core.models import BuildRun, BuildStatus, FailureClass
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_dagster.healing.judge import judge_events, run_events


@op
def broken_step():
    raise RuntimeError("a bug in the step")


@job
def one_step_job():
    broken_step()


@op
def step_losing_its_database():
    import sqlalchemy

    # A real driver error: nothing listens on port 1, as when the server is restarting.
    sqlalchemy.create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/postgres").connect()


@job
def database_lost_job():
    step_losing_its_database()


def _build(env) -> str:
    env.store.create_build(BuildRun(id="bjudge1", spec_text="Build a todo app with tasks",
                                    status=BuildStatus.running))
    return "bjudge1"


def test_a_run_failed_under_no_step_is_a_lost_worker(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _build(env)
    with instance_for_test() as instance:
        run = instance.create_run_for_job(job_def=one_step_job)
        instance.report_run_failed(run, message="Celery task failed.")  # what run monitoring writes
        outcome = judge_events(env, build_id, 1, run_events(instance, run.run_id), success=False)
    assert outcome.failure is FailureClass.worker_lost
    assert outcome.reason.startswith("worker lost: ")


def test_a_step_failing_with_an_unknown_error_is_not_called_a_lost_worker(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _build(env)
    with instance_for_test() as instance:
        result = one_step_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        outcome = judge_events(env, build_id, 1, run_events(instance, result.run_id), success=False)
    assert outcome.failure is None
    assert "a bug in the step" in outcome.reason


def test_a_failed_run_that_another_run_already_follows_is_left_alone(mb_home):
    # The reconciler found the dead worker first and requested the next attempt: the healing
    # sensor must not request a second one for the same failure.
    from dagster import RunsFilter

    from mb_dagster.definitions import defs
    from mb_dagster.healing.sensors import judge_finished_run

    env = BuildEnvironment.open(Settings.from_env())
    build_id = _build(env)
    build_job = defs.resolve_job_def("build_job")
    tags = {"mb/build": build_id, "mb/attempt": "1", "mb/driver": "sensor"}
    with instance_for_test() as instance:
        failed = instance.create_run_for_job(job_def=build_job, tags=tags)
        instance.report_run_failed(failed, message="Celery task failed.")
        [record] = instance.get_run_records(RunsFilter(run_ids=[failed.run_id]))
        request, why = judge_finished_run(env, instance, record)
        assert request is not None and why.startswith("worker lost: ")  # alone, it is retried
        follower = instance.create_run_for_job(job_def=build_job, tags=tags)
        request, why = judge_finished_run(env, instance, record)
    assert request is None
    assert why == f"run {follower.run_id[:8]} already follows it"


def test_a_step_whose_database_went_away_is_retried_with_a_clear_reason(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = _build(env)
    with instance_for_test() as instance:
        result = database_lost_job.execute_in_process(instance=instance, raise_on_error=False)
        outcome = judge_events(env, build_id, 1, run_events(instance, result.run_id), success=False)
    assert outcome.failure is FailureClass.worker_lost
    assert outcome.reason.startswith("the database connection was lost mid-step (connection to server")
    assert "Connection refused" in outcome.reason and "\n" not in outcome.reason
