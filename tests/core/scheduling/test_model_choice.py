from __future__ import annotations

import pytest

from mb_core.metering import ModelPrice, PriceTable, listed_model
from mb_core.scheduling import ModelStats, choose_model

PRICES = PriceTable(prices={
    "small": ModelPrice(prompt_usd_per_1m=0.10, completion_usd_per_1m=0.40),
    "medium": ModelPrice(prompt_usd_per_1m=0.40, completion_usd_per_1m=1.60),
    "large": ModelPrice(prompt_usd_per_1m=2.50, completion_usd_per_1m=10.00),
})
MODELS = ["large", "small", "medium"]
# Expected build: 60k prompt + 20k completion tokens -> small $0.014, medium $0.056, large $0.35.


def stats(model, latency=None, finished=0, released=0):
    return ModelStats(model=model, calls=10, mean_latency_s=latency,
                      builds_finished=finished, builds_released=released)


def test_normal_takes_the_cheapest_and_thorough_the_most_capable():
    assert choose_model("normal", MODELS, PRICES, {}, budget_left_usd=None).model == "small"
    assert choose_model("thorough", MODELS, PRICES, {}, budget_left_usd=None).model == "large"


def test_fast_takes_the_lowest_observed_latency():
    observed = {"small": stats("small", 4.0), "medium": stats("medium", 1.2), "large": stats("large", 2.0)}
    choice = choose_model("fast", MODELS, PRICES, observed, budget_left_usd=None)
    assert choice.model == "medium"
    assert choice.reason == "fast: lowest observed latency"
    # A model never seen is not assumed fast.
    only_large_seen = {"large": stats("large", 9.0)}
    assert choose_model("fast", MODELS, PRICES, only_large_seen, budget_left_usd=None).model == "large"


def test_the_budget_left_rules_out_what_it_cannot_pay_for():
    choice = choose_model("thorough", MODELS, PRICES, {}, budget_left_usd=0.10)
    assert choice.model == "medium"
    assert choice.estimated_cost_usd == pytest.approx(0.056)
    assert "1 over the $0.1000 left" in choice.reason
    broke = choose_model("thorough", MODELS, PRICES, {}, budget_left_usd=0.001)
    assert broke.model == "small"
    assert broke.reason.startswith("no model fits the $0.0010 left")


def test_a_model_seen_failing_is_passed_over_while_another_remains():
    observed = {"small": stats("small", 1.0, finished=10, released=2),
                "medium": stats("medium", 2.0, finished=10, released=9)}
    choice = choose_model("normal", MODELS, PRICES, observed, budget_left_usd=None)
    assert choice.model == "medium"
    assert "seen failing" in choice.reason
    # Too few samples: the rate is not trusted yet.
    few = {"small": stats("small", 1.0, finished=3, released=0)}
    assert choose_model("normal", MODELS, PRICES, few, budget_left_usd=None).model == "small"
    # When every model fails, the tier still gets one.
    bad = {m: stats(m, 1.0, finished=10, released=1) for m in MODELS}
    assert choose_model("normal", MODELS, PRICES, bad, budget_left_usd=None).model == "small"


def test_thorough_prefers_observed_success_over_list_price():
    observed = {"medium": stats("medium", finished=20, released=19),
                "large": stats("large", finished=20, released=14)}
    assert choose_model("thorough", MODELS, PRICES, observed, budget_left_usd=None).model == "medium"


def test_the_order_of_candidates_does_not_matter():
    for tier in ("fast", "normal", "thorough"):
        answers = {choose_model(tier, order, PRICES, {}, budget_left_usd=1.0).model
                   for order in (MODELS, list(reversed(MODELS)), sorted(MODELS))}
        assert len(answers) == 1


def test_unpriced_local_models_cost_nothing():
    choice = choose_model("normal", ["local-llama", "large"], PRICES, {}, budget_left_usd=0.0)
    assert (choice.model, choice.estimated_cost_usd) == ("local-llama", 0.0)


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError):
        choose_model("normal", [], PRICES, {}, budget_left_usd=None)


def test_a_served_name_stands_for_its_family_the_longest_first():
    candidates = ["gpt-4o", "gpt-4o-mini", "llama3"]
    assert listed_model("gpt-4o-mini-2024-07-18", candidates) == "gpt-4o-mini"
    assert listed_model("gpt-4o-2024-08-06", candidates) == "gpt-4o"
    assert listed_model("openai/gpt-4o", candidates) == "gpt-4o"
    assert listed_model("llama3", candidates) == "llama3"
    assert listed_model("llama3.1", candidates) is None  # a different model, not a snapshot
    assert listed_model("mistral-7b", candidates) is None
