"""A build's LLM calls go to the model its tier, its budget left, the prices and the observed
stats choose (mb_core.scheduling.choose_model), as the loopback OpenAI-protocol server sees them;
the choice and its reason are kept per attempt in the store."""

from __future__ import annotations

import json

import pytest
from agent_fixtures import NOTE_AGENT, NoteInput
from openai_server import Step, completion

from mb_core.agents.base import run_agent
from mb_core.lifecycle import BuildEvent
from mb_core.models import BuildRun, BuildStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.store import new_build_id
from mb_core.store.model_choices import list_model_choices

CHEAP, DEAR = "gpt-4o-mini", "gpt-4o"  # 0.15/0.60 and 2.50/10.00 USD per 1M tokens


@pytest.fixture
def llm_env(mb_home, openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("MB_MODELS", f"{DEAR}, {CHEAP}")
    for var in ("MB_MODEL", "MB_MODEL_REVIEWER", "MB_BUDGET_USD", "MB_TENANT_BUDGET_USD",
                "META_V4_DEFAULT_COST_BUDGET_USD", "MB_PRICE_TABLE"):
        monkeypatch.delenv(var, raising=False)
    slow = {CHEAP: 0.0}

    def answer(body: dict) -> Step:
        note = {"title": "T", "points": ["p"]}
        return Step(body=completion(json.dumps(note), model=body["model"]),
                    delay_s=slow.get(body["model"], 0.0))

    openai_server.responder = answer
    env = BuildEnvironment.open()
    yield env, openai_server, slow
    env.store.dispose()


def _call(env, tier: str) -> tuple[str, BuildRun]:
    """One openai build of `tier` making one LLM call; its id and the build."""
    build_id = new_build_id()
    build = env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks",
                                            provider="openai", sla=tier, status=BuildStatus.running))
    llm = env.provider_for(build)
    run_agent(NOTE_AGENT, NoteInput(topic="tasks"), env.agent_context(build, llm))
    return build_id, build


def test_the_model_the_server_gets_follows_tier_budget_and_observed_stats(llm_env, monkeypatch):
    env, server, slow = llm_env

    # normal: the cheapest (this first call also opens the client: the cheap model's latency).
    _call(env, "normal")
    assert server.requests[-1]["model"] == CHEAP

    # thorough, nothing seen of any build's outcome, no budget: the most capable (the dearest).
    thorough, _ = _call(env, "thorough")
    assert server.requests[-1]["model"] == DEAR
    [kept] = list_model_choices(env.store, thorough)
    assert (kept.model, kept.attempt, kept.provider) == (DEAR, 1, "openai")
    assert kept.reason.startswith("thorough:") and kept.budget_left_usd is None

    # thorough again with a budget the dear model's expected build (about $0.35) does not fit.
    monkeypatch.setenv("MB_BUDGET_USD", "0.05")
    small, _ = _call(env, "thorough")
    assert server.requests[-1]["model"] == CHEAP
    [kept] = list_model_choices(env.store, small)
    assert kept.budget_left_usd == pytest.approx(0.05) and "over the $0.0500 left" in kept.reason
    monkeypatch.delenv("MB_BUDGET_USD")

    # fast: the lowest observed latency. The cheap model is seen answering slowly now.
    slow[CHEAP] = 0.3
    for _ in range(2):
        _call(env, "normal")  # both on the cheap model: its mean latency rises past the dear one's
    assert server.requests[-1]["model"] == CHEAP
    _call(env, "fast")
    assert server.requests[-1]["model"] == DEAR
    # fast with a small budget: the cheaper model, slow as it was seen to be.
    monkeypatch.setenv("MB_BUDGET_USD", "0.05")
    _call(env, "fast")
    assert server.requests[-1]["model"] == CHEAP
    monkeypatch.delenv("MB_BUDGET_USD")
    slow[CHEAP] = 0.0

    # The dear model's builds are seen failing (5 finished, none released): thorough leaves it.
    for _ in range(5):
        failed, _ = _call(env, "thorough")
        assert server.requests[-1]["model"] == DEAR
        env.store.transition(failed, BuildEvent.fail, error="tests failed", expected={BuildStatus.running})
    seen, _ = _call(env, "thorough")
    assert server.requests[-1]["model"] == CHEAP
    assert "seen failing" in list_model_choices(env.store, seen)[0].reason


def test_every_step_of_an_attempt_calls_the_kept_model_and_a_new_attempt_chooses_again(llm_env, monkeypatch):
    env, server, _ = llm_env
    build_id, build = _call(env, "thorough")
    assert server.requests[-1]["model"] == DEAR
    # Later steps of the same attempt (in this or another process) keep its model, though the
    # budget has shrunk since.
    monkeypatch.setenv("MB_BUDGET_USD", "0.05")
    run_agent(NOTE_AGENT, NoteInput(topic="more"), env.agent_context(build, env.provider_for(build)))
    assert server.requests[-1]["model"] == DEAR
    # The ladder's next attempt chooses with the budget then left.
    env.store.transition(build_id, BuildEvent.retry, expected={BuildStatus.running})
    build = env.store.get_build(build_id)
    run_agent(NOTE_AGENT, NoteInput(topic="again"), env.agent_context(build, env.provider_for(build)))
    assert server.requests[-1]["model"] == CHEAP
    assert [(c.attempt, c.model) for c in list_model_choices(env.store, build_id)] == [(1, DEAR), (2, CHEAP)]


def test_an_offline_build_records_its_one_model(llm_env):
    env, _, _ = llm_env
    build_id = new_build_id()
    build = env.store.create_build(BuildRun(id=build_id, spec_text="Build a todo app with tasks",
                                            sla="fast", status=BuildStatus.running))
    assert env.provider_for(build).name == "offline"
    [kept] = list_model_choices(env.store, build_id)
    assert (kept.model, kept.provider, kept.estimated_cost_usd) == ("offline-rules-1", "offline", 0.0)
    assert kept.reason.startswith("fast:")
