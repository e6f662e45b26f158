from __future__ import annotations

import pytest

from mb_core.metering import Budget
from mb_core.scheduling import TenantBudgetSpent, admission_refusal, admit


def used(calls=0, tokens=0, cost=0.0):
    return {"roles": {}, "total": {"calls": calls, "total_tokens": tokens, "cost_usd": cost}}


def test_room_left_admits():
    assert admission_refusal("acme", Budget(), used(99, 10**9, 1e6)) is None
    assert admission_refusal("acme", Budget(max_cost_usd=1.0), used(cost=0.5), 0.2) is None


@pytest.mark.parametrize(("budget", "spent", "estimate", "expected"), [
    (Budget(max_calls=10), used(calls=10), 0.0, "tenant acme has spent its call budget (10 of 10 LLM calls)"),
    (Budget(max_tokens=1000), used(tokens=1200), 0.0, "tenant acme has spent its token budget (1,200 of 1,000 tokens)"),
    (Budget(max_cost_usd=2.0), used(cost=2.0), 0.0, "tenant acme has spent its cost budget ($2.0000 of $2.0000)"),
    (Budget(max_cost_usd=2.0), used(cost=1.9), 0.35,
     "tenant acme has $0.1000 of its cost budget left, less than the next build's estimated $0.3500"),
])
def test_a_spent_budget_refuses_with_the_reason(budget, spent, estimate, expected):
    assert admission_refusal("acme", budget, spent, estimate) == expected
    with pytest.raises(TenantBudgetSpent) as caught:
        admit("acme", budget, spent, estimate)
    assert str(caught.value) == f"not queued: {expected} (raise MB_TENANT_BUDGET_*)"
