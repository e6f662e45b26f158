"""The repair ladder's decision for every failure class in every state, written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mb_core.ladder import BudgetLeft, LadderInput, RungLimits, next_phase
from mb_core.models import BreakerState, FailureClass, RepairPhase

LIMITS = RungLimits(retry=2, patch=2, replan=1)
FULL = {RepairPhase.retry: 2, RepairPhase.patch: 2, RepairPhase.replan: 1}

# state name -> (attempts per phase, budget left, breaker)
STATES = {
    "fresh": ({}, BudgetLeft(attempts=3), BreakerState.closed),
    "retried_out": ({RepairPhase.retry: 2}, BudgetLeft(attempts=3), BreakerState.closed),
    "patched_out": ({RepairPhase.patch: 2}, BudgetLeft(attempts=3), BreakerState.closed),
    "replanned_out": ({RepairPhase.replan: 1}, BudgetLeft(attempts=3), BreakerState.closed),
    "all_out": (FULL, BudgetLeft(attempts=3), BreakerState.closed),
    "no_attempts": ({}, BudgetLeft(attempts=0), BreakerState.closed),
    "no_time": ({}, BudgetLeft(attempts=3, seconds=0.0), BreakerState.closed),
    "no_tokens": ({}, BudgetLeft(attempts=3, tokens=0), BreakerState.closed),
    "no_money": ({}, BudgetLeft(attempts=3, cost_usd=0.0), BreakerState.closed),
    "open": ({}, BudgetLeft(attempts=3), BreakerState.open),
    "half_open": ({}, BudgetLeft(attempts=3), BreakerState.half_open),
}

# One row per class; columns in the order of STATES. R=retry P=patch Q=replan B=rollback W=wait
TABLE = """
class               fresh retried_out patched_out replanned_out all_out no_attempts no_time no_tokens no_money open half_open
llm_transient       R     B           R           R             B       B           B       B         B        B    R
llm_invalid_output  R     Q           R           R             B       B           B       B         B        B    R
diff_apply          R     Q           R           R             B       B           B       B         B        B    R
tests_failed        P     P           Q           P             B       B           B       B         B        B    P
requirement_unmet   Q     Q           Q           B             B       B           B       B         B        B    Q
sandbox_error       R     B           R           R             B       B           B       B         B        B    R
worker_lost         R     B           R           R             B       B           B       B         B        B    R
safety_violation    B     B           B           B             B       B           B       B         B        B    B
spec_refused        B     B           B           B             B       B           B       B         B        B    B
budget_exceeded     B     B           B           B             B       B           B       B         B        B    B
awaiting_approval   W     W           W           W             W       W           W       W         W        W    W
"""

LETTERS = {"R": RepairPhase.retry, "P": RepairPhase.patch, "Q": RepairPhase.replan,
           "B": RepairPhase.rollback, "W": "wait"}


def _cases():
    header, *rows = [line.split() for line in TABLE.strip().splitlines()]
    assert header[1:] == list(STATES)
    for row in rows:
        for state, letter in zip(header[1:], row[1:], strict=True):
            yield pytest.param(FailureClass(row[0]), state, LETTERS[letter], id=f"{row[0]}-{state}")


def test_the_table_covers_every_class():
    assert {FailureClass(line.split()[0]) for line in TABLE.strip().splitlines()[1:]} == set(FailureClass)


@pytest.mark.parametrize(("failure", "state", "expected"), list(_cases()))
def test_next_phase(failure, state, expected):
    attempts, budget, breaker = STATES[state]
    decision = next_phase(LadderInput(failure=failure, attempts=attempts, budget=budget,
                                      breaker=breaker, limits=LIMITS))
    assert decision.phase == expected
    assert decision.reason


def test_reasons_say_why():
    def reason(**kw):
        kw.setdefault("budget", BudgetLeft(attempts=3))
        return next_phase(LadderInput(limits=LIMITS, **kw)).reason

    assert reason(failure=FailureClass.safety_violation) == "safety violation is never retried: rolled back"
    assert reason(failure=FailureClass.tests_failed, attempts={RepairPhase.patch: 1}) == (
        "tests failed: patch 2 of 2")
    assert reason(failure=FailureClass.tests_failed, attempts=FULL) == (
        "tests failed after patch x2, replan x1: rolled back")
    assert reason(failure=FailureClass.sandbox_error, budget=BudgetLeft(attempts=2, seconds=-3)) == (
        "sandbox error, and time budget spent (-3 s left): rolled back")
    assert reason(failure=FailureClass.llm_transient, breaker=BreakerState.open,
                  breaker_reopens_at=datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)) == (
        "circuit breaker llm_transient is open until 2026-05-01 12:00:30 UTC: failing fast")
    assert reason(failure=FailureClass.llm_transient, breaker=BreakerState.half_open).endswith(
        "(half-open breaker: one trial)")


def test_healing_off_is_a_ladder_without_rungs():
    off = RungLimits(retry=0, patch=0, replan=0)
    for failure in FailureClass:
        decision = next_phase(LadderInput(failure=failure, budget=BudgetLeft(attempts=3), limits=off))
        assert decision.phase == ("wait" if failure is FailureClass.awaiting_approval else RepairPhase.rollback)
