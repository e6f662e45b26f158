"""Feature flags: what each flag is, and which of its set values applies (run > tenant > platform)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class FlagScope(str, Enum):
    platform = "platform"
    tenant = "tenant"
    run = "run"


# Most specific first: a run's own value beats its tenant's, which beats the platform's.
SCOPE_PRECEDENCE = (FlagScope.run, FlagScope.tenant, FlagScope.platform)


class FlagDefinition(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    kind: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    description: str


FLAGS: dict[str, FlagDefinition] = {
    flag.key: flag
    for flag in (
        FlagDefinition(key="FEATURE_META_V4_ENABLED", kind=bool, default=True,
                       description="Builds use the v4 pipeline (healing, canary, chaos)."),
        FlagDefinition(key="FEATURE_META_V4_CANARY_PERCENT", kind=int, default=0, minimum=0, maximum=100,
                       description="Share of builds assigned to the v4 variant, in percent."),
        FlagDefinition(key="META_V4_MAX_WORKERS", kind=int, default=2, minimum=1, maximum=64,
                       description="Builds of a tenant running at once."),
        # The budgets' defaults are the run SLO settings' own (mb_core.slo): the environment
        # gives the platform default, these flags override it per tenant or run.
        FlagDefinition(key="META_V4_BUDGET_TOKENS", kind=int, default=2_000_000, minimum=0,
                       description="Tokens a build may spend over all its attempts "
                                   "(default: META_BUILDER_TOKEN_BUDGET)."),
        FlagDefinition(key="META_V4_BUDGET_USD", kind=float, default=None, minimum=0,
                       description="US dollars a build may spend over all its attempts "
                                   "(default: META_V4_DEFAULT_COST_BUDGET_USD, unset: no limit)."),
        FlagDefinition(key="META_V4_BUDGET_SECONDS", kind=float, default=900.0, minimum=0,
                       description="Running seconds a build may take over all its attempts (default: "
                                   "META_V4_DEFAULT_TIME_BUDGET_SECONDS, else META_BUILDER_TIMEOUT)."),
        FlagDefinition(key="META_V4_BUDGET_ATTEMPTS", kind=int, default=4, minimum=1, maximum=20,
                       description="Attempts a build may make (default: META_BUILDER_MAX_ITERATIONS)."),
        FlagDefinition(key="META_V4_CHAOS_ENABLED", kind=bool, default=False,
                       description="Inject faults into builds to exercise healing (default: the "
                                   "META_V4_CHAOS_ENABLED setting)."),
    )
}


class FlagValue(BaseModel):
    """One value set for a flag at one scope."""

    model_config = ConfigDict(extra="forbid")

    key: str
    scope: FlagScope
    tenant: str = ""  # empty at platform scope
    run_id: str = ""  # set at run scope only
    value: Any


class FlagError(ValueError):
    """A flag key or value the platform does not accept; the message says why in one line."""


def check_flag_value(key: str, value: Any) -> Any:
    """The value in the flag's own type, or FlagError."""
    flag = FLAGS.get(key)
    if flag is None:
        raise FlagError(f"unknown flag {key!r} (one of: {', '.join(FLAGS)})")
    if flag.kind is bool:
        if not isinstance(value, bool):
            raise FlagError(f"{key} is true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FlagError(f"{key} is a number, not {value!r}")
    if flag.kind is int and float(value) != int(value):
        raise FlagError(f"{key} is a whole number, not {value!r}")
    number = flag.kind(value)
    if flag.minimum is not None and number < flag.minimum:
        raise FlagError(f"{key} is at least {flag.minimum:g}, not {value!r}")
    if flag.maximum is not None and number > flag.maximum:
        raise FlagError(f"{key} is at most {flag.maximum:g}, not {value!r}")
    return number


def applicable(values: list[FlagValue], key: str, tenant: str, run_id: str = "") -> FlagValue | None:
    """The value that applies to `key` for this tenant (and run): the most specific one set."""
    for scope in SCOPE_PRECEDENCE:
        for candidate in values:
            if candidate.key != key or candidate.scope is not scope:
                continue
            if scope is FlagScope.platform:
                return candidate
            if candidate.tenant != tenant:
                continue
            if scope is FlagScope.tenant or (run_id and candidate.run_id == run_id):
                return candidate
    return None


def resolve(values: list[FlagValue], key: str, tenant: str, run_id: str = "") -> tuple[Any, FlagScope | None]:
    """The flag's value for this tenant/run and the scope it came from (None: the default)."""
    if key not in FLAGS:
        raise FlagError(f"unknown flag {key!r} (one of: {', '.join(FLAGS)})")
    found = applicable(values, key, tenant, run_id)
    if found is None:
        return FLAGS[key].default, None
    return found.value, found.scope
