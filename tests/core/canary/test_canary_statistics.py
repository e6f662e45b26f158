"""The canary's statistics on seeded synthetic samples with a known effect, and with none."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from mb_core.canary.decision import recommend
from mb_core.canary.models import CanaryPolicy, ValidationOutcome
from mb_core.canary.statistics import (
    bootstrap_intervals,
    fixed_tests,
    msprt,
    sequential_tests,
    split,
    variant_metrics,
)
from mb_core.canary.variants import Variant

VALID = ValidationOutcome(passed=True, summary="valid")
POLICY = CanaryPolicy()


def decide(samples, policy=POLICY):
    v4, baseline = split(samples)
    return recommend(VALID, len(v4), len(baseline), sequential_tests(samples, policy), policy)


def test_no_effect_gives_no_false_decision_beyond_alpha_however_often_one_looks(samples):
    # 300 experiments of 300 builds, the same success rate and running time on both sides, each
    # looked at after every sample: the decision may go wrong in at most alpha of them.
    runs = 300
    wrong = 0
    for seed in range(runs):
        recommendation, _, _ = decide(samples(300, seed=seed, v4_success=0.7, baseline_success=0.7))
        wrong += recommendation != "continue"
    binomial_margin = 3 * np.sqrt(POLICY.alpha * (1 - POLICY.alpha) / runs)
    assert wrong / runs <= POLICY.alpha + binomial_margin


def test_peeking_with_a_fixed_horizon_test_would_cry_wolf(samples):
    # The same no-effect data with a fixed-horizon z test at every look: the error rate climbs far
    # past alpha. This is what the always-valid test is for (and shows the check above can fail).
    runs, naive = 200, 0
    for seed in range(runs):
        ordered = samples(300, seed=seed, v4_success=0.7, baseline_success=0.7)
        is_v4 = np.array([s.variant is Variant.v4 for s in ordered])
        ok = np.array([float(s.success) for s in ordered])
        a_n, b_n = np.cumsum(is_v4), np.cumsum(~is_v4)
        a_s, b_s = np.cumsum(ok * is_v4), np.cumsum(ok * ~is_v4)
        look = (a_n >= 10) & (b_n >= 10)
        pa, pb, pooled = a_s[look] / a_n[look], b_s[look] / b_n[look], (a_s + b_s)[look] / (a_n + b_n)[look]
        se = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / a_n[look] + 1 / b_n[look]), 1e-12))
        naive += bool((np.abs(pa - pb) / se > stats.norm.ppf(0.975)).any())
    assert naive / runs > 2 * POLICY.alpha


def test_a_strong_regression_rolls_back(samples):
    decisions = [decide(samples(200, seed=seed, v4_success=0.4, baseline_success=0.9)) for seed in range(40)]
    rolled_back = [d for d in decisions if d[0] == "roll_back"]
    assert len(rolled_back) >= 38
    _recommendation, reasons, regression = rolled_back[0]
    assert regression and "success rate is lower on v4" in reasons[0]


def test_a_strong_improvement_promotes(samples):
    decisions = [decide(samples(200, seed=seed, v4_success=0.95, baseline_success=0.5)) for seed in range(40)]
    assert sum(d[0] == "promote" for d in decisions) >= 38
    assert not any(d[2] for d in decisions)


def test_a_running_time_far_past_the_guardrail_rolls_back_even_when_success_is_equal(samples):
    recommendation, reasons, regression = decide(samples(
        200, seed=7, v4_success=0.8, baseline_success=0.8, v4_duration=100.0, baseline_duration=20.0))
    assert (recommendation, regression) == ("roll_back", True)
    assert any("running time on v4 exceeds 2x baseline" in r for r in reasons)


def test_a_running_time_within_the_guardrail_is_no_regression(samples):
    # v4 25 % slower (a repair costs time), the guardrail allows 2x: nothing to roll back for.
    decisions = [decide(samples(200, seed=seed, v4_success=0.8, baseline_success=0.8,
                                v4_duration=25.0, baseline_duration=20.0)) for seed in range(30)]
    assert sum(d[0] == "roll_back" for d in decisions) <= 2


def test_too_few_samples_continue_whatever_they_show(samples):
    few = samples(14, seed=3, v4_success=0.0, baseline_success=1.0)
    recommendation, reasons, regression = decide(few)
    assert recommendation == "continue" and not regression
    assert "at least 10 of each" in reasons[0]


def test_failed_validation_never_decides(samples):
    data = samples(200, seed=1, v4_success=0.2, baseline_success=0.9)
    v4, baseline = split(data)
    bad = ValidationOutcome(passed=False, summary="1 of 9 expectations failed")
    recommendation, reasons, _ = recommend(bad, len(v4), len(baseline), sequential_tests(data, POLICY), POLICY)
    assert recommendation == "continue" and "failed validation" in reasons[0]


def test_the_sequential_p_value_never_rises_as_samples_arrive(samples):
    data = samples(300, seed=11, v4_success=0.75, baseline_success=0.6)
    ps = []
    for n in range(40, 301, 20):
        ps.append(sequential_tests(data[:n], POLICY)[0].always_valid_p)
    assert all(later <= earlier for earlier, later in itertools.pairwise(ps))


def test_the_confidence_sequence_covers_the_true_difference(samples):
    covered = 0
    for seed in range(100):
        data = samples(250, seed=seed, v4_success=0.8, baseline_success=0.6)
        cs = sequential_tests(data, POLICY)[0].confidence_sequence
        covered += cs.low <= 0.2 <= cs.high
    # A 95 % sequence over 100 seeded experiments: 95 expected, three binomial deviations below.
    assert covered >= 89


def test_msprt_before_both_variants_have_enough_samples_makes_no_look():
    result = msprt(np.array([True] * 30 + [False] * 5), np.ones(35), tau=0.2, alpha=0.05, min_samples=10)
    assert result["looks"] == 0 and result["always_valid_p"] is None


def test_fixed_tests_are_fisher_and_mann_whitney_with_kayenta_readings(samples):
    data = samples(200, seed=5, v4_success=0.9, baseline_success=0.5, v4_duration=40.0)
    v4, baseline = split(data)
    tests = {t.metric: t for t in fixed_tests(v4, baseline, 0.05)}
    s4, sb = sum(s.success for s in v4), sum(s.success for s in baseline)
    expected = stats.fisher_exact([[s4, len(v4) - s4], [sb, len(baseline) - sb]]).pvalue
    assert tests["success"].p_value == pytest.approx(expected)
    assert tests["success"].classification == "High"
    assert tests["duration_s"].classification == "High"  # v4 twice as slow
    assert tests["iterations"].classification == "Pass"  # drawn the same on both sides


def test_bootstrap_intervals_hold_the_effect_and_exclude_zero_when_it_is_large(samples):
    data = samples(300, seed=9, v4_success=0.9, baseline_success=0.5)
    v4, baseline = split(data)
    intervals = bootstrap_intervals(v4, baseline, POLICY)
    success = intervals["success"]
    assert 0 < success.low < success.estimate < success.high
    assert success.low < 0.4 < success.high
    again = bootstrap_intervals(v4, baseline, POLICY)  # seeded: the same interval
    assert again["success"] == success
    duration = intervals["duration_s"]
    assert duration.low < 0 < duration.high  # no effect on running time


def test_variant_metrics(samples):
    data = samples(100, seed=2, v4_success=0.5, baseline_success=0.5)
    v4, _ = split(data)
    metrics = variant_metrics(Variant.v4, v4)
    assert metrics.samples == len(v4) and metrics.successes == sum(s.success for s in v4)
    assert metrics.median["duration_s"] == pytest.approx(float(np.median([s.duration_s for s in v4])))
    empty = variant_metrics(Variant.baseline, [])
    assert empty.success_rate is None and empty.median["cost_usd"] is None
