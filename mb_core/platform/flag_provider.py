"""An OpenFeature provider over the store's flag values, so the platform asks flags through the
OpenFeature client and a switch to flagd or Unleash is a provider swap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from mb_core.platform.flags import FLAGS, FlagValue, resolve

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
            return FlagResolutionDetails(value=value, reason=Reason.DEFAULT, variant="default")
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
