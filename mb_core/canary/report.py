"""The canary report: samples in, per-variant metrics, tests, intervals and a recommendation out,
plus its markdown summary and chart (what the Dagster asset and the CLI show)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mb_core.canary.decision import recommend
from mb_core.canary.models import METRICS, CanaryPolicy, CanaryReport, CanarySample
from mb_core.canary.statistics import (
    bootstrap_intervals,
    fixed_tests,
    sequential_tests,
    split,
    variant_metrics,
)
from mb_core.canary.validation import validate_samples
from mb_core.canary.variants import Variant


def build_report(samples: Sequence[CanarySample], *, tenant: str, now: datetime,
                 policy: CanaryPolicy | None = None) -> CanaryReport:
    """The report over the samples assigned at random (the others are counted, not compared)."""
    policy = policy or CanaryPolicy()
    compared = [s for s in samples if s.randomized]
    validation = validate_samples(compared)
    v4, baseline = split(compared)
    sequential = sequential_tests(compared, policy)
    recommendation, reasons, regression = recommend(validation, len(v4), len(baseline), sequential, policy)
    return CanaryReport(
        tenant=tenant, generated_at=now, samples=len(compared), excluded=len(samples) - len(compared),
        canary_percents=sorted({s.canary_percent for s in compared if s.canary_percent is not None}),
        validation=validation,
        variants={Variant.v4.value: variant_metrics(Variant.v4, v4),
                  Variant.baseline.value: variant_metrics(Variant.baseline, baseline)},
        fixed_tests=fixed_tests(v4, baseline, policy.alpha),
        intervals=bootstrap_intervals(v4, baseline, policy),
        sequential=sequential, recommendation=recommendation, reasons=reasons,
        regression=regression, policy=policy,
    )


def _num(value: float | None, fmt: str = "{:.4g}") -> str:
    return "-" if value is None else fmt.format(value)


def summary_markdown(report: CanaryReport) -> str:
    lines = [f"**Recommendation: {report.recommendation.replace('_', ' ')}**", ""]
    lines += [f"- {reason}" for reason in report.reasons]
    lines += ["", (f"{report.samples} samples compared ({report.excluded} not assigned at random); "
                  f"canary at {', '.join(f'{p:g} %' for p in report.canary_percents) or '-'}; "
                  f"validation: {report.validation.summary}."), "",
              "| test | metric | statistic | p | reading |", "|---|---|---|---|---|"]
    for t in report.fixed_tests:
        lines.append(f"| {t.test} | {t.metric} | {_num(t.statistic)} | {_num(t.p_value)} | {t.classification} |")
    for t in report.sequential:
        cs = t.confidence_sequence
        lines.append(f"| mSPRT ({t.scale}, H0 diff {'<=' if t.metric != 'success' else '='} "
                     f"{t.null_difference:.3g}) | {t.metric} | diff {_num(t.difference)} "
                     f"[{_num(cs.low)}, {_num(cs.high)}] | {_num(t.always_valid_p)} (always valid) | "
                     f"{'significant' if t.significant else 'not significant'}, {t.looks} looks |")
    lines += ["", "| v4 minus baseline (bootstrap 95 %) | estimate | low | high |", "|---|---|---|---|"]
    for name, interval in report.intervals.items():
        lines.append(f"| {name} | {_num(interval.estimate)} | {_num(interval.low)} | {_num(interval.high)} |")
    return "\n".join(lines)


def chart_markdown(report: CanaryReport, width: int = 30) -> str:
    """Bars per variant: success rate, and median running time / cost against the larger one."""
    rows = []
    variants = [report.variants[v.value] for v in Variant]
    for metric, label in [("success_rate", "success rate"), *[(m, f"median {m}") for m in METRICS]]:
        values = [v.success_rate if metric == "success_rate" else v.median.get(metric) for v in variants]
        top = 1.0 if metric == "success_rate" else max([x for x in values if x is not None] or [0]) or 1.0
        for variant, value in zip(variants, values, strict=True):
            bar = "#" * round(width * (value or 0) / top)
            rows.append(f"{label:<22} {variant.variant.value:<8} |{bar:<{width}}| {_num(value)}")
    return "```\n" + "\n".join(rows) + "\n```"
