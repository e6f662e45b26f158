"""A build's meter continues from what the store recorded in earlier steps."""

from __future__ import annotations

import pytest

from mb_core.agents.base import AgentRequest, AgentRole
from mb_core.errors import BudgetExceeded, InvalidSettings
from mb_core.metering import Budget, Meter

TOTALS = {
    "roles": {"codegen": {"calls": 2, "prompt_tokens": 900, "completion_tokens": 100,
                          "total_tokens": 1000, "cost_usd": 0.5}},
    "total": {"calls": 2, "prompt_tokens": 900, "completion_tokens": 100, "total_tokens": 1000,
              "cost_usd": 0.5},
}
REQUEST = AgentRequest(role=AgentRole.devops, output_schema="X", system="s", prompt="p", payload={})


def test_resumed_meter_counts_earlier_usage_against_the_budget():
    meter = Meter.from_usage_totals(TOTALS, Budget(max_tokens=1500))
    assert meter.summary()["by_role"]["codegen"]["total_tokens"] == 1000
    assert meter.remaining()["tokens"] == 500
    meter.check(REQUEST)
    with pytest.raises(BudgetExceeded, match="call budget spent: 2 of 2 LLM calls made; devops"):
        Meter.from_usage_totals(TOTALS, Budget(max_calls=2)).check(REQUEST)


def test_tenant_budget_reads_its_own_variables():
    budget = Budget.from_env({"MB_TENANT_BUDGET_USD": "2.5", "MB_BUDGET_USD": "1"},
                             prefix="MB_TENANT_BUDGET")
    assert budget == Budget(max_cost_usd=2.5)
    with pytest.raises(InvalidSettings, match="MB_TENANT_BUDGET_TOKENS='many'"):
        Budget.from_env({"MB_TENANT_BUDGET_TOKENS": "many"}, prefix="MB_TENANT_BUDGET")
