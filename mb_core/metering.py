"""What LLM calls cost, what a build has spent, and whether it may spend more.

The price table turns token usage into USD. The meter adds up the replies of a build (it is an
exchange recorder) and, called before each provider call, refuses the call once a budget is spent.
The decisions (`cost_usd`, `budget_breach`) are pure functions; the meter only keeps the totals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mb_core.agents.base import AgentReply, AgentRequest, Usage, estimate_tokens
from mb_core.errors import BudgetExceeded, InvalidSettings

# ---------------------------------------------------------------------------------------------
# Prices
# ---------------------------------------------------------------------------------------------


class ModelPrice(BaseModel):
    """USD per one million tokens."""

    model_config = ConfigDict(extra="forbid")

    prompt_usd_per_1m: float = Field(ge=0)
    completion_usd_per_1m: float = Field(ge=0)


# Public list prices of common hosted models; a file named by MB_PRICE_TABLE overrides or extends
# them. Models not listed (local vLLM/Ollama models) cost 0.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    name: ModelPrice(prompt_usd_per_1m=p, completion_usd_per_1m=c)
    for name, (p, c) in {
        "gpt-4o": (2.50, 10.00),
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
        "gpt-5": (1.25, 10.00),
        "gpt-5-mini": (0.25, 2.00),
        "gpt-5-nano": (0.05, 0.40),
        "o3": (2.00, 8.00),
        "o3-mini": (1.10, 4.40),
        "o4-mini": (1.10, 4.40),
        "gpt-4-turbo": (10.00, 30.00),
        "gpt-3.5-turbo": (0.50, 1.50),
    }.items()
}


def listed_model(model: str, listed: Iterable[str]) -> str | None:
    """The listed name a model name stands for: itself, else without a provider prefix
    ("openai/gpt-4o"), else the longest listed family it is a dated snapshot of
    ("gpt-4o-2024-08-06" -> "gpt-4o"); None when it stands for none. Prices and the model
    choice's statistics both meet served names this way."""
    names = set(listed)
    name = model.strip()
    forms = list(dict.fromkeys((name, name.rsplit("/", 1)[-1])))
    for form in forms:
        if form in names:
            return form
    for form in forms:
        families = [k for k in names if form.startswith(k + "-")]
        if families:
            return max(families, key=len)
    return None


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def price_for(self, model: str) -> ModelPrice | None:
        """Exact name first, then the longest listed name the model starts with.

        Dated snapshots ("gpt-4o-2024-08-06") are priced as their family ("gpt-4o"), and a
        provider prefix ("openai/gpt-4o") is ignored.
        """
        listed = listed_model(model, self.prices)
        return None if listed is None else self.prices[listed]

    def cost_usd(self, model: str, usage: Usage) -> float:
        price = self.price_for(model)
        if price is None:
            return 0.0
        return round(
            (usage.prompt_tokens * price.prompt_usd_per_1m
             + usage.completion_tokens * price.completion_usd_per_1m) / 1_000_000,
            8,
        )


def load_price_table(path: str | Path) -> PriceTable:
    """Default prices overlaid with a JSON or YAML file of `{model: {prompt_usd_per_1m,
    completion_usd_per_1m}}`."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSettings(
            f"price table {path} cannot be read ({exc.strerror or exc}); fix MB_PRICE_TABLE"
        ) from exc
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidSettings(
            f"price table {path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}; "
            "fix the file named by MB_PRICE_TABLE"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidSettings(
            f"price table {path} must map model names to "
            "{prompt_usd_per_1m, completion_usd_per_1m}; fix MB_PRICE_TABLE"
        )
    extra: dict[str, ModelPrice] = {}
    for model, entry in data.items():
        try:
            extra[str(model)] = ModelPrice.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (model, *first.get("loc", ())))
            raise InvalidSettings(
                f"price table {path}: {where}: {first.get('msg')}; each model needs "
                "prompt_usd_per_1m and completion_usd_per_1m (numbers >= 0)"
            ) from exc
    return PriceTable(prices={**DEFAULT_PRICES, **extra})


def price_table_from_env(env: Mapping[str, str]) -> PriceTable:
    path = env.get("MB_PRICE_TABLE")
    return load_price_table(path) if path else PriceTable()


# ---------------------------------------------------------------------------------------------
# Spending and budgets
# ---------------------------------------------------------------------------------------------


class Spend(BaseModel):
    """What a set of provider calls consumed."""

    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    attempts: int = 0  # provider attempts, retries included
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, reply: AgentReply) -> Spend:
        return Spend(
            calls=self.calls + 1,
            attempts=self.attempts + max(1, reply.attempts),
            prompt_tokens=self.prompt_tokens + reply.usage.prompt_tokens,
            completion_tokens=self.completion_tokens + reply.usage.completion_tokens,
            cost_usd=round(self.cost_usd + reply.cost_usd, 8),
        )

    def as_metadata(self) -> dict[str, Any]:
        return {**self.model_dump(), "total_tokens": self.total_tokens}


class Budget(BaseModel):
    """Limits for one build; None means unlimited."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, ge=0)
    max_calls: int | None = Field(default=None, ge=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str], prefix: str = "MB_BUDGET") -> Budget:
        """MB_BUDGET_TOKENS, MB_BUDGET_USD, MB_BUDGET_SECONDS, MB_BUDGET_CALLS (unset = unlimited).

        Another `prefix` reads another set of limits (MB_TENANT_BUDGET_TOKENS, ...)."""
        fields = {
            "max_tokens": (f"{prefix}_TOKENS", int),
            "max_cost_usd": (f"{prefix}_USD", float),
            "max_seconds": (f"{prefix}_SECONDS", float),
            "max_calls": (f"{prefix}_CALLS", int),
        }
        values: dict[str, Any] = {}
        for field_name, (var, kind) in fields.items():
            raw = (env.get(var) or "").strip()
            if not raw:
                continue
            try:
                values[field_name] = kind(raw)
            except ValueError:
                raise InvalidSettings(
                    f"{var}={raw!r} is not a {'whole ' if kind is int else ''}number; "
                    "set it to a limit or unset it"
                ) from None
            if values[field_name] < 0:
                raise InvalidSettings(f"{var}={raw} is negative; set it to a limit >= 0 or unset it")
        return cls(**values)


def budget_breach(
    budget: Budget, spent: Spend, elapsed_s: float, next_prompt_tokens: int = 0
) -> str | None:
    """Why no further call may be made, or None while every budget has room.

    `next_prompt_tokens` is the estimated size of the call about to be made: a call whose prompt
    alone would overrun the token budget is refused before it is sent.
    """
    if budget.max_calls is not None and spent.calls >= budget.max_calls:
        return f"call budget spent: {spent.calls} of {budget.max_calls} LLM calls made"
    if budget.max_tokens is not None:
        if spent.total_tokens >= budget.max_tokens:
            return f"token budget spent: {spent.total_tokens:,} of {budget.max_tokens:,} tokens used"
        if spent.total_tokens + next_prompt_tokens > budget.max_tokens:
            return (
                f"token budget too small for the next call: about {next_prompt_tokens:,} prompt "
                f"tokens needed, {budget.max_tokens - spent.total_tokens:,} of "
                f"{budget.max_tokens:,} left"
            )
    if budget.max_cost_usd is not None and spent.cost_usd >= budget.max_cost_usd:
        return f"cost budget spent: ${spent.cost_usd:.4f} of ${budget.max_cost_usd:.4f} used"
    if budget.max_seconds is not None and elapsed_s >= budget.max_seconds:
        return f"time budget spent: {elapsed_s:.1f} s of {budget.max_seconds:g} s elapsed"
    return None


class Meter:
    """Adds up a build's provider replies, per role and in total, and guards its budget.

    `meter.record` is an ExchangeRecorder and `meter.check` an AgentContext.before_call. A build
    continued in a later run resumes from the previous run's `summary()` with `Meter.resume`.
    """

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        spent: Spend | None = None,
        by_role: Mapping[str, Spend] | None = None,
        elapsed_before_s: float = 0.0,
    ):
        self.budget = budget or Budget()
        self._clock = clock
        self._started = clock()
        self._elapsed_before_s = elapsed_before_s
        self.total = spent or Spend()
        self.by_role: dict[str, Spend] = dict(by_role or {})

    @classmethod
    def resume(
        cls, summary: Mapping[str, Any], budget: Budget | None = None, **kwargs: Any
    ) -> Meter:
        """A meter that continues counting from a `summary()` written by an earlier run."""
        total = {k: v for k, v in summary.get("total", {}).items() if k != "total_tokens"}
        by_role = {
            role: Spend.model_validate({k: v for k, v in spend.items() if k != "total_tokens"})
            for role, spend in summary.get("by_role", {}).items()
        }
        if budget is None and summary.get("budget"):
            budget = Budget.model_validate(summary["budget"])
        return cls(
            budget,
            spent=Spend.model_validate(total),
            by_role=by_role,
            elapsed_before_s=float(summary.get("elapsed_s", 0.0)),
            **kwargs,
        )

    @classmethod
    def from_usage_totals(
        cls, totals: Mapping[str, Any], budget: Budget | None = None, **kwargs: Any
    ) -> Meter:
        """A meter that continues from the store's `usage_totals` (what earlier steps recorded)."""

        def spend(row: Mapping[str, Any]) -> Spend:
            return Spend(
                calls=int(row.get("calls", 0)),
                attempts=int(row.get("attempts", row.get("calls", 0))),
                prompt_tokens=int(row.get("prompt_tokens", 0)),
                completion_tokens=int(row.get("completion_tokens", 0)),
                cost_usd=float(row.get("cost_usd", 0.0)),
            )

        return cls(
            budget,
            spent=spend(totals.get("total", {})),
            by_role={role: spend(row) for role, row in totals.get("roles", {}).items()},
            **kwargs,
        )

    @property
    def elapsed_s(self) -> float:
        return self._elapsed_before_s + max(0.0, self._clock() - self._started)

    def record(self, request: AgentRequest, reply: AgentReply) -> None:
        role = request.role.value
        self.total = self.total.plus(reply)
        self.by_role[role] = self.by_role.get(role, Spend()).plus(reply)

    def check(self, request: AgentRequest) -> None:
        next_prompt = estimate_tokens(request.system) + estimate_tokens(request.prompt)
        reason = budget_breach(self.budget, self.total, self.elapsed_s, next_prompt)
        if reason is not None:
            raise BudgetExceeded(f"{reason}; {request.role.value} was not called")

    def remaining(self) -> dict[str, float | int | None]:
        b, s = self.budget, self.total
        return {
            "tokens": None if b.max_tokens is None else max(0, b.max_tokens - s.total_tokens),
            "cost_usd": None if b.max_cost_usd is None else round(max(0.0, b.max_cost_usd - s.cost_usd), 8),
            "seconds": None if b.max_seconds is None else round(max(0.0, b.max_seconds - self.elapsed_s), 3),
            "calls": None if b.max_calls is None else max(0, b.max_calls - s.calls),
        }

    def summary(self) -> dict[str, Any]:
        """Plain JSON-ready totals for asset metadata (and for `Meter.resume`)."""
        return {
            "total": self.total.as_metadata(),
            "by_role": {role: spend.as_metadata() for role, spend in sorted(self.by_role.items())},
            "elapsed_s": round(self.elapsed_s, 3),
            "budget": self.budget.model_dump(),
            "remaining": self.remaining(),
        }
