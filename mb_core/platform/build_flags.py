"""The flags one build obeys, resolved once when it is submitted and kept with it.

The environment gives the platform defaults: the budget flags read the run SLO settings
(META_BUILDER_MAX_ITERATIONS, META_BUILDER_TOKEN_BUDGET, META_BUILDER_TIMEOUT /
META_V4_DEFAULT_TIME_BUDGET_SECONDS, META_V4_DEFAULT_COST_BUDGET_USD, through mb_core.slo), chaos
reads META_V4_CHAOS_ENABLED, and the other flags read a variable of their own name. Flag values
set in the store override them: platform < tenant < run. Whatever process runs the build (the
CLI, a Dagster run worker, a replay) reads the values kept with it, never the flags of the moment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mb_core.errors import InvalidSettings
from mb_core.models import RunBudget
from mb_core.platform.flags import FLAGS, FlagError, check_flag_value

# Each budget flag and the RunBudget field it sets.
BUDGET_FLAGS = {
    "META_V4_BUDGET_ATTEMPTS": "max_attempts",
    "META_V4_BUDGET_TOKENS": "max_tokens",
    "META_V4_BUDGET_SECONDS": "max_seconds",
    "META_V4_BUDGET_USD": "max_cost_usd",
}

# Where a resolved value came from: a flag scope, or the environment's platform default.
DEFAULT_SOURCE = "env"


def platform_defaults(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every flag's platform default from the environment (InvalidSettings on a bad value)."""
    from mb_core.chaos import ChaosSettings
    from mb_core.slo import run_budget_from_env

    env = os.environ if env is None else env
    budget = run_budget_from_env("defaults", env)
    defaults: dict[str, Any] = {key: getattr(budget, field) for key, field in BUDGET_FLAGS.items()}
    defaults["META_V4_CHAOS_ENABLED"] = ChaosSettings.from_env(env).enabled
    for key in ("FEATURE_META_V4_ENABLED", "FEATURE_META_V4_CANARY_PERCENT", "META_V4_MAX_WORKERS"):
        defaults[key] = _env_value(env, key)
    return defaults


def _env_value(env: Mapping[str, str], key: str) -> Any:
    raw = (env.get(key) or "").strip()
    flag = FLAGS[key]
    if not raw:
        return flag.default
    value: Any = raw
    if flag.kind is bool:
        if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise InvalidSettings(f"{key}={raw!r} is not true or false")
        value = raw.lower() in ("1", "true", "yes", "on")
    else:
        try:
            value = float(raw)
        except ValueError:
            raise InvalidSettings(f"{key}={raw!r} is not a number") from None
    try:
        return check_flag_value(key, value)
    except FlagError as exc:
        raise InvalidSettings(f"{key}={raw}: {exc}") from None


class BuildFlags(BaseModel):
    """The flag values one build runs with, and where each came from (env, platform, tenant, run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    build_id: str
    tenant: str
    values: dict[str, Any]
    sources: dict[str, str] = Field(default_factory=dict)
    resolved_at: datetime | None = None

    @property
    def v4_enabled(self) -> bool:
        return bool(self.values["FEATURE_META_V4_ENABLED"])

    @property
    def canary_percent(self) -> int:
        return int(self.values["FEATURE_META_V4_CANARY_PERCENT"])

    @property
    def max_workers(self) -> int:
        return int(self.values["META_V4_MAX_WORKERS"])

    @property
    def chaos_enabled(self) -> bool:
        # Chaos exercises the v4 healing: with v4 off there is nothing for it to exercise.
        return self.v4_enabled and bool(self.values["META_V4_CHAOS_ENABLED"])

    def run_budget(self, sla: str | None = None, env: Mapping[str, str] | None = None) -> RunBudget:
        """The build's run budget. Its SLA tier sets the attempts while nobody set them: no flag
        scope and no META_BUILDER_MAX_ITERATIONS (a person's word wins over the tier's)."""
        env = os.environ if env is None else env
        limits = {field: self.values[key] for key, field in BUDGET_FLAGS.items()}
        if sla and self.sources.get("META_V4_BUDGET_ATTEMPTS", DEFAULT_SOURCE) == DEFAULT_SOURCE \
                and "META_BUILDER_MAX_ITERATIONS" not in env:
            from mb_core.scheduling.tiers import policy_for

            limits["max_attempts"] = policy_for(sla).max_iterations
        if limits["max_seconds"] is not None:
            limits["max_seconds"] = float(limits["max_seconds"])
        return RunBudget(build_id=self.build_id, **limits)

    def summary(self) -> list[tuple[str, Any, str]]:
        """(flag, value, source) in the flags' own order, for `mb status` and the run document."""
        return [(key, self.values[key], self.sources.get(key, DEFAULT_SOURCE)) for key in FLAGS
                if key in self.values]


def build_flags_from(build_id: str, tenant: str, resolved: Mapping[str, tuple[Any, str | None]]) -> BuildFlags:
    """`resolved`: each flag's value and the scope it came from (None: the platform default)."""
    missing = [key for key in FLAGS if key not in resolved]
    if missing:
        raise FlagError(f"no value resolved for {', '.join(missing)}")
    return BuildFlags(build_id=build_id, tenant=tenant,
                      values={key: resolved[key][0] for key in FLAGS},
                      sources={key: resolved[key][1] or DEFAULT_SOURCE for key in FLAGS})


def tenant_admission(candidates: list[tuple[str, str, int]], running: Mapping[str, int]) -> list[str]:
    """Which submitted builds may start now, oldest first. `candidates`: (build id, tenant, that
    build's META_V4_MAX_WORKERS) in submission order; `running`: builds each tenant runs already.
    A tenant at its limit keeps the rest of its builds submitted (queued); other tenants go on."""
    started: dict[str, int] = dict(running)
    admitted = []
    for build_id, tenant, max_workers in candidates:
        if started.get(tenant, 0) < max_workers:
            admitted.append(build_id)
            started[tenant] = started.get(tenant, 0) + 1
    return admitted


def chaos_settings(flags: BuildFlags, env: Mapping[str, str] | None = None):
    """The chaos settings a build injects with: its kept META_V4_CHAOS_ENABLED switches the
    injector, the environment still gives the probability, seed and seams."""
    from mb_core.chaos import ChaosSettings

    env = os.environ if env is None else env
    return ChaosSettings.from_env({**env, "META_V4_CHAOS_ENABLED": "1" if flags.chaos_enabled else "0"})
