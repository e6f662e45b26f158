"""provider_from_settings: the provider a build runs with, from its name and the environment."""

from __future__ import annotations

import json

import pytest
from agent_fixtures import NOTE_AGENT, NoteInput
from openai_server import ScriptedOpenAIServer as S

from mb_core.agents.base import AgentContext, AgentReply, AgentRole, build_request, run_agent
from mb_core.errors import InvalidSettings, MBError
from mb_core.providers.factory import provider_from_settings
from mb_core.providers.openai_provider import OpenAIProvider
from mb_core.providers.replay import ReplayProvider


def test_offline_needs_nothing():
    provider = provider_from_settings("offline", {})
    assert provider.name == "offline"


def test_openai_without_key_is_refused_at_creation():
    with pytest.raises(InvalidSettings) as caught:
        provider_from_settings("openai", {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"})
    assert isinstance(caught.value, MBError)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_openai_reads_base_url_and_models_per_role():
    provider = provider_from_settings(
        "openai",
        {
            "OPENAI_API_KEY": "sk-x",
            "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1/",
            "MB_MODEL": "llama3.1",
            "MB_MODEL_CODEGEN": "qwen2.5-coder",
            "MB_LLM_TIMEOUT_S": "30",
            "MB_LLM_MAX_ATTEMPTS": "2",
        },
    )
    assert isinstance(provider, OpenAIProvider)
    assert provider.base_url == "http://127.0.0.1:11434/v1"
    assert provider.endpoint == "127.0.0.1:11434"
    assert provider.model_for(AgentRole.codegen) == "qwen2.5-coder"
    assert provider.model_for(AgentRole.reviewer) == "llama3.1"
    assert provider.timeout_s == 30.0 and provider.max_attempts == 2
    assert provider.client.max_retries == 0


def test_openai_defaults_to_the_public_endpoint():
    provider = provider_from_settings("openai", {"OPENAI_API_KEY": "sk-x"})
    assert provider.endpoint == "api.openai.com:443"
    assert provider.model_for(AgentRole.qa) == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"OPENAI_BASE_URL": "127.0.0.1:8000"}, "OPENAI_BASE_URL"),
        ({"MB_LLM_TIMEOUT_S": "soon"}, "MB_LLM_TIMEOUT_S"),
        ({"MB_LLM_MAX_ATTEMPTS": "0"}, "MB_LLM_MAX_ATTEMPTS"),
        ({"MB_PRICE_TABLE": "/nonexistent/prices.yaml"}, "MB_PRICE_TABLE"),
    ],
)
def test_openai_bad_settings_are_one_line_errors(env, needle):
    with pytest.raises(InvalidSettings) as caught:
        provider_from_settings("openai", {"OPENAI_API_KEY": "sk-x", **env})
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_price_table_file_prices_a_local_model(openai_server, tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text("llama3.1:\n  prompt_usd_per_1m: 1.0\n  completion_usd_per_1m: 2.0\n")
    openai_server.then(S.answer(json.dumps({"title": "T", "points": ["p"]}), model="llama3.1",
                                usage=(1_000_000, 500_000)))
    provider = provider_from_settings(
        "openai",
        {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": openai_server.base_url,
         "MB_MODEL": "llama3.1", "MB_PRICE_TABLE": str(prices)},
    )
    replies: list[AgentReply] = []
    ctx = AgentContext(provider=provider, recorders=[lambda _req, reply: replies.append(reply)])
    assert run_agent(NOTE_AGENT, NoteInput(topic="t"), ctx).title == "T"
    assert replies[0].cost_usd == pytest.approx(2.0)
    assert openai_server.requests[0]["model"] == "llama3.1"


def test_replay_needs_a_bundle():
    with pytest.raises(InvalidSettings):
        provider_from_settings("replay", {})
    request = build_request(NOTE_AGENT, NoteInput(topic="t"))
    reply = AgentReply(content='{"title":"T","points":["p"]}', provider="offline", model="m")
    provider = provider_from_settings("replay", {}, replay_bundle=[(request, reply)])
    assert isinstance(provider, ReplayProvider)
    assert provider.complete(request, NOTE_AGENT.output_model).content == reply.content


def test_unknown_provider_lists_the_choices():
    with pytest.raises(InvalidSettings) as caught:
        provider_from_settings("anthropic", {})
    assert "offline, openai, replay" in str(caught.value)
