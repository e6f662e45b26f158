"""The provider a build runs with, from its name and the environment.

    offline   no settings
    openai    OPENAI_API_KEY (required), OPENAI_BASE_URL, MB_MODEL, MB_MODELS (the models a
              build's tier and budget choose from), MB_MODEL_<ROLE> (e.g. MB_MODEL_CODEGEN),
              MB_LLM_TIMEOUT_S, MB_LLM_MAX_ATTEMPTS, MB_PRICE_TABLE
    replay    a recorded bundle
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from mb_core.agents.base import AgentRole, LLMProvider
from mb_core.errors import InvalidSettings
from mb_core.metering import price_table_from_env
from mb_core.providers.replay import BundleInput, ReplayProvider

PROVIDER_NAMES = ("offline", "openai", "replay")
DEFAULT_MODEL = "gpt-4o-mini"


def _number(env: Mapping[str, str], var: str, default: float, kind: type) -> float:
    raw = (env.get(var) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise InvalidSettings(f"{var}={raw!r} must be a positive {'whole ' if kind is int else ''}number")
    return value


def openai_settings(env: Mapping[str, str]) -> dict:
    """Constructor arguments of OpenAIProvider read from the environment."""
    from mb_core.providers.openai_provider import DEFAULT_BASE_URL

    api_key = (env.get("OPENAI_API_KEY") or "").strip()
    if not api_key:
        raise InvalidSettings(
            "the openai provider needs OPENAI_API_KEY; set it (any non-empty value for a local "
            "server that checks none) or use the offline provider (MB_PROVIDER=offline)"
        )
    base_url = (env.get("OPENAI_BASE_URL") or "").strip() or DEFAULT_BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSettings(
            f"OPENAI_BASE_URL={base_url!r} is not an http(s) URL; set it like http://127.0.0.1:8000/v1"
        )
    default_model = (env.get("MB_MODEL") or "").strip() or DEFAULT_MODEL
    models = {
        role: env[f"MB_MODEL_{role.value.upper()}"].strip()
        for role in AgentRole
        if (env.get(f"MB_MODEL_{role.value.upper()}") or "").strip()
    }
    return {
        "base_url": base_url,
        "api_key": api_key,
        "models": models,
        "default_model": default_model,
        "timeout_s": _number(env, "MB_LLM_TIMEOUT_S", 120.0, float),
        "max_attempts": int(_number(env, "MB_LLM_MAX_ATTEMPTS", 4, int)),
        "price_table": price_table_from_env(env),
    }


def model_candidates(env: Mapping[str, str]) -> list[str]:
    """The models a build may be given (MB_MODELS, comma-separated); without it, MB_MODEL alone."""
    listed = [name.strip() for name in (env.get("MB_MODELS") or "").split(",") if name.strip()]
    return sorted(set(listed)) or [(env.get("MB_MODEL") or "").strip() or DEFAULT_MODEL]


def provider_from_settings(
    name: str, env: Mapping[str, str], replay_bundle: BundleInput | None = None
) -> LLMProvider:
    choice = (name or "").strip().lower()
    if choice == "offline":
        from mb_core.providers.offline import OfflineProvider

        return OfflineProvider()
    if choice == "openai":
        from mb_core.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(**openai_settings(env))
    if choice == "replay":
        if replay_bundle is None:
            raise InvalidSettings(
                "the replay provider needs the recorded bundle of a past build; name the build to replay"
            )
        return ReplayProvider(replay_bundle)
    raise InvalidSettings(f"unknown provider {name!r}; choose one of {', '.join(PROVIDER_NAMES)}")
