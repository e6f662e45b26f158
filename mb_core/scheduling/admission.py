"""Per-tenant budgets, held before a run is queued: a tenant that has spent its budget gets a clear
refusal at submission, not a build that fails at its first LLM call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mb_core.errors import BudgetExceeded
from mb_core.metering import Budget


class TenantBudgetSpent(BudgetExceeded):
    """The tenant's budget has no room for another build."""


def admission_refusal(tenant: str, budget: Budget, used: Mapping[str, Any],
                      estimated_cost_usd: float = 0.0) -> str | None:
    """Why a new build of `tenant` may not be queued, or None. `used` is the store's usage totals
    of the tenant (`{"total": {calls, total_tokens, cost_usd}}`); the estimate is what the next build
    is expected to cost (its model choice), so a budget that cannot pay for it refuses too."""
    total = used.get("total", {})
    calls, tokens = int(total.get("calls", 0)), int(total.get("total_tokens", 0))
    cost = float(total.get("cost_usd", 0.0))
    if budget.max_calls is not None and calls >= budget.max_calls:
        return f"tenant {tenant} has spent its call budget ({calls} of {budget.max_calls} LLM calls)"
    if budget.max_tokens is not None and tokens >= budget.max_tokens:
        return (f"tenant {tenant} has spent its token budget "
                f"({tokens:,} of {budget.max_tokens:,} tokens)")
    if budget.max_cost_usd is not None:
        if cost >= budget.max_cost_usd:
            return (f"tenant {tenant} has spent its cost budget "
                    f"(${cost:.4f} of ${budget.max_cost_usd:.4f})")
        if estimated_cost_usd > 0 and cost + estimated_cost_usd > budget.max_cost_usd:
            return (f"tenant {tenant} has ${budget.max_cost_usd - cost:.4f} of its cost budget left, "
                    f"less than the next build's estimated ${estimated_cost_usd:.4f}")
    return None


def admit(tenant: str, budget: Budget, used: Mapping[str, Any], estimated_cost_usd: float = 0.0) -> None:
    """Raises TenantBudgetSpent (one line) when `admission_refusal` refuses."""
    refusal = admission_refusal(tenant, budget, used, estimated_cost_usd)
    if refusal:
        raise TenantBudgetSpent(f"not queued: {refusal} (raise MB_TENANT_BUDGET_*)")


def admit_tenant(store, tenant: str, provider: str, environ: Mapping[str, str]) -> None:
    """The edge of `admit`: the tenant's budget (MB_TENANT_BUDGET_*) against what the store has
    recorded for it, and, for an LLM provider, the next build's estimated cost at MB_MODEL."""
    budget = Budget.from_env(environ, prefix="MB_TENANT_BUDGET")
    if budget == Budget():
        return  # no tenant limit: nothing to read
    estimate = 0.0
    if provider not in ("offline", "replay"):
        from mb_core.metering import price_table_from_env
        from mb_core.scheduling.model_choice import (
            EXPECTED_COMPLETION_TOKENS,
            EXPECTED_PROMPT_TOKENS,
            estimated_cost,
        )

        model = environ.get("MB_MODEL") or "gpt-4o-mini"
        estimate = estimated_cost(price_table_from_env(environ), model,
                                  EXPECTED_PROMPT_TOKENS, EXPECTED_COMPLETION_TOKENS)
    admit(tenant, budget, store.usage_totals(tenant=tenant), estimate)
