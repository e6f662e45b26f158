"""The run SLO checked before every LLM call: the pure breach rule, and the guard a step uses
over a real store (the running attempt's time counts up to each call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mb_core.ladder import BudgetLeft, LadderInput, next_phase
from mb_core.models import BuildRun, BuildStatus, FailureClass, RepairPhase, RunBudget
from mb_core.slo import run_budget_breach, run_budget_guard
from mb_core.store import Store


def _budget(**limits) -> RunBudget:
    return RunBudget(build_id="b1", max_attempts=4, **limits)


@pytest.mark.parametrize(("limits", "spent", "expected"), [
    ({}, (10**9, 10**6, 10**6, 0), None),  # unlimited stays unlimited
    ({"max_tokens": 1000}, (999, 0, 0, 0), None),
    ({"max_tokens": 1000}, (1000, 0, 0, 0), "token budget spent: 1,000 of 1,000 tokens used"),
    ({"max_tokens": 1000}, (900, 0, 0, 101), "token budget too small for the next call: about 101"),
    ({"max_tokens": 1000}, (900, 0, 0, 100), None),
    ({"max_cost_usd": 0.01}, (0, 0.0099, 0, 0), None),
    ({"max_cost_usd": 0.01}, (0, 0.01, 0, 0), "cost budget spent: $0.0100 of $0.0100 used"),
    ({"max_seconds": 60.0}, (0, 0, 59.9, 0), None),
    ({"max_seconds": 60.0}, (0, 0, 60.0, 0), "time budget spent: 60.0 s of 60 s of running time"),
])
def test_the_breach_rule(limits, spent, expected):
    tokens, cost, seconds, next_tokens = spent
    reason = run_budget_breach(_budget(**limits), tokens, cost, seconds, next_tokens)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected), reason


def test_a_breach_rolls_the_build_back():
    decision = next_phase(LadderInput(failure=FailureClass.budget_exceeded, budget=BudgetLeft(attempts=3)))
    assert decision.phase is RepairPhase.rollback


def test_the_guard_counts_closed_attempts_and_the_running_one_up_to_the_call(tmp_path):
    now = [datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)]
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}", clock=lambda: now[0])
    store.migrate()
    store.create_build(BuildRun(id="b1", spec_text="contacts and deals", status=BuildStatus.running))
    store.put_budget(_budget(max_seconds=100.0, max_tokens=5000))
    store.start_attempt("b1", RepairPhase.build)
    now[0] += timedelta(seconds=70)
    store.finish_attempt("b1", 1, "failed", failure_class="tests_failed")  # 70 s charged
    store.transition("b1", "retry", expected={BuildStatus.running})
    store.start_attempt("b1", RepairPhase.patch)
    guard = run_budget_guard(store, "b1", clock=lambda: now[0])
    assert guard(100, 0.0) is None  # 70 s + 0 s so far
    now[0] += timedelta(seconds=29)
    assert guard(100, 0.0) is None
    now[0] += timedelta(seconds=1)
    assert guard(100, 0.0).startswith("time budget spent: 100.0 s of 100 s")
    assert guard(5000, 0.0).startswith("token budget spent")


def test_the_guard_of_a_build_without_a_budget_row_reads_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("META_BUILDER_TOKEN_BUDGET", "50")
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.create_build(BuildRun(id="b2", spec_text="contacts and deals", status=BuildStatus.running))
    guard = run_budget_guard(store, "b2")
    assert guard(10, 0.0) is None
    assert "META_BUILDER_TOKEN_BUDGET" in guard(10, 0.0, next_prompt_tokens=41)
