"""ReplayProvider answers only from a recorded bundle, found by the request hash."""

from __future__ import annotations

import json

import pytest
from agent_fixtures import NOTE_AGENT, Note, NoteInput
from openai_server import Step, completion

from mb_core.agents.base import (
    AgentContext,
    AgentReply,
    AgentRole,
    Usage,
    build_request,
    run_agent,
)
from mb_core.errors import InvalidSettings, ProviderError
from mb_core.providers.openai_provider import OpenAIProvider
from mb_core.providers.replay import ExchangeLog, RecordedExchange, ReplayProvider

TOPICS = ["contacts", "deals", "invoices"]


def note_from_request(body: dict) -> Step:
    """Answers like a model would: from what the prompt asks about."""
    prompt = body["messages"][1]["content"]
    topic = next(t for t in TOPICS if t in prompt)
    note = {"title": topic.upper(), "points": [f"{topic} need owners", "audit changes"]}
    return Step(body=completion(json.dumps(note), model="gpt-4o", usage=(321, 45)))


def test_openai_run_replays_to_identical_outputs(openai_server):
    openai_server.responder = note_from_request
    log = ExchangeLog()
    live = AgentContext(
        provider=OpenAIProvider(openai_server.base_url, "sk-test", default_model="gpt-4o"),
        recorders=[log],
    )
    live_outputs = [run_agent(NOTE_AGENT, NoteInput(topic=t), live) for t in TOPICS]
    assert len(log) == 3
    asked = len(openai_server.requests)
    openai_server.close()  # a replay must not need the server

    replay = ReplayProvider(json.loads(json.dumps(log.to_json())))  # as stored, as read back
    replay_log = ExchangeLog()
    ctx = AgentContext(provider=replay, recorders=[replay_log])
    replayed = [run_agent(NOTE_AGENT, NoteInput(topic=t), ctx) for t in reversed(TOPICS)]

    assert replayed == list(reversed(live_outputs))
    assert asked == 3
    for original, again in zip(reversed(log.exchanges), replay_log.exchanges):
        assert again.reply.content == original.reply.content
        assert again.reply.usage == original.reply.usage == Usage(prompt_tokens=321, completion_tokens=45)
        assert again.reply.model == original.reply.model == "gpt-4o"
        assert again.reply.provider == "replay"
        assert again.reply.cost_usd == 0.0


def test_offline_run_replays_to_identical_outputs():
    from mb_core.agents.io import ArchitectInput
    from mb_core.agents.registry import definition_for
    from mb_core.providers.offline import OfflineProvider

    definition = definition_for(AgentRole.product_architect)
    inp = ArchitectInput(text="Build a CRM system with contacts and deals")
    log = ExchangeLog()
    live = run_agent(definition, inp, AgentContext(provider=OfflineProvider(), recorders=[log]))
    again = run_agent(definition, inp, AgentContext(provider=ReplayProvider(log)))
    assert again == live


def test_unrecorded_request_names_role_and_hash():
    request = build_request(NOTE_AGENT, NoteInput(topic="deals"))
    other = build_request(NOTE_AGENT, NoteInput(topic="contacts"))
    reply = AgentReply(content='{"title":"D","points":["p"]}', provider="openai", model="m")
    replay = ReplayProvider([(request, reply)])

    with pytest.raises(ProviderError) as caught:
        run_agent(NOTE_AGENT, NoteInput(topic="contacts"), AgentContext(provider=replay))
    assert caught.value.kind == "permanent"
    message = str(caught.value)
    assert message.startswith("reviewer: ")
    assert other.key[:12] in message and other.key[:13] not in message
    assert "\n" not in message


def test_empty_bundle_never_falls_back():
    with pytest.raises(ProviderError) as caught:
        ReplayProvider([]).complete(build_request(NOTE_AGENT, NoteInput(topic="x")), Note)
    assert "0 exchanges" in str(caught.value)


def test_same_request_asked_twice_gets_recorded_answers_in_order():
    request = build_request(NOTE_AGENT, NoteInput(topic="deals"))
    first = AgentReply(content='{"title":"one","points":["a"]}', provider="openai", model="m")
    second = AgentReply(content='{"title":"two","points":["b"]}', provider="openai", model="m")
    replay = ReplayProvider(
        [RecordedExchange(request=request, reply=first), RecordedExchange(request=request, reply=second)]
    )
    titles = [Note.model_validate_json(replay.complete(request, Note).content).title for _ in range(3)]
    assert titles == ["one", "two", "two"]


def test_mapping_bundle_by_key():
    request = build_request(NOTE_AGENT, NoteInput(topic="deals"))
    recorded = {"content": '{"title":"T","points":["p"]}', "provider": "openai", "model": "gpt-4o",
                "usage": {"prompt_tokens": 7, "completion_tokens": 3}, "cost_usd": 0.5}
    reply = ReplayProvider({request.key: recorded}).complete(request, Note)
    assert reply.content == recorded["content"]
    assert reply.usage.total_tokens == 10
    assert (reply.provider, reply.model) == ("replay", "gpt-4o")


def test_malformed_bundle_is_refused_in_one_line():
    with pytest.raises(InvalidSettings) as caught:
        ReplayProvider([{"request": {"role": "nobody"}, "reply": {}}])
    assert "replay bundle" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_replays_exchanges_read_back_from_the_store(openai_server, tmp_path):
    from mb_core.models import BuildRun
    from mb_core.store.store import Store

    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    build = store.create_build(BuildRun(id="b-replay-1", spec_text="notes", provider="openai"))
    openai_server.responder = note_from_request
    live = AgentContext(
        provider=OpenAIProvider(openai_server.base_url, "sk-test", default_model="gpt-4o"),
        recorders=[store.exchange_recorder(build.id)],
    )
    originals = [run_agent(NOTE_AGENT, NoteInput(topic=t), live) for t in TOPICS]

    replay = ReplayProvider(store.list_exchanges(build.id))
    ctx = AgentContext(provider=replay)
    assert [run_agent(NOTE_AGENT, NoteInput(topic=t), ctx) for t in TOPICS] == originals
    store.dispose()
