"""Which model a build's agents call: a pure function of the tier, the budget left, the prices and
what each model was seen to do (latency, success) in earlier builds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mb_core.metering import PriceTable
from mb_core.scheduling.tiers import SlaTier, policy_for

# Below this many finished builds a model's success rate is not trusted (it is taken as unknown).
MIN_SAMPLES = 5
# A model that released fewer than this share of its finished builds is not chosen while another is.
MIN_SUCCESS = 0.5
# What one build is expected to spend when nothing better is known (a CRM-sized spec, all roles).
EXPECTED_PROMPT_TOKENS = 60_000
EXPECTED_COMPLETION_TOKENS = 20_000


class ModelStats(BaseModel):
    """What the store saw of one model: calls, mean latency, and its builds' outcomes."""

    model_config = ConfigDict(extra="forbid")

    model: str
    calls: int = Field(default=0, ge=0)
    mean_latency_s: float | None = Field(default=None, ge=0)
    builds_finished: int = Field(default=0, ge=0)
    builds_released: int = Field(default=0, ge=0)

    @property
    def success_rate(self) -> float | None:
        if self.builds_finished < MIN_SAMPLES:
            return None
        return self.builds_released / self.builds_finished


class ModelChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    estimated_cost_usd: float
    reason: str


def estimated_cost(prices: PriceTable, model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = prices.price_for(model)
    if price is None:
        return 0.0
    return round((prompt_tokens * price.prompt_usd_per_1m
                  + completion_tokens * price.completion_usd_per_1m) / 1_000_000, 8)


def choose_model(
    tier: str | SlaTier,
    candidates: list[str],
    prices: PriceTable,
    observed: dict[str, ModelStats],
    *,
    budget_left_usd: float | None,
    expected_prompt_tokens: int = EXPECTED_PROMPT_TOKENS,
    expected_completion_tokens: int = EXPECTED_COMPLETION_TOKENS,
) -> ModelChoice:
    """The model for a build of this tier.

    Models the budget left cannot pay for (at the expected tokens of a build) are out, then models
    seen failing (success below 50 % over at least 5 finished builds) while another remains. Of
    the rest the tier picks: fast the lowest observed latency (unknown latency last), normal the
    cheapest, thorough the highest success rate and then the dearest (list price as the proxy for
    capability). Ties go by name, so the answer never depends on the order given."""
    if not candidates:
        raise ValueError("no candidate models to choose from")
    policy = policy_for(tier)
    cost = {m: estimated_cost(prices, m, expected_prompt_tokens, expected_completion_tokens)
            for m in candidates}
    stats = {m: observed.get(m, ModelStats(model=m)) for m in candidates}
    pool = sorted(set(candidates))
    notes: list[str] = []
    if budget_left_usd is not None:
        affordable = [m for m in pool if cost[m] <= budget_left_usd]
        if not affordable:
            cheapest = min(pool, key=lambda m: (cost[m], m))
            return ModelChoice(model=cheapest, estimated_cost_usd=cost[cheapest],
                               reason=f"no model fits the ${budget_left_usd:.4f} left: the cheapest")
        if len(affordable) < len(pool):
            notes.append(f"{len(pool) - len(affordable)} over the ${budget_left_usd:.4f} left")
        pool = affordable
    reliable = [m for m in pool if (stats[m].success_rate is None or stats[m].success_rate >= MIN_SUCCESS)]
    if reliable and len(reliable) < len(pool):
        notes.append(f"{len(pool) - len(reliable)} seen failing")
        pool = reliable

    def latency(m: str) -> float:
        value = stats[m].mean_latency_s
        return float("inf") if value is None else value

    def success(m: str) -> float:
        rate = stats[m].success_rate
        return -1.0 if rate is None else rate

    if policy.prefer == "latency":
        chosen = min(pool, key=lambda m: (latency(m), cost[m], m))
        why = "lowest observed latency"
    elif policy.prefer == "success":
        chosen = min(pool, key=lambda m: (-success(m), -cost[m], m))
        why = "best observed success, then the most capable"
    else:
        chosen = min(pool, key=lambda m: (cost[m], latency(m), m))
        why = "cheapest"
    reason = f"{policy.tier.value}: {why}" + (f" ({'; '.join(notes)})" if notes else "")
    return ModelChoice(model=chosen, estimated_cost_usd=cost[chosen], reason=reason)

