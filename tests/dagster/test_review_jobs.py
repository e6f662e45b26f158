"""Approve and reject from the UI: the review jobs on a real instance and a real store."""

from __future__ import annotations

import pytest
from dagster import build_sensor_context, instance_for_test

from mb_core.lifecycle import BuildEvent
from mb_core.models import ApprovalDecision, ApprovalGate, BuildRun, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_dagster.definitions import defs
from mb_dagster.release.sensors import approvals_sensor
from mb_dagster.resources import MetaBuilderResource


def _waiting_build(env: BuildEnvironment) -> str:
    """A build held at the gate, through the store's own transitions."""
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a ledger of payments with refunds",
                                    status=BuildStatus.running))
    env.store.put_gate(ApprovalGate(build_id=build_id, risk_score=70, threshold=50,
                                    decision=ApprovalDecision.pending, reason="risk 70 is at or above 50"))
    assert env.store.transition(build_id, BuildEvent.await_approval, expected={BuildStatus.running})
    return build_id


def _launch(instance, job: str, build_id: str, reviewer: str, comment: str = ""):
    op = "approve_build" if job == "approve_build_job" else "reject_build"
    return defs.resolve_job_def(job).execute_in_process(
        run_config={"ops": {op: {"config": {"reviewer": reviewer, "comment": comment}}}},
        instance=instance, partition_key=build_id, raise_on_error=False)


def _failure_line(result) -> str:
    """What the UI shows as the failure: the Failure's description."""
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the run did not fail"
    return failures[0].step_failure_data.user_failure_data.description


@pytest.fixture
def env(mb_home) -> BuildEnvironment:
    return BuildEnvironment.open(Settings.from_env())


def test_approve_job_records_who_when_and_why_and_the_sensor_releases(env):
    build_id = _waiting_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        result = _launch(instance, "approve_build_job", build_id, "ana", "checked the refunds")
        assert result.success
        gate = env.store.get_gate(build_id)
        assert (gate.decision, gate.decided_by, gate.reason) == (
            ApprovalDecision.approved, "ana", "checked the refunds")
        assert gate.decided_at is not None
        assert env.store.get_build(build_id).status == BuildStatus.approved
        # The release follows as after `mb approve --no-release`: the approvals sensor claims it.
        claimed = approvals_sensor(build_sensor_context(instance=instance,
                                                        resources={"mb": MetaBuilderResource()}))
        assert [r.partition_key for r in claimed.run_requests] == [build_id]
        assert claimed.run_requests[0].tags["mb/title"] == "Build a ledger of payments with refunds"


def test_reject_job_records_the_rejection(env):
    build_id = _waiting_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        assert _launch(instance, "reject_build_job", build_id, "ben", "no refunds audit").success
    gate = env.store.get_gate(build_id)
    assert (gate.decision, gate.decided_by, gate.reason) == (ApprovalDecision.rejected, "ben",
                                                             "no refunds audit")
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.rejected and "ben" in build.error


def test_bad_config_fails_the_run_in_one_line_and_changes_nothing(env):
    build_id = _waiting_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        blank = _launch(instance, "approve_build_job", build_id, "   ")
        assert not blank.success
        assert _failure_line(blank) == "a reviewer's name is required (config: reviewer)"
        assert env.store.get_gate(build_id).decision == ApprovalDecision.pending
        assert env.store.get_build(build_id).status == BuildStatus.awaiting_approval

        assert _launch(instance, "approve_build_job", build_id, "ana").success
        before = env.store.get_gate(build_id)
        again = _launch(instance, "reject_build_job", build_id, "ben", "too late")
        assert not again.success
        line = _failure_line(again)
        assert line == f"build {build_id} was already approved by ana" and "\n" not in line
        assert env.store.get_gate(build_id) == before
        assert env.store.get_build(build_id).status == BuildStatus.approved


def test_a_build_not_at_the_gate_is_refused_before_any_write(env):
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks",
                                    status=BuildStatus.running))
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        result = _launch(instance, "approve_build_job", build_id, "ana")
    assert not result.success
    assert _failure_line(result) == f"build {build_id} is running, not waiting for approval"
    assert env.store.get_gate(build_id) is None
    assert env.store.get_build(build_id).status == BuildStatus.running


def test_a_release_run_that_never_started_is_asked_for_again_a_few_times(env):
    from dagster import DagsterRunStatus

    from mb_dagster.healing.requests import MAX_RELEASE_LAUNCHES

    build_id = _waiting_build(env)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("builds", [build_id])
        assert _launch(instance, "approve_build_job", build_id, "ana", "fine").success

        def tick():
            return approvals_sensor(build_sensor_context(instance=instance,
                                                         resources={"mb": MetaBuilderResource()}))

        keys = []
        for _ in range(MAX_RELEASE_LAUNCHES):
            [request] = tick().run_requests
            assert request.run_key not in keys  # a new launch, not the spent key
            keys.append(request.run_key)
            # The launch fails before the run claims the build (a code server that timed out).
            run = instance.create_run_for_job(defs.resolve_job_def("release_job"),
                                              tags={**request.tags, "dagster/partition": build_id})
            instance.report_run_failed(run)
            assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
            assert env.store.get_build(build_id).status == BuildStatus.approved
        assert keys[0] == f"release:{build_id}:{env.store.get_build(build_id).attempt}"
        spent = tick()
        assert not spent.run_requests and "failed to start" in spent.skip_reason.skip_message
        assert env.store.get_build(build_id).status == BuildStatus.approved  # nothing written
