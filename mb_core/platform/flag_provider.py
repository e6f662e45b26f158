"""An OpenFeature provider over the store's flag values, so the platform asks flags through the
OpenFeature client and a switch to flagd or Unleash is a provider swap."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from mb_core.platform.flags import FLAGS, FlagScope, FlagValue, resolve

PROVIDER_NAME = "meta-builder-store"


class StoreFlagProvider(AbstractProvider):
    """Resolves a flag for the context's `tenant` (and `run_id`) attributes: run > tenant > platform,
    then the flag's default. `values_for(tenant, run_id)` reads the candidate values (the store)."""

    def __init__(self, values_for: Callable[[str, str], Sequence[FlagValue]]):
        super().__init__()
        self._values_for = values_for

    def get_metadata(self) -> Metadata:
        return Metadata(name=PROVIDER_NAME)

    def _resolve(self, flag_key: str, default_value: Any, context: EvaluationContext | None):
        attributes = (context.attributes if context else {}) or {}
        tenant = str(attributes.get("tenant") or (context.targeting_key if context else "") or "")
        run_id = str(attributes.get("run_id") or "")
        if flag_key not in FLAGS:
            return FlagResolutionDetails(value=default_value, reason=Reason.DEFAULT,
                                         error_message=f"unknown flag {flag_key}")
        value, scope = resolve(list(self._values_for(tenant, run_id)), flag_key, tenant, run_id)
        if scope is None:
            # The caller's default is the platform default (from the environment), not ours.
            return FlagResolutionDetails(value=default_value, reason=Reason.DEFAULT, variant="default")
        return FlagResolutionDetails(value=value, reason=Reason.TARGETING_MATCH, variant=scope.value)

    def resolve_boolean_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, evaluation_context)

    def resolve_string_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, evaluation_context)

    def resolve_integer_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, evaluation_context)

    def resolve_float_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, evaluation_context)

    def resolve_object_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, evaluation_context)


def register(values_for: Callable[[str, str], Sequence[FlagValue]]) -> str:
    """A provider over `values_for` in an OpenFeature domain of its own (several stores, as in
    tests, keep their own), and that domain's name."""
    from openfeature import api as openfeature

    domain = f"mb-{uuid.uuid4().hex[:8]}"
    openfeature.set_provider(StoreFlagProvider(values_for), domain=domain)
    return domain


def evaluate(domain: str, key: str, default: Any, tenant: str, run_id: str = "") -> tuple[Any, FlagScope | None]:
    """A flag's value for this tenant (and run) through the OpenFeature client, and the scope it
    came from (None: `default`, the platform default)."""
    from openfeature import api as openfeature

    client = openfeature.get_client(domain=domain)
    context = EvaluationContext(targeting_key=tenant, attributes={"tenant": tenant, "run_id": run_id})
    kind = FLAGS[key].kind
    if kind is bool:
        details = client.get_boolean_details(key, default, context)
    elif kind is int:
        details = client.get_integer_details(key, default, context)
    elif default is None:
        # "No limit" is no float: ask for an object and keep the number the provider found.
        details = client.get_object_details(key, default, context)
    else:
        details = client.get_float_details(key, float(default), context)
    if details.error_code is not None or details.reason != Reason.TARGETING_MATCH:
        return default, None
    return details.value, FlagScope(details.variant)
