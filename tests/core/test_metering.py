"""Prices, spending and budgets."""

from __future__ import annotations

import json

import pytest

from mb_core.agents.base import (
    AgentContext,
    AgentDefinition,
    AgentReply,
    AgentRole,
    Usage,
    build_request,
    run_agent,
)
from mb_core.errors import BudgetExceeded, InvalidSettings
from mb_core.metering import (
    Budget,
    Meter,
    PriceTable,
    Spend,
    budget_breach,
    load_price_table,
    price_table_from_env,
)
from mb_core.models import Model
from mb_core.providers.replay import ExchangeLog, ReplayProvider


class Topic(Model):
    name: str


class Summary(Model):
    text: str


AGENT = AgentDefinition(
    role=AgentRole.qa,
    input_model=Topic,
    output_model=Summary,
    offline_answer=lambda t: Summary(text=t.name),
    purpose="summarises a topic",
)


def reply(prompt: int, completion: int, cost: float = 0.0, attempts: int = 1) -> AgentReply:
    return AgentReply(
        content='{"text":"x"}',
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
        provider="openai",
        model="gpt-4o",
        cost_usd=cost,
        attempts=attempts,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- prices ------------------------------------------------------------------------------------


def test_price_lookup_exact_family_prefix_and_unknown():
    table = PriceTable()
    usage = Usage(prompt_tokens=2_000_000, completion_tokens=1_000_000)
    assert table.cost_usd("gpt-4o", usage) == pytest.approx(2 * 2.50 + 10.00)
    assert table.cost_usd("gpt-4o-mini", usage) == pytest.approx(2 * 0.15 + 0.60)
    assert table.cost_usd("gpt-4o-mini-2024-07-18", usage) == pytest.approx(2 * 0.15 + 0.60)
    assert table.cost_usd("openai/gpt-4o", usage) == pytest.approx(15.0)
    assert table.cost_usd("llama3.1:8b", usage) == 0.0
    assert table.cost_usd("gpt-4omega", usage) == 0.0  # a prefix must end at a dash


def test_price_file_json_and_yaml_override_defaults(tmp_path):
    json_file = tmp_path / "p.json"
    json_file.write_text(json.dumps({"gpt-4o": {"prompt_usd_per_1m": 1, "completion_usd_per_1m": 1}}))
    yaml_file = tmp_path / "p.yml"
    yaml_file.write_text("qwen2.5:\n  prompt_usd_per_1m: 0.2\n  completion_usd_per_1m: 0.4\n")
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert load_price_table(json_file).cost_usd("gpt-4o", usage) == pytest.approx(2.0)
    from_env = price_table_from_env({"MB_PRICE_TABLE": str(yaml_file)})
    assert from_env.cost_usd("qwen2.5", usage) == pytest.approx(0.6)
    assert from_env.cost_usd("gpt-4o", usage) == pytest.approx(12.5)  # defaults kept
    assert price_table_from_env({}).cost_usd("qwen2.5", usage) == 0.0


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bad.json", "{nope", "not valid JSON"),
        ("list.yaml", "- a\n- b\n", "must map model names"),
        ("neg.yaml", "m:\n  prompt_usd_per_1m: -1\n  completion_usd_per_1m: 1\n", "m.prompt_usd_per_1m"),
        ("missing.yaml", "m:\n  prompt_usd_per_1m: 1\n", "completion_usd_per_1m"),
    ],
)
def test_bad_price_file_is_a_one_line_error(tmp_path, name, text, needle):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidSettings) as caught:
        load_price_table(path)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


# -- budgets (pure) ----------------------------------------------------------------------------


def test_budget_breach_is_none_while_there_is_room():
    budget = Budget(max_tokens=1000, max_cost_usd=1.0, max_seconds=60, max_calls=3)
    spent = Spend(calls=2, prompt_tokens=500, completion_tokens=100, cost_usd=0.5)
    assert budget_breach(budget, spent, elapsed_s=10, next_prompt_tokens=300) is None
    assert budget_breach(Budget(), Spend(calls=10**6, prompt_tokens=10**9), 10**6) is None


@pytest.mark.parametrize(
    ("budget", "spent", "elapsed", "next_prompt", "needle"),
    [
        (Budget(max_calls=2), Spend(calls=2), 0, 0, "call budget spent: 2 of 2"),
        (Budget(max_tokens=600), Spend(prompt_tokens=500, completion_tokens=100), 0, 0,
         "token budget spent: 600 of 600"),
        (Budget(max_tokens=1000), Spend(prompt_tokens=500), 0, 501,
         "token budget too small for the next call"),
        (Budget(max_cost_usd=0.25), Spend(cost_usd=0.25), 0, 0, "cost budget spent"),
        (Budget(max_seconds=30), Spend(), 30.0, 0, "time budget spent: 30.0 s of 30 s"),
    ],
)
def test_budget_breach_names_the_spent_budget(budget, spent, elapsed, next_prompt, needle):
    reason = budget_breach(budget, spent, elapsed, next_prompt)
    assert reason is not None and needle in reason


def test_budget_from_env():
    budget = Budget.from_env({"MB_BUDGET_TOKENS": "5000", "MB_BUDGET_USD": "0.5", "MB_BUDGET_CALLS": ""})
    assert budget == Budget(max_tokens=5000, max_cost_usd=0.5)
    with pytest.raises(InvalidSettings, match="MB_BUDGET_TOKENS"):
        Budget.from_env({"MB_BUDGET_TOKENS": "lots"})
    with pytest.raises(InvalidSettings, match="negative"):
        Budget.from_env({"MB_BUDGET_SECONDS": "-5"})


# -- meter -------------------------------------------------------------------------------------


def test_meter_adds_up_per_role_and_in_total():
    meter = Meter()
    qa = build_request(AGENT, Topic(name="a"))
    codegen = qa.model_copy(update={"role": AgentRole.codegen})
    meter.record(qa, reply(100, 10, cost=0.01))
    meter.record(codegen, reply(200, 20, cost=0.02, attempts=3))
    meter.record(qa, reply(300, 30, cost=0.03))
    summary = meter.summary()
    assert summary["total"] == {
        "calls": 3, "attempts": 5, "prompt_tokens": 600, "completion_tokens": 60,
        "cost_usd": pytest.approx(0.06), "total_tokens": 660,
    }
    assert summary["by_role"]["qa"]["calls"] == 2
    assert summary["by_role"]["qa"]["total_tokens"] == 440
    assert summary["by_role"]["codegen"]["attempts"] == 3
    assert json.loads(json.dumps(summary)) == summary  # fit for asset metadata


def test_tokens_exhausted_stops_before_the_next_call():
    requests = [build_request(AGENT, Topic(name=n)) for n in ("a", "b", "c")]
    bundle = [(r, reply(600, 100)) for r in requests]
    replay = ReplayProvider(bundle)
    meter = Meter(Budget(max_tokens=1000))
    served = ExchangeLog()
    ctx = AgentContext(provider=replay, recorders=[meter.record, served], before_call=meter.check)

    run_agent(AGENT, Topic(name="a"), ctx)  # 700 spent
    run_agent(AGENT, Topic(name="b"), ctx)  # 1400 spent: the budget ran out during this call
    with pytest.raises(BudgetExceeded) as caught:
        run_agent(AGENT, Topic(name="c"), ctx)

    assert len(served) == 2  # the third request never reached the provider
    assert "token budget spent: 1,400 of 1,000 tokens used; qa was not called" == str(caught.value)
    assert meter.remaining()["tokens"] == 0


def test_time_and_call_budgets_use_the_meter_clock():
    clock = Clock()
    request = build_request(AGENT, Topic(name="a"))
    meter = Meter(Budget(max_seconds=60, max_calls=2), clock=clock)
    meter.check(request)
    clock.now += 59
    meter.check(request)
    clock.now += 1
    with pytest.raises(BudgetExceeded, match="time budget spent"):
        meter.check(request)

    calls = Meter(Budget(max_calls=1), clock=clock)
    calls.record(request, reply(1, 1))
    with pytest.raises(BudgetExceeded, match="call budget spent: 1 of 1"):
        calls.check(request)


def test_resumed_meter_continues_an_earlier_runs_spending():
    clock = Clock()
    request = build_request(AGENT, Topic(name="a"))
    first = Meter(Budget(max_cost_usd=1.0, max_seconds=100), clock=clock)
    first.record(request, reply(10, 5, cost=0.6))
    clock.now += 40
    summary = json.loads(json.dumps(first.summary()))

    later = Meter.resume(summary, clock=clock)
    assert later.budget == Budget(max_cost_usd=1.0, max_seconds=100)
    assert later.total == first.total
    assert later.elapsed_s == pytest.approx(40)
    later.record(request, reply(10, 5, cost=0.6))
    with pytest.raises(BudgetExceeded, match=r"cost budget spent: \$1.2000 of \$1.0000"):
        later.check(request)
    assert later.summary()["by_role"]["qa"]["calls"] == 2
