"""OpenAIProvider against a real loopback OpenAI-compatible server with scripted answers and faults."""

from __future__ import annotations

import json
import socket

import pytest
from agent_fixtures import NOTE_AGENT, Note, NoteInput
from openai_server import ScriptedOpenAIServer as S

from mb_core.agents.base import AgentContext, AgentRole, build_request, run_agent
from mb_core.errors import ProviderError
from mb_core.metering import Meter, PriceTable
from mb_core.providers.openai_provider import CONNECT_TIMEOUT_S, OpenAIProvider

GOOD = json.dumps({"title": "Deals", "points": ["stages", "owners"]})


def make_provider(base_url: str, waits: list[float], **kwargs) -> OpenAIProvider:
    options = {
        "api_key": "sk-test",
        "models": {AgentRole.reviewer: "gpt-4o"},
        "default_model": "local-llama",
        "timeout_s": 5.0,
        "max_attempts": 3,
        "price_table": PriceTable(),
        "sleep": waits.append,  # backoff is recorded, not slept
    }
    options.update(kwargs)
    return OpenAIProvider(base_url, **options)


@pytest.fixture
def waits() -> list[float]:
    return []


def ask(provider: OpenAIProvider, meter: Meter | None = None) -> Note:
    ctx = AgentContext(provider=provider)
    if meter is not None:
        ctx.recorders.append(meter.record)
        ctx.before_call = meter.check
    return run_agent(NOTE_AGENT, NoteInput(topic="deals"), ctx)


def failure(provider: OpenAIProvider) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        ask(provider)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("reviewer: ")
    return caught.value


def test_structured_answer_sends_request_and_meters_usage(openai_server, waits):
    openai_server.then(S.answer(GOOD, model="gpt-4o-2024-08-06", usage=(1000, 200)))
    provider = make_provider(openai_server.base_url, waits)
    meter = Meter()

    note = ask(provider, meter)

    assert note == Note(title="Deals", points=["stages", "owners"])
    [sent] = openai_server.requests
    request = build_request(NOTE_AGENT, NoteInput(topic="deals"))
    assert sent["model"] == "gpt-4o"
    assert sent["messages"] == [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.prompt},
    ]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "Note"
    assert sent["response_format"]["json_schema"]["schema"] == Note.model_json_schema()
    assert openai_server.headers[0]["authorization"] == "Bearer sk-test"
    summary = meter.summary()
    assert summary["total"]["prompt_tokens"] == 1000
    assert summary["total"]["completion_tokens"] == 200
    # gpt-4o: $2.50 / 1M prompt, $10 / 1M completion; the dated snapshot is priced as its family
    assert summary["total"]["cost_usd"] == pytest.approx(0.0045)
    assert summary["by_role"]["reviewer"]["calls"] == 1
    assert waits == []


def test_unlisted_role_uses_default_model_and_unknown_model_costs_nothing(openai_server, waits):
    openai_server.then(S.answer(GOOD, model="local-llama"))
    provider = make_provider(openai_server.base_url, waits, models={})
    reply = provider.complete(build_request(NOTE_AGENT, NoteInput(topic="x")), Note)
    assert openai_server.requests[0]["model"] == "local-llama"
    assert reply.model == "local-llama"
    assert reply.cost_usd == 0.0
    assert reply.provider == "openai"


def test_rate_limit_then_success_is_retried_and_counted(openai_server, waits):
    openai_server.then(
        S.error(429, "Rate limit reached", headers={"retry-after": "1"}),
        S.answer(GOOD),
    )
    meter = Meter()
    note = ask(make_provider(openai_server.base_url, waits), meter)
    assert note.title == "Deals"
    assert len(openai_server.requests) == 2
    assert waits == [1.0]  # the server's retry-after wins over a shorter jittered wait
    assert meter.summary()["total"]["attempts"] == 2
    assert meter.summary()["total"]["calls"] == 1


def test_server_error_then_success_is_retried(openai_server, waits):
    openai_server.then(S.error(500, "upstream exploded"), S.answer(GOOD))
    reply = make_provider(openai_server.base_url, waits).complete(
        build_request(NOTE_AGENT, NoteInput(topic="deals")), Note
    )
    assert reply.attempts == 2
    assert len(openai_server.requests) == 2
    assert len(waits) == 1 and 0 <= waits[0] <= 0.5


def test_transient_errors_stop_after_max_attempts(openai_server, waits):
    openai_server.then(*[S.error(503, "overloaded")] * 5)
    err = failure(make_provider(openai_server.base_url, waits, max_attempts=3))
    assert err.kind == "transient"
    assert "503" in str(err) and "after 3 attempts" in str(err)
    assert len(openai_server.requests) == 3
    assert len(waits) == 2


def test_timeout_is_transient_and_names_the_limit(openai_server, waits):
    openai_server.then(S.stall(3), S.stall(3))
    err = failure(make_provider(openai_server.base_url, waits, timeout_s=0.3, max_attempts=2))
    assert err.kind == "transient"
    assert "timed out (no answer within 0.3 s)" in str(err)
    assert "gpt-4o" in str(err) and f"127.0.0.1:{openai_server.port}" in str(err)
    assert len(openai_server.requests) == 2


def test_dropped_connection_is_transient(openai_server, waits):
    openai_server.then(S.drop(), S.answer(GOOD))
    assert ask(make_provider(openai_server.base_url, waits)).title == "Deals"
    assert len(openai_server.requests) == 2


def test_invalid_json_is_invalid_output_after_one_retry(openai_server, waits):
    openai_server.then(S.answer("Sure! Here is the note."), S.answer("{not json"), S.answer(GOOD))
    err = failure(make_provider(openai_server.base_url, waits, max_attempts=5))
    assert err.kind == "invalid_output"
    assert "does not fit Note" in str(err)
    assert len(openai_server.requests) == 2  # one retry, never a third blind one


def test_schema_violation_then_valid_answer_succeeds(openai_server, waits):
    openai_server.then(S.answer(json.dumps({"title": "Deals", "points": []})), S.answer(GOOD))
    reply = make_provider(openai_server.base_url, waits).complete(
        build_request(NOTE_AGENT, NoteInput(topic="deals")), Note
    )
    assert reply.attempts == 2
    assert Note.model_validate_json(reply.content).points == ["stages", "owners"]


def test_truncated_answer_is_invalid_output_and_not_retried(openai_server, waits):
    openai_server.then(S.answer('{"title": "Deals", "poi', finish_reason="length"), S.answer(GOOD))
    err = failure(make_provider(openai_server.base_url, waits))
    assert err.kind == "invalid_output"
    assert "finish_reason length" in str(err)
    assert len(openai_server.requests) == 1


def test_fenced_json_is_accepted(openai_server, waits):
    openai_server.then(S.answer(f"```json\n{GOOD}\n```"))
    assert ask(make_provider(openai_server.base_url, waits)).title == "Deals"


def test_missing_usage_is_estimated(openai_server, waits):
    openai_server.then(S.answer(GOOD, model="gpt-4o", usage=None))
    reply = make_provider(openai_server.base_url, waits).complete(
        build_request(NOTE_AGENT, NoteInput(topic="deals")), Note
    )
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.cost_usd > 0


def test_unauthorized_is_permanent_and_says_set_the_key(openai_server, waits):
    openai_server.then(S.error(401, "Incorrect API key provided"), S.answer(GOOD))
    err = failure(make_provider(openai_server.base_url, waits, max_attempts=4))
    assert err.kind == "permanent"
    assert "set OPENAI_API_KEY" in str(err)
    assert f"model gpt-4o at 127.0.0.1:{openai_server.port}" in str(err)
    assert len(openai_server.requests) == 1


def test_unknown_model_is_permanent_and_names_the_setting(openai_server, waits):
    openai_server.then(S.error(404, "The model `gpt-4o` does not exist", code="model_not_found"))
    err = failure(make_provider(openai_server.base_url, waits))
    assert err.kind == "permanent"
    assert "MB_MODEL_REVIEWER" in str(err)
    assert len(openai_server.requests) == 1


def test_bad_request_is_permanent(openai_server, waits):
    openai_server.then(S.error(400, "messages: too many"))
    err = failure(make_provider(openai_server.base_url, waits))
    assert err.kind == "permanent"
    assert "400: messages: too many" in str(err)
    assert len(openai_server.requests) == 1


def test_server_without_json_schema_gets_json_mode(openai_server, waits):
    openai_server.then(
        S.error(400, "response_format type json_schema is not supported"), S.answer(GOOD)
    )
    provider = make_provider(openai_server.base_url, waits)
    assert ask(provider).title == "Deals"
    first, second = openai_server.requests
    assert first["response_format"]["type"] == "json_schema"
    assert second["response_format"] == {"type": "json_object"}
    assert '"points"' in second["messages"][0]["content"]  # the schema travels in the prompt
    # remembered: the next call goes straight to JSON mode
    openai_server.then(S.answer(GOOD))
    ask(provider)
    assert openai_server.requests[2]["response_format"] == {"type": "json_object"}


def test_wrong_base_url_path_says_check_base_url(openai_server, waits):
    base = f"http://127.0.0.1:{openai_server.port}/api"
    err = failure(make_provider(base, waits))
    assert err.kind == "permanent"
    assert "check OPENAI_BASE_URL" in str(err)


def test_non_api_answer_says_check_base_url(openai_server, waits):
    openai_server.then(S.raw("<html><body>welcome</body></html>"))
    err = failure(make_provider(openai_server.base_url, waits))
    assert err.kind == "permanent"
    assert "not a chat completion" in str(err) and "OPENAI_BASE_URL" in str(err)


def test_closed_port_fails_fast_with_a_clear_message(waits):
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = make_provider(f"http://127.0.0.1:{port}/v1", waits, max_attempts=3)
    err = failure(provider)
    assert err.kind == "transient"
    assert "cannot be reached" in str(err) and "check OPENAI_BASE_URL" in str(err)
    # The worst case is bounded by settings, not by luck: attempts x connect timeout + backoff.
    assert provider.client.timeout.connect <= CONNECT_TIMEOUT_S <= 2
    assert len(waits) == 2 and sum(waits) <= 0.5 + 1.0
    assert 3 * CONNECT_TIMEOUT_S + sum(waits) < 10


def test_server_that_never_accepts_hits_the_connect_timeout(waits):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):  # fill the accept queue so further connections hang
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(filler)
        provider = make_provider(f"http://127.0.0.1:{port}/v1", waits, timeout_s=60, max_attempts=1)
        err = failure(provider)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert err.kind == "transient"
    assert f"no connection within {CONNECT_TIMEOUT_S:g} s" in str(err)
