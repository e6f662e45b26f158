"""What the canary keeps and reports: samples in, a report with its evidence out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mb_core.canary.variants import Variant
from mb_core.models import Model

METRICS = ("duration_s", "cost_usd", "tokens", "iterations")
Recommendation = Literal["promote", "continue", "roll_back"]


class VariantAssignment(Model):
    """A build's variant, recorded when the build starts."""

    build_id: str
    tenant: str
    variant: Variant
    canary_percent: float | None = None  # None: no canary was set (every build v4)
    randomized: bool = False  # assigned at random, so its sample may be compared
    assigned_at: datetime


class CanarySample(Model):
    """One finished build: its variant and how it went."""

    build_id: str
    tenant: str
    variant: Variant
    randomized: bool
    canary_percent: float | None = None
    success: bool  # released, or its tests and gates passed and it waits for a person
    status: str
    duration_s: float = Field(ge=0)  # running time over all attempts (queue waits excluded)
    cost_usd: float = Field(ge=0)
    tokens: int = Field(ge=0)
    iterations: int = Field(ge=0)
    finished_at: datetime


class CanaryPolicy(Model):
    """The thresholds of the analysis."""

    alpha: float = Field(default=0.05, gt=0, lt=1)  # error rate of the sequential decision
    min_samples: int = Field(default=10, ge=2)  # per variant, before any decision
    # mSPRT mixture scales: the effect sizes the test is most sensitive to.
    tau_success: float = Field(default=0.2, gt=0)  # success-rate difference
    tau_log: float = Field(default=0.5, gt=0)  # difference of log(1 + value) means
    # A guardrail regresses when v4 is higher than baseline by more than this factor (running
    # time, cost): healing is expected to cost something when it repairs.
    guardrail_factor: float = Field(default=2.0, ge=1)
    bootstrap_resamples: int = Field(default=2000, ge=100)
    seed: int = 0


class VariantMetrics(Model):
    variant: Variant
    samples: int
    successes: int
    success_rate: float | None
    median: dict[str, float | None]  # per metric
    mean: dict[str, float | None]
    p90: dict[str, float | None]


class Interval(Model):
    estimate: float | None
    low: float | None
    high: float | None
    level: float = 0.95
    method: str = ""


class FixedTest(Model):
    """A fixed-horizon test (valid for one look; shown as evidence, not decided on)."""

    metric: str
    test: str  # fisher_exact, mann_whitney_u
    statistic: float | None
    p_value: float | None
    # Kayenta's per-metric classification: Pass, or High / Low when v4 differs significantly.
    classification: Literal["Pass", "High", "Low", "NoData"]


class SequentialTest(Model):
    """The always-valid test (mSPRT, normal mixture) on v4 minus baseline, over every prefix of
    the samples in the order they finished: valid however often anyone looks."""

    metric: str
    scale: str  # "rate" or "log1p"
    null_difference: float  # H0: difference <= this (guardrails) or == 0 (success)
    difference: float | None
    likelihood_ratio: float | None
    always_valid_p: float | None  # running minimum of 1/ratio over every prefix
    confidence_sequence: Interval
    significant: bool
    looks: int  # prefixes evaluated (each finished sample is a look)


class ValidationOutcome(Model):
    passed: bool
    summary: str
    expectations: list[dict] = Field(default_factory=list)


class CanaryReport(Model):
    tenant: str  # "" for every tenant together
    generated_at: datetime
    samples: int  # randomized samples analysed
    excluded: int  # samples not assigned at random (no canary set, 0 % or 100 %)
    canary_percents: list[float]
    validation: ValidationOutcome
    variants: dict[str, VariantMetrics]
    fixed_tests: list[FixedTest]
    intervals: dict[str, Interval]  # bootstrap: v4 minus baseline, per metric
    sequential: list[SequentialTest]
    recommendation: Recommendation
    reasons: list[str]
    regression: bool  # a significant regression: the report's asset check fails on it
    policy: CanaryPolicy
