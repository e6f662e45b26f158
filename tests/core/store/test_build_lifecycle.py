"""The store enforces the lifecycle and keeps the healing records, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from mb_core.errors import InvalidState
from mb_core.lifecycle import IllegalTransition
from mb_core.models import (
    AttemptOutcome,
    BreakerState,
    BuildRun,
    BuildStatus,
    FailureClass,
    RepairPhase,
    RunBudget,
    StepStatus,
)
from mb_core.store.repairs import UnknownBreaker


def test_a_build_starts_submitted_or_running_at_attempt_one(store):
    with pytest.raises(IllegalTransition, match="^a build starts as running or submitted, not released$"):
        store.create_build(BuildRun(id="b1", spec_text="x", status=BuildStatus.released))
    assert store.list_builds() == []
    made = store.create_build(BuildRun(id="b1", spec_text="x"))
    assert (made.status, made.attempt, made.failure_class) == (BuildStatus.submitted, 1, None)


def test_an_illegal_event_raises_and_changes_nothing(store, add_build):
    add_build("b1")
    with pytest.raises(IllegalTransition, match="^a submitted build cannot release"):
        store.transition("b1", "release")
    with pytest.raises(IllegalTransition, match="^a submitted build cannot become released$"):
        store.set_status("b1", BuildStatus.released)
    assert store.get_build("b1").status is BuildStatus.submitted


def test_expected_statuses_the_table_forbids_are_refused_before_anything_moves(store, add_build):
    add_build("b1")
    with pytest.raises(IllegalTransition, match="cannot release"):
        store.transition("b1", "release", expected={BuildStatus.submitted})
    with pytest.raises(IllegalTransition, match="^a submitted build cannot become approved$"):
        store.set_status("b1", BuildStatus.approved, expected={BuildStatus.running, BuildStatus.submitted})
    assert store.get_build("b1").status is BuildStatus.submitted


def test_a_lost_race_is_false_not_an_error(store, add_build):
    add_build("b1")
    store.transition("b1", "claim")
    store.transition("b1", "cancel")
    assert store.transition("b1", "fail", expected={BuildStatus.running}) is False
    assert store.get_build("b1").status is BuildStatus.cancelled
    with pytest.raises(IllegalTransition, match="^a cancelled build cannot fail"):
        store.transition("b1", "fail")


def test_retry_raises_the_attempt_and_steps_carry_it(store, add_build):
    add_build("b1", status=BuildStatus.running)
    store.start_step("b1", "diff")
    store.finish_step("b1", "diff", StepStatus.failed, detail="git apply refused",
                      failure_class=FailureClass.diff_apply)
    assert store.transition("b1", "retry", failure_class="diff_apply") is True
    build = store.get_build("b1")
    assert (build.status, build.attempt, build.failure_class) == (
        BuildStatus.running, 2, FailureClass.diff_apply)
    store.start_step("b1", "diff")
    store.finish_step("b1", "diff", StepStatus.succeeded)
    steps = store.list_steps("b1")
    assert [(s.attempt, s.status, s.failure_class) for s in steps] == [
        (1, StepStatus.failed, FailureClass.diff_apply), (2, StepStatus.succeeded, None)]


def test_a_succeeded_step_has_no_failure_class(store, add_build):
    add_build("b1", status=BuildStatus.running)
    store.start_step("b1", "plan")
    with pytest.raises(Exception, match="only a failed step has a failure class"):
        store.finish_step("b1", "plan", StepStatus.succeeded, failure_class="tests_failed")


def test_rerun_starts_a_new_attempt_and_forgets_the_failure(store, add_build):
    add_build("b1", status=BuildStatus.running)
    store.transition("b1", "fail", error="tests failed", failure_class="tests_failed")
    store.set_status("b1", BuildStatus.running, error="", expected={BuildStatus.failed})
    build = store.get_build("b1")
    assert (build.status, build.attempt, build.failure_class, build.error) == (
        BuildStatus.running, 2, None, None)


def test_roll_back_after_a_failure_keeps_the_reason(store, add_build):
    add_build("b1", status=BuildStatus.running)
    store.transition("b1", "fail", error="safety: path escape", failure_class="safety_violation")
    store.transition("b1", "roll_back")
    build = store.get_build("b1")
    assert (build.status, build.error, build.failure_class) == (
        BuildStatus.rolled_back, "safety: path escape", FailureClass.safety_violation)


def test_repair_attempts_charge_the_run_budget_once(store, add_build, clock):
    add_build("b1", status=BuildStatus.running)
    store.put_budget(RunBudget(build_id="b1", max_attempts=4, max_seconds=900))
    first = store.start_attempt("b1", RepairPhase.build)
    clock.advance(30)
    closed, charged = store.finish_attempt("b1", first.attempt, AttemptOutcome.failed,
                                           failure_class="tests_failed", cost_usd=0.02, tokens=1500)
    assert charged and closed.seconds == 30 and closed.failure_class is FailureClass.tests_failed
    clock.advance(5)
    # The reconciler noticing the same attempt again charges nothing.
    _, again = store.finish_attempt("b1", first.attempt, AttemptOutcome.failed)
    assert again is False
    budget = store.get_budget("b1")
    assert (budget.running_seconds, budget.attempts_used) == (30, 1)

    with pytest.raises(InvalidState, match="already has a record of attempt 1"):
        store.start_attempt("b1", RepairPhase.retry)
    store.transition("b1", "retry")
    clock.advance(100)  # waiting in a queue between attempts is not running time
    second = store.start_attempt("b1", RepairPhase.patch, reason="tests failed: patch them")
    clock.advance(12)
    store.finish_attempt("b1", second.attempt, AttemptOutcome.succeeded)
    assert [(a.attempt, a.phase, a.outcome) for a in store.list_attempts("b1")] == [
        (1, RepairPhase.build, AttemptOutcome.failed), (2, RepairPhase.patch, AttemptOutcome.succeeded)]
    assert store.get_budget("b1").running_seconds == 42
    # Changing the limits keeps what was used.
    store.put_budget(RunBudget(build_id="b1", max_attempts=6))
    budget = store.get_budget("b1")
    assert (budget.max_attempts, budget.max_seconds, budget.attempts_used) == (6, None, 2)


def test_a_lost_attempt_is_charged_once_up_to_when_its_worker_was_last_seen(store, add_build, clock):
    add_build("b1", status=BuildStatus.running)
    store.put_budget(RunBudget(build_id="b1", max_attempts=4))
    lost = store.start_attempt("b1", RepairPhase.build)
    last_seen = clock.advance(40)
    clock.advance(600)  # the worker is dead; the reconciler notices ten minutes later
    closed, charged = store.finish_attempt("b1", lost.attempt, AttemptOutcome.failed,
                                           failure_class="worker_lost", ended_at=last_seen)
    assert charged and closed.seconds == 40 and closed.finished_at == last_seen
    clock.advance(60)
    _, again = store.finish_attempt("b1", lost.attempt, AttemptOutcome.failed, failure_class="worker_lost",
                                    ended_at=clock.now)
    assert again is False
    assert (store.get_budget("b1").running_seconds, store.get_budget("b1").attempts_used) == (40, 1)
    # An end before the start or in the future is held to the attempt's span.
    store.transition("b1", "retry")
    second = store.start_attempt("b1", RepairPhase.retry)
    clock.advance(7)
    early, _ = store.finish_attempt("b1", second.attempt, AttemptOutcome.failed, ended_at=lost.started_at)
    assert early.seconds == 0
    assert store.get_budget("b1").running_seconds == 40


def test_breakers_are_shared_and_reset(store, open_store, clock):
    other = open_store()
    other.update_breaker("tests_failed", increment={"fail_counter": 1})
    store.update_breaker("tests_failed", increment={"fail_counter": 1})
    store.update_breaker("tests_failed", state=BreakerState.open, opened_at=clock.now)
    seen = other.get_breaker("tests_failed")
    assert (seen.state, seen.fail_counter, seen.opened_at) == (BreakerState.open, 2, clock.now)
    reset = store.reset_breaker("tests_failed")
    assert (reset.state, reset.fail_counter, reset.opened_at) == (BreakerState.closed, 0, None)
    assert store.reset_breaker("diff_apply", known=frozenset({"diff_apply"})).state is BreakerState.closed


def test_resetting_an_unknown_breaker_is_one_line_and_changes_nothing(store):
    store.update_breaker("tests_failed", increment={"fail_counter": 3})
    with pytest.raises(UnknownBreaker, match=r"^no circuit breaker named 'nope' \(breakers: diff_apply\)$"):
        store.reset_breaker("nope", known=frozenset({"diff_apply"}))
    assert [b.name for b in store.list_breakers()] == ["tests_failed"]
    assert store.get_breaker("tests_failed").fail_counter == 3


def test_chaos_events_are_resolved_per_build_and_outlive_it(store, add_build):
    add_build("b1", status=BuildStatus.running)
    add_build("b2", status=BuildStatus.running)
    store.record_chaos_event("b1", 1, "provider", "http_429", seed=7)
    store.record_chaos_event("b1", 2, "codegen", "semantic", seed=7)
    store.record_chaos_event("b2", 1, "provider", "http_429", seed=8)
    assert store.resolve_chaos_events("b1", True, "patch") == 2
    assert store.resolve_chaos_events("b1", False, "again") == 0  # already resolved
    store.delete_build("b1")
    assert store.chaos_stats() == {
        "codegen/semantic": {"injected": 1, "recovered": 1, "not_recovered": 0, "open": 0},
        "provider/http_429": {"injected": 2, "recovered": 1, "not_recovered": 0, "open": 1},
    }
