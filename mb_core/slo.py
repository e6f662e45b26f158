"""Run SLOs: what one build may spend across all its attempts, from the v2/v4 settings.

META_BUILDER_MAX_ITERATIONS (attempts, default 4), META_BUILDER_TOKEN_BUDGET (default 2,000,000),
META_BUILDER_TIMEOUT (running seconds, default 900; META_V4_DEFAULT_TIME_BUDGET_SECONDS overrides
it), META_V4_DEFAULT_COST_BUDGET_USD (unset: no cost limit). The time counts attempts' running
time, recorded per attempt in the store, never the wait between them in a queue.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from mb_core.errors import InvalidSettings
from mb_core.ladder import BudgetLeft
from mb_core.models import RunBudget


def _number(env: Mapping[str, str], var: str, kind: type, default):
    raw = (env.get(var) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidSettings(f"{var}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if value < (1 if var == "META_BUILDER_MAX_ITERATIONS" else 0):
        raise InvalidSettings(f"{var}={raw} is out of range: use a number >= "
                              f"{1 if var == 'META_BUILDER_MAX_ITERATIONS' else 0}")
    return value


def run_budget_from_env(build_id: str, env: Mapping[str, str] | None = None,
                        sla: str | None = None) -> RunBudget:
    """The build's run budget; its SLA tier sets the attempts unless META_BUILDER_MAX_ITERATIONS
    does (the operator's word wins)."""
    env = os.environ if env is None else env
    seconds = _number(env, "META_V4_DEFAULT_TIME_BUDGET_SECONDS", float, None)
    if seconds is None:
        seconds = float(_number(env, "META_BUILDER_TIMEOUT", float, 900.0))
    return RunBudget(
        build_id=build_id,
        max_attempts=_number(env, "META_BUILDER_MAX_ITERATIONS", int, _tier_attempts(sla)),
        max_tokens=_number(env, "META_BUILDER_TOKEN_BUDGET", int, 2_000_000),
        max_seconds=seconds,
        max_cost_usd=_number(env, "META_V4_DEFAULT_COST_BUDGET_USD", float, None),
    )


def _tier_attempts(sla: str | None) -> int:
    if sla is None:
        return 4
    from mb_core.scheduling.tiers import policy_for

    return policy_for(sla).max_iterations


def budget_left(budget: RunBudget, tokens_used: int, cost_used: float) -> BudgetLeft:
    return BudgetLeft(
        attempts=budget.max_attempts - budget.attempts_used,
        tokens=None if budget.max_tokens is None else budget.max_tokens - tokens_used,
        seconds=None if budget.max_seconds is None else round(budget.max_seconds - budget.running_seconds, 3),
        cost_usd=None if budget.max_cost_usd is None else round(budget.max_cost_usd - cost_used, 6),
    )


def run_budget_breach(budget: RunBudget, tokens_used: int, cost_used: float, running_s: float,
                      next_prompt_tokens: int = 0) -> str | None:
    """Why the build may not make its next LLM call under its run budget, or None while it may.

    `running_s` is the running time of its attempts so far, the current one included;
    `next_prompt_tokens` the estimated prompt of the call about to be made (a call whose prompt
    alone would overrun the token budget is refused before it is sent)."""
    if budget.max_tokens is not None:
        if tokens_used >= budget.max_tokens:
            return (f"token budget spent: {tokens_used:,} of {budget.max_tokens:,} tokens used "
                    "(META_BUILDER_TOKEN_BUDGET)")
        if tokens_used + next_prompt_tokens > budget.max_tokens:
            return (f"token budget too small for the next call: about {next_prompt_tokens:,} prompt "
                    f"tokens needed, {budget.max_tokens - tokens_used:,} of {budget.max_tokens:,} left "
                    "(META_BUILDER_TOKEN_BUDGET)")
    if budget.max_cost_usd is not None and cost_used >= budget.max_cost_usd:
        return (f"cost budget spent: ${cost_used:.4f} of ${budget.max_cost_usd:.4f} used "
                "(META_V4_DEFAULT_COST_BUDGET_USD)")
    if budget.max_seconds is not None and running_s >= budget.max_seconds:
        return (f"time budget spent: {running_s:.1f} s of {budget.max_seconds:g} s of running time "
                "(META_BUILDER_TIMEOUT)")
    return None


def run_budget_guard(store, build_id: str, clock=None):
    """A check for one step's LLM calls: `guard(tokens_used, cost_used, next_prompt_tokens)` gives
    the breach reason or None. The limits and the running attempt are read once per step; the
    attempt's running time is counted up to each call."""
    from datetime import UTC, datetime

    now = clock or (lambda: datetime.now(UTC))
    budget = store.get_budget(build_id) or run_budget_from_env(build_id)
    running = [a for a in store.list_attempts(build_id) if a.outcome.value == "running"]
    started = running[-1].started_at if running else None
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)

    def guard(tokens_used: int, cost_used: float, next_prompt_tokens: int = 0) -> str | None:
        current = max(0.0, (now() - started).total_seconds()) if started else 0.0
        return run_budget_breach(budget, tokens_used, cost_used, budget.running_seconds + current,
                                 next_prompt_tokens)

    return guard
