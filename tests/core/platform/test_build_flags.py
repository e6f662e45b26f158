"""The flags a build obeys: the environment's platform defaults (the run SLO settings), the kept
values, and how many builds of a tenant start at once."""

from __future__ import annotations

import pytest

from mb_core.errors import InvalidSettings
from mb_core.platform.build_flags import (
    BuildFlags,
    build_flags_from,
    chaos_settings,
    platform_defaults,
    tenant_admission,
)
from mb_core.platform.flags import FLAGS, FlagError


def test_the_budget_defaults_are_the_run_slo_settings():
    assert platform_defaults({}) == {
        "FEATURE_META_V4_ENABLED": True, "FEATURE_META_V4_CANARY_PERCENT": 0, "META_V4_MAX_WORKERS": 2,
        "META_V4_BUDGET_TOKENS": 2_000_000, "META_V4_BUDGET_USD": None, "META_V4_BUDGET_SECONDS": 900.0,
        "META_V4_BUDGET_ATTEMPTS": 4, "META_V4_CHAOS_ENABLED": False,
    }
    env = {"META_BUILDER_MAX_ITERATIONS": "2", "META_BUILDER_TOKEN_BUDGET": "5000",
           "META_BUILDER_TIMEOUT": "60", "META_V4_DEFAULT_TIME_BUDGET_SECONDS": "30",
           "META_V4_DEFAULT_COST_BUDGET_USD": "0.5", "META_V4_CHAOS_ENABLED": "true",
           "META_V4_MAX_WORKERS": "3", "FEATURE_META_V4_ENABLED": "off", "FEATURE_META_V4_CANARY_PERCENT": "25"}
    assert platform_defaults(env) == {
        "FEATURE_META_V4_ENABLED": False, "FEATURE_META_V4_CANARY_PERCENT": 25, "META_V4_MAX_WORKERS": 3,
        "META_V4_BUDGET_TOKENS": 5000, "META_V4_BUDGET_USD": 0.5, "META_V4_BUDGET_SECONDS": 30.0,
        "META_V4_BUDGET_ATTEMPTS": 2, "META_V4_CHAOS_ENABLED": True,
    }


@pytest.mark.parametrize(("var", "raw", "says"), [
    ("META_V4_MAX_WORKERS", "0", "at least 1"),
    ("META_V4_MAX_WORKERS", "two", "not a number"),
    ("FEATURE_META_V4_ENABLED", "maybe", "not true or false"),
    ("FEATURE_META_V4_CANARY_PERCENT", "101", "at most 100"),
    ("META_BUILDER_TOKEN_BUDGET", "-1", "out of range"),
])
def test_a_bad_platform_default_is_one_clear_line(var, raw, says):
    with pytest.raises(InvalidSettings, match=says):
        platform_defaults({var: raw})


def _kept(**overrides) -> BuildFlags:
    resolved = {key: (value, None) for key, value in platform_defaults({}).items()}
    resolved.update({key: (value, "tenant") for key, value in overrides.items()})
    return build_flags_from("b1", "acme", resolved)


def test_kept_flags_give_the_run_budget_and_say_where_each_value_came_from():
    kept = _kept(META_V4_BUDGET_TOKENS=10, META_V4_BUDGET_ATTEMPTS=1)
    budget = kept.run_budget()
    assert (budget.build_id, budget.max_attempts, budget.max_tokens, budget.max_seconds, budget.max_cost_usd) == (
        "b1", 1, 10, 900.0, None)
    summary = {key: (value, source) for key, value, source in kept.summary()}
    assert summary["META_V4_BUDGET_TOKENS"] == (10, "tenant")
    assert summary["META_V4_MAX_WORKERS"] == (2, "env")
    assert [key for key, _, _ in kept.summary()] == list(FLAGS)


def test_every_flag_must_be_resolved():
    with pytest.raises(FlagError, match="META_V4_CHAOS_ENABLED"):
        build_flags_from("b1", "acme", {key: (FLAGS[key].default, None) for key in FLAGS
                                        if key != "META_V4_CHAOS_ENABLED"})


def test_chaos_follows_the_kept_flag_and_needs_v4():
    env = {"META_V4_CHAOS_SEED": "7"}
    on = chaos_settings(_kept(META_V4_CHAOS_ENABLED=True), env)
    assert (on.enabled, on.probability, on.seed) == (True, 0.1, 7)
    assert chaos_settings(_kept(), {**env, "META_V4_CHAOS_ENABLED": "1"}).enabled is False  # kept: off
    assert chaos_settings(_kept(META_V4_CHAOS_ENABLED=True, FEATURE_META_V4_ENABLED=False), env).enabled is False


def test_a_tenant_at_its_worker_limit_waits_and_the_others_go_on():
    candidates = [("b1", "acme", 2), ("b2", "acme", 2), ("b3", "acme", 2), ("b4", "globex", 1),
                  ("b5", "globex", 1), ("b6", "initech", 1)]
    assert tenant_admission(candidates, {"acme": 1}) == ["b1", "b4", "b6"]
    assert tenant_admission(candidates, {}) == ["b1", "b2", "b4", "b6"]
    assert tenant_admission(candidates, {"acme": 5, "globex": 1, "initech": 0}) == ["b6"]
    # Each build carries the limit it was resolved with: a later, larger one lets that build in.
    assert tenant_admission([("b1", "acme", 1), ("b2", "acme", 3)], {"acme": 1}) == ["b2"]
