"""The canary's statistics, as pure functions over samples.

- per-variant metrics (success rate, median / mean / p90 of running time, cost, tokens, iterations);
- fixed-horizon tests as Kayenta reads them: Fisher's exact test on success, Mann-Whitney U on each
  metric, each classified Pass / High / Low (evidence only: they are valid for one look);
- bootstrap intervals (scipy.stats.bootstrap) of v4 minus baseline;
- the always-valid test the decision rests on: a mixture sequential probability ratio test
  (mSPRT, normal mixture; Johari, Pekelis, Walsh, "Always valid inference", 2017) over every
  prefix of the samples in the order they finished. Its p-value is the running minimum of 1/ratio,
  and its confidence sequence the running intersection, so looking after every sample (the worst a
  schedule can do) keeps the error rate at alpha.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from mb_core.canary.models import (
    METRICS,
    CanaryPolicy,
    CanarySample,
    FixedTest,
    Interval,
    SequentialTest,
    VariantMetrics,
)
from mb_core.canary.variants import Variant

_VARIANCE_FLOOR = 1e-6  # identical values would make the ratio infinite


def in_finish_order(samples: Sequence[CanarySample]) -> list[CanarySample]:
    return sorted(samples, key=lambda s: (s.finished_at, s.build_id))


def split(samples: Sequence[CanarySample]) -> tuple[list[CanarySample], list[CanarySample]]:
    return ([s for s in samples if s.variant is Variant.v4],
            [s for s in samples if s.variant is Variant.baseline])


def _values(samples: Sequence[CanarySample], metric: str) -> np.ndarray:
    return np.array([float(getattr(s, metric)) for s in samples], dtype=float)


def variant_metrics(variant: Variant, samples: Sequence[CanarySample]) -> VariantMetrics:
    def stat(fn, metric):
        values = _values(samples, metric)
        return round(float(fn(values)), 6) if len(values) else None

    successes = sum(s.success for s in samples)
    return VariantMetrics(
        variant=variant, samples=len(samples), successes=successes,
        success_rate=round(successes / len(samples), 6) if samples else None,
        median={m: stat(np.median, m) for m in METRICS},
        mean={m: stat(np.mean, m) for m in METRICS},
        p90={m: stat(lambda v: np.quantile(v, 0.9), m) for m in METRICS},
    )


def _classify(p_value: float | None, higher: bool, alpha: float) -> str:
    if p_value is None or math.isnan(p_value):
        return "NoData"
    if p_value >= alpha:
        return "Pass"
    return "High" if higher else "Low"


def fixed_tests(v4: Sequence[CanarySample], baseline: Sequence[CanarySample],
                alpha: float) -> list[FixedTest]:
    from scipy import stats

    tests: list[FixedTest] = []
    if v4 and baseline:
        s4, sb = sum(s.success for s in v4), sum(s.success for s in baseline)
        odds, p = stats.fisher_exact([[s4, len(v4) - s4], [sb, len(baseline) - sb]])
        tests.append(FixedTest(metric="success", test="fisher_exact",
                               statistic=None if math.isinf(odds) or math.isnan(odds) else float(odds),
                               p_value=float(p), classification=_classify(
                                   p, s4 / len(v4) > sb / len(baseline), alpha)))
    else:
        tests.append(FixedTest(metric="success", test="fisher_exact", statistic=None, p_value=None,
                               classification="NoData"))
    for metric in METRICS:
        a, b = _values(v4, metric), _values(baseline, metric)
        if len(a) == 0 or len(b) == 0:
            tests.append(FixedTest(metric=metric, test="mann_whitney_u", statistic=None, p_value=None,
                                   classification="NoData"))
            continue
        result = stats.mannwhitneyu(a, b, alternative="two-sided")
        u, p = float(result.statistic), float(result.pvalue)
        p = None if math.isnan(p) else p
        tests.append(FixedTest(metric=metric, test="mann_whitney_u", statistic=u, p_value=p,
                               classification=_classify(p, u > len(a) * len(b) / 2, alpha)))
    return tests


def bootstrap_intervals(v4: Sequence[CanarySample], baseline: Sequence[CanarySample],
                        policy: CanaryPolicy) -> dict[str, Interval]:
    """95 % percentile-bootstrap intervals of v4 minus baseline: the success rate's difference and
    each metric's difference of medians."""
    from scipy import stats

    def mean_diff(x, y, axis=-1):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    def median_diff(x, y, axis=-1):
        return np.median(x, axis=axis) - np.median(y, axis=axis)

    out: dict[str, Interval] = {}
    for metric, statistic, what in [("success", mean_diff, "difference of success rates"),
                                    *[(m, median_diff, "difference of medians") for m in METRICS]]:
        name = "success" if metric == "success" else metric
        a = np.array([float(s.success) for s in v4]) if metric == "success" else _values(v4, metric)
        b = (np.array([float(s.success) for s in baseline]) if metric == "success"
             else _values(baseline, metric))
        if len(a) < 2 or len(b) < 2:
            out[name] = Interval(estimate=None, low=None, high=None, method=f"bootstrap: {what}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate resamples (all equal) are expected
            result = stats.bootstrap((a, b), statistic, vectorized=True, paired=False,
                                     n_resamples=policy.bootstrap_resamples, confidence_level=0.95,
                                     method="percentile", rng=np.random.default_rng(policy.seed))
        low, high = result.confidence_interval
        out[name] = Interval(estimate=round(float(statistic(a, b)), 6), low=_finite(low),
                             high=_finite(high), method=f"bootstrap percentile: {what}")
    return out


def _finite(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def msprt(is_v4: np.ndarray, values: np.ndarray, *, tau: float, alpha: float, min_samples: int,
          null_difference: float = 0.0, one_sided: bool = False, bernoulli: bool = False
          ) -> dict:
    """The mSPRT of H0: mean(v4) - mean(baseline) = null_difference (one_sided: <=), over every
    prefix in the given order, once both variants have `min_samples`.

    Returns the last look's difference and ratio, the always-valid p-value (running minimum of
    1/ratio, capped at 1), the confidence sequence (running intersection) and the number of looks.
    For 0/1 values (`bernoulli`) the variance uses rates shrunk by half a success and half a
    failure, so a run of all successes does not read as certainty.
    """
    is_v4 = np.asarray(is_v4, dtype=bool)
    values = np.asarray(values, dtype=float)
    a_n, b_n = np.cumsum(is_v4), np.cumsum(~is_v4)
    a_sum, b_sum = np.cumsum(np.where(is_v4, values, 0.0)), np.cumsum(np.where(is_v4, 0.0, values))
    a_sq, b_sq = (np.cumsum(np.where(is_v4, values ** 2, 0.0)),
                  np.cumsum(np.where(is_v4, 0.0, values ** 2)))
    looks = (a_n >= min_samples) & (b_n >= min_samples)
    empty = {"difference": None, "log_ratio": None, "always_valid_p": None, "low": None, "high": None,
             "looks": 0}
    if not looks.any():
        return empty
    a_n, b_n, a_sum, b_sum, a_sq, b_sq = (x[looks].astype(float) for x in (a_n, b_n, a_sum, b_sum, a_sq, b_sq))
    a_mean, b_mean = a_sum / a_n, b_sum / b_n
    if bernoulli:
        a_p, b_p = (a_sum + 0.5) / (a_n + 1), (b_sum + 0.5) / (b_n + 1)
        variance = a_p * (1 - a_p) / a_n + b_p * (1 - b_p) / b_n
    else:
        a_var = np.maximum(a_sq - a_sum ** 2 / a_n, 0.0) / (a_n - 1)
        b_var = np.maximum(b_sq - b_sum ** 2 / b_n, 0.0) / (b_n - 1)
        variance = a_var / a_n + b_var / b_n
    variance = np.maximum(variance, _VARIANCE_FLOOR)
    difference = a_mean - b_mean
    shifted = difference - null_difference
    tau2 = tau * tau
    log_ratio = 0.5 * np.log(variance / (variance + tau2)) + tau2 * shifted ** 2 / (2 * variance * (variance + tau2))
    if one_sided:
        log_ratio = np.where(shifted > 0, log_ratio, -np.inf)
    p_running = np.minimum(1.0, np.exp(-np.maximum.accumulate(log_ratio)))
    radius = np.sqrt(2 * variance * (variance + tau2) / tau2
                     * (math.log(1 / alpha) + 0.5 * np.log((variance + tau2) / variance)))
    low, high = np.max(difference - radius), np.min(difference + radius)
    return {"difference": float(difference[-1]), "log_ratio": float(log_ratio[-1]),
            "always_valid_p": float(p_running[-1]), "low": float(low), "high": float(high),
            "looks": int(looks.sum())}


def sequential_tests(samples: Sequence[CanarySample], policy: CanaryPolicy) -> list[SequentialTest]:
    """The success test (two-sided) and the guardrails on running time and cost (v4 more than
    `guardrail_factor` times baseline, on log(1 + value))."""
    ordered = in_finish_order(samples)
    is_v4 = np.array([s.variant is Variant.v4 for s in ordered], dtype=bool)
    specs = [("success", "rate", np.array([float(s.success) for s in ordered]), policy.tau_success, 0.0,
              False, True)]
    guard = math.log(policy.guardrail_factor)
    for metric in ("duration_s", "cost_usd"):
        specs.append((metric, "log1p", np.log1p(_values(ordered, metric)), policy.tau_log, guard, True, False))
    tests = []
    for metric, scale, values, tau, null, one_sided, bernoulli in specs:
        if len(values) == 0:
            found = {"difference": None, "log_ratio": None, "always_valid_p": None, "low": None,
                     "high": None, "looks": 0}
        else:
            found = msprt(is_v4, values, tau=tau, alpha=policy.alpha, min_samples=policy.min_samples,
                          null_difference=null, one_sided=one_sided, bernoulli=bernoulli)
        p = found["always_valid_p"]
        ratio = found["log_ratio"]
        tests.append(SequentialTest(
            metric=metric, scale=scale, null_difference=round(null, 6),
            difference=None if found["difference"] is None else round(found["difference"], 6),
            likelihood_ratio=None if ratio is None or math.isinf(ratio) else round(math.exp(min(ratio, 700)), 6),
            always_valid_p=None if p is None else round(p, 6),
            confidence_sequence=Interval(
                estimate=None if found["difference"] is None else round(found["difference"], 6),
                low=None if found["low"] is None else round(found["low"], 6),
                high=None if found["high"] is None else round(found["high"], 6),
                level=1 - policy.alpha, method="mSPRT confidence sequence"),
            significant=p is not None and p < policy.alpha, looks=found["looks"]))
    return tests
