"""Flags asked through the OpenFeature client resolve from the store's values (run > tenant >
platform), so a flagd or Unleash provider can take the store's place."""

from __future__ import annotations

import uuid

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason

from mb_core.platform.flag_provider import StoreFlagProvider
from mb_core.platform.flags import FlagScope, FlagValue

VALUES = [
    FlagValue(key="META_V4_CHAOS_ENABLED", scope=FlagScope.platform, value=True),
    FlagValue(key="META_V4_CHAOS_ENABLED", scope=FlagScope.tenant, tenant="acme", value=False),
    FlagValue(key="META_V4_MAX_WORKERS", scope=FlagScope.run, tenant="acme", run_id="b1", value=8),
]


def _client():
    domain = f"test-{uuid.uuid4().hex[:8]}"
    asked = []

    def values_for(tenant, run_id):
        asked.append((tenant, run_id))
        return [v for v in VALUES if v.scope is FlagScope.platform or v.tenant == tenant]

    api.set_provider(StoreFlagProvider(values_for), domain=domain)
    return api.get_client(domain=domain), asked


def _context(tenant, run_id=""):
    return EvaluationContext(targeting_key=tenant, attributes={"tenant": tenant, "run_id": run_id})


def test_the_most_specific_value_wins_through_the_client():
    client, asked = _client()
    assert client.get_boolean_value("META_V4_CHAOS_ENABLED", False, _context("globex")) is True
    details = client.get_boolean_details("META_V4_CHAOS_ENABLED", True, _context("acme"))
    assert details.value is False and details.variant == "tenant" and details.reason == Reason.TARGETING_MATCH
    assert client.get_integer_value("META_V4_MAX_WORKERS", 0, _context("acme", "b1")) == 8
    # Nothing set for that run or tenant: the caller's default (the environment's platform default).
    assert client.get_integer_value("META_V4_MAX_WORKERS", 3, _context("acme", "b2")) == 3
    assert ("acme", "b1") in asked


def test_an_unknown_flag_answers_the_callers_default():
    client, _ = _client()
    details = client.get_boolean_details("NO_SUCH_FLAG", True, _context("acme"))
    assert details.value is True and details.reason == Reason.DEFAULT
