"""The repair ladder: Retry -> Patch -> Re-plan -> Rollback, as one pure decision.

Every driver (the CLI's in-process loop, the Dagster sensors, the reconciler) gathers the same
inputs and asks `next_phase`; none decides on its own. Each failure class climbs only the rungs that
can help it (a transient provider error is retried, failing tests are patched, a plan that cannot be
built is re-planned), each rung a bounded number of times, and whatever is left ends in a rollback.
Safety violations and refused specs are never retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mb_core.models import BreakerState, FailureClass, Model, RepairPhase

F, P = FailureClass, RepairPhase

# The rungs each class may climb, in order; an empty ladder goes straight to rollback.
RUNGS: dict[FailureClass, tuple[RepairPhase, ...]] = {
    F.llm_transient: (P.retry,),
    F.llm_invalid_output: (P.retry, P.replan),  # another sample may parse; else ask for less
    F.diff_apply: (P.retry, P.replan),
    F.tests_failed: (P.patch, P.replan),
    F.requirement_unmet: (P.replan,),  # the plan lacks it: patching the code cannot add it
    F.sandbox_error: (P.retry,),
    F.worker_lost: (P.retry,),
    F.safety_violation: (),
    F.spec_refused: (),
    F.budget_exceeded: (),
    F.awaiting_approval: (),  # not a fault: the build waits for a person
}

NEVER_RETRIED = frozenset({F.safety_violation, F.spec_refused})


class RungLimits(Model):
    """How many times each rung may run for one build."""

    retry: int = Field(default=2, ge=0)
    patch: int = Field(default=2, ge=0)
    replan: int = Field(default=1, ge=0)

    def of(self, phase: RepairPhase) -> int:
        return getattr(self, phase.value)


class BudgetLeft(Model):
    """What the build may still spend; None is unlimited."""

    attempts: int
    tokens: int | None = None
    seconds: float | None = None
    cost_usd: float | None = None

    def spent(self) -> str | None:
        if self.attempts <= 0:
            return "no attempts left"
        for name, left, unit in (("token", self.tokens, " tokens"), ("time", self.seconds, " s"),
                                 ("cost", self.cost_usd, " USD")):
            if left is not None and left <= 0:
                return f"{name} budget spent ({left:g}{unit} left)"
        return None


class LadderInput(Model):
    failure: FailureClass
    reason: str = ""  # the failure's one line
    attempts: dict[RepairPhase, int] = Field(default_factory=dict)  # rungs already run, per phase
    budget: BudgetLeft
    breaker: BreakerState = BreakerState.closed
    breaker_reopens_at: datetime | None = None  # when an open breaker lets a trial through
    limits: RungLimits = Field(default_factory=RungLimits)


class Decision(Model):
    phase: RepairPhase | Literal["wait"]
    reason: str


def next_phase(state: LadderInput) -> Decision:
    """The next rung for a failed attempt, and why."""
    failure = state.failure
    what = failure.value.replace("_", " ")
    if failure is F.awaiting_approval:
        return Decision(phase="wait", reason="the build waits for an approval; nothing to repair")
    if failure in NEVER_RETRIED:
        return Decision(phase=P.rollback, reason=f"{what} is never retried: rolled back")
    if failure is F.budget_exceeded:
        return Decision(phase=P.rollback, reason="the budget is spent: rolled back")
    if state.breaker is BreakerState.open:
        until = f" until {state.breaker_reopens_at:%Y-%m-%d %H:%M:%S} UTC" if state.breaker_reopens_at else ""
        return Decision(phase=P.rollback,
                        reason=f"circuit breaker {failure.value} is open{until}: failing fast")
    spent = state.budget.spent()
    if spent:
        return Decision(phase=P.rollback, reason=f"{what}, and {spent}: rolled back")
    for rung in RUNGS[failure]:
        used = state.attempts.get(rung, 0)
        limit = state.limits.of(rung)
        if used < limit:
            trial = " (half-open breaker: one trial)" if state.breaker is BreakerState.half_open else ""
            return Decision(phase=rung, reason=f"{what}: {rung.value} {used + 1} of {limit}{trial}")
    tried = ", ".join(f"{r.value} x{state.attempts.get(r, 0)}" for r in RUNGS[failure]) or "nothing"
    return Decision(phase=P.rollback, reason=f"{what} after {tried}: rolled back")
