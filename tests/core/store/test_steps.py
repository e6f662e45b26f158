from __future__ import annotations

import pytest

from mb_core.errors import InvalidState, UnknownBuild
from mb_core.models import BuildStep, StepStatus
from mb_core.store import InvalidRecord


def test_start_and_finish_compute_seconds(store, add_build, clock):
    add_build("b1")
    started = store.start_step("b1", "spec")
    assert started == BuildStep(build_id="b1", name="spec", status=StepStatus.running, started_at=clock.now)
    began = clock.now
    clock.advance(2.5)
    done = store.finish_step("b1", "spec", StepStatus.succeeded, detail="3 entities")
    assert done.status is StepStatus.succeeded
    assert done.started_at == began
    assert done.finished_at == clock.now
    assert done.seconds == pytest.approx(2.5)
    assert done.detail == "3 entities"
    assert done.finished_at.tzinfo is not None
    assert store.list_steps("b1") == [done]


def test_list_steps_in_start_order(store, add_build, clock):
    add_build("b1")
    for name in ("spec", "plan", "diff"):
        store.start_step("b1", name)
        clock.advance(1)
        store.finish_step("b1", name, "succeeded")
    store.start_step("b1", "eval_report")
    steps = store.list_steps("b1")
    assert [s.name for s in steps] == ["spec", "plan", "diff", "eval_report"]
    assert [s.status for s in steps] == [StepStatus.succeeded] * 3 + [StepStatus.running]
    assert steps[-1].finished_at is None and steps[-1].seconds is None


def test_finish_failed_step(store, add_build, clock):
    add_build("b1")
    store.start_step("b1", "eval_report")
    clock.advance(4)
    failed = store.finish_step("b1", "eval_report", "failed", detail="2 tests failed")
    assert (failed.status, failed.seconds, failed.detail) == (StepStatus.failed, 4.0, "2 tests failed")


def test_finish_without_a_running_step(store, add_build):
    add_build("b1")
    with pytest.raises(InvalidState, match="^build b1 has no running step named plan$"):
        store.finish_step("b1", "plan", StepStatus.succeeded)
    store.start_step("b1", "plan")
    store.finish_step("b1", "plan", StepStatus.succeeded)
    with pytest.raises(InvalidState, match="no running step named plan"):
        store.finish_step("b1", "plan", StepStatus.failed)


def test_finish_refuses_running_or_unknown_status(store, add_build):
    add_build("b1")
    store.start_step("b1", "plan")
    with pytest.raises(InvalidRecord, match="not running"):
        store.finish_step("b1", "plan", StepStatus.running)
    with pytest.raises(InvalidRecord, match="unknown step status 'ok'"):
        store.finish_step("b1", "plan", "ok")
    assert store.list_steps("b1")[0].status is StepStatus.running


def test_restarting_a_step_closes_the_stale_one(store, add_build, clock):
    add_build("b1")
    store.start_step("b1", "diff")
    clock.advance(30)
    store.start_step("b1", "diff")  # a re-run after a lost worker
    clock.advance(5)
    store.finish_step("b1", "diff", StepStatus.succeeded)
    first, second = store.list_steps("b1")
    assert first.status is StepStatus.failed
    assert first.seconds == 30.0
    assert "superseded" in first.detail
    assert (second.status, second.seconds) == (StepStatus.succeeded, 5.0)


def test_step_names_are_checked(store, add_build):
    add_build("b1")
    for bad in ("", "   ", "x" * 129):
        with pytest.raises(InvalidRecord, match="step name"):
            store.start_step("b1", bad)
    assert store.list_steps("b1") == []


def test_steps_of_unknown_build(store):
    for call in (
        lambda: store.start_step("nope", "spec"),
        lambda: store.finish_step("nope", "spec", StepStatus.succeeded),
        lambda: store.list_steps("nope"),
    ):
        with pytest.raises(UnknownBuild, match="^no build named nope$"):
            call()
