from __future__ import annotations

import json

import pytest

from mb_core.agents.base import AgentReply, AgentRequest, AgentRole, Usage
from mb_core.errors import UnknownBuild
from mb_core.store import ExchangeRecord, InvalidRecord


def record(store, build_id, role, prompt=10, completion=5, cost=0.01, key="k"):
    return store.record_exchange(
        build_id,
        role,
        key,
        {"ask": role},
        {"answer": role},
        prompt,
        completion,
        cost,
        0.25,
        "openai",
        "gpt-test",
    )


def test_record_and_list_in_call_order(store, add_build, clock):
    add_build("b1")
    first = record(store, "b1", "product_architect", key="a" * 64)
    assert isinstance(first, ExchangeRecord)
    assert first.seq == 1
    assert first.created_at == clock.now
    clock.advance(1)
    record(store, "b1", "system_designer")
    record(store, "b1", "codegen")
    listed = store.list_exchanges("b1")
    assert [e.seq for e in listed] == [1, 2, 3]
    assert [e.role for e in listed] == ["product_architect", "system_designer", "codegen"]
    assert listed[0] == first
    assert listed[0].request == {"ask": "product_architect"}
    assert listed[0].reply == {"answer": "product_architect"}
    assert listed[1].created_at.tzinfo is not None


def test_sequences_are_per_build(store, add_build):
    add_build("b1")
    add_build("b2")
    record(store, "b1", "codegen")
    record(store, "b2", "codegen")
    record(store, "b1", "qa")
    assert [e.seq for e in store.list_exchanges("b1")] == [1, 2]
    assert [e.seq for e in store.list_exchanges("b2")] == [1]


def test_json_text_is_kept_verbatim(store, add_build):
    add_build("b1")
    text = '{"b": 1, "a": [1, 2]}'
    store.record_exchange("b1", "qa", "k", text, "[]", 0, 0, 0.0, 0.0, "offline", "rules")
    got = store.list_exchanges("b1")[0]
    assert got.request_json == text
    assert got.reply_json == "[]"


def test_bad_exchanges_are_refused(store, add_build):
    add_build("b1")
    with pytest.raises(InvalidRecord, match="request_json of an exchange must be JSON text"):
        store.record_exchange("b1", "qa", "k", "not json", "{}", 1, 1, 0.0, 0.0, "offline", "m")
    with pytest.raises(InvalidRecord, match="usage_prompt .* must be a number >= 0"):
        store.record_exchange("b1", "qa", "k", "{}", "{}", -1, 1, 0.0, 0.0, "offline", "m")
    with pytest.raises(InvalidRecord, match="cost_usd"):
        store.record_exchange("b1", "qa", "k", "{}", "{}", 1, 1, "free", 0.0, "offline", "m")
    with pytest.raises(InvalidRecord, match="exchange role"):
        store.record_exchange("b1", "", "k", "{}", "{}", 1, 1, 0.0, 0.0, "offline", "m")
    assert store.list_exchanges("b1") == []


def test_usage_totals_per_role_build_and_tenant(store, add_build):
    add_build("b1", tenant="acme")
    add_build("b2", tenant="acme")
    add_build("b3", tenant="globex")
    record(store, "b1", "codegen", prompt=100, completion=50, cost=0.25)
    record(store, "b1", "codegen", prompt=10, completion=5, cost=0.5)
    record(store, "b1", "qa", prompt=7, completion=3, cost=0.0)
    record(store, "b2", "codegen", prompt=1, completion=1, cost=1.0)
    record(store, "b3", "reviewer", prompt=1000, completion=1000, cost=2.0)

    one = store.usage_totals("b1")
    assert one["roles"] == {
        "codegen": {
            "calls": 2,
            "prompt_tokens": 110,
            "completion_tokens": 55,
            "total_tokens": 165,
            "cost_usd": 0.75,
        },
        "qa": {"calls": 1, "prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "cost_usd": 0.0},
    }
    assert one["total"] == {
        "calls": 3,
        "prompt_tokens": 117,
        "completion_tokens": 58,
        "total_tokens": 175,
        "cost_usd": 0.75,
    }
    assert all(type(v) is int for k, v in one["total"].items() if k != "cost_usd")

    acme = store.usage_totals(tenant="acme")
    assert acme["roles"]["codegen"]["calls"] == 3
    assert acme["total"]["cost_usd"] == 1.75
    assert "reviewer" not in acme["roles"]

    everything = store.usage_totals()
    assert everything["total"]["total_tokens"] == 175 + 2 + 2000
    assert everything["total"]["cost_usd"] == 3.75

    assert store.usage_totals(tenant="initech") == {
        "roles": {},
        "total": {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0.0},
    }
    assert store.usage_totals("b3", tenant="acme")["total"]["calls"] == 0


def test_exchange_recorder_keeps_agent_calls(store, add_build):
    add_build("b1")
    request = AgentRequest(
        role=AgentRole.codegen,
        output_schema="GeneratedFiles",
        system="You write code.",
        prompt="Write the models.",
        payload={"plan": {"app_name": "crm"}},
    )
    reply = AgentReply(
        content='{"files": []}',
        usage=Usage(prompt_tokens=12, completion_tokens=4),
        provider="offline",
        model="offline-rules-1",
        latency_s=0.02,
        cost_usd=0.0,
    )
    store.exchange_recorder("b1")(request, reply)
    (got,) = store.list_exchanges("b1")
    assert got.role == "codegen"
    assert got.request_key == request.key
    assert AgentRequest.model_validate_json(got.request_json) == request
    assert AgentReply.model_validate_json(got.reply_json) == reply
    assert (got.usage_prompt, got.usage_completion, got.provider, got.model) == (
        12,
        4,
        "offline",
        "offline-rules-1",
    )
    assert json.loads(got.request_json)["payload"] == {"plan": {"app_name": "crm"}}


def test_exchanges_of_unknown_build(store):
    for call in (
        lambda: record(store, "nope", "qa"),
        lambda: store.list_exchanges("nope"),
        lambda: store.usage_totals("nope"),
    ):
        with pytest.raises(UnknownBuild, match="^no build named nope$"):
            call()
