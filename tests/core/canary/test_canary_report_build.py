"""The whole report: Great Expectations first, then the statistics, then the recommendation."""

from __future__ import annotations

from datetime import UTC, datetime

from mb_core.canary.report import build_report, chart_markdown, summary_markdown
from mb_core.canary.validation import validate_samples

NOW = datetime(2026, 2, 1, tzinfo=UTC)


def test_a_report_on_a_known_regression_says_roll_back_with_its_evidence(samples):
    data = samples(160, seed=21, v4_success=0.3, baseline_success=0.9)
    unrandomized = [s.model_copy(update={"randomized": False, "canary_percent": None})
                    for s in samples(5, seed=99, v4_success=1.0, baseline_success=1.0)]
    report = build_report(data + unrandomized, tenant="acme", now=NOW)
    assert report.validation.passed and report.samples == 160 and report.excluded == 5
    assert report.recommendation == "roll_back" and report.regression
    assert report.variants["v4"].success_rate < report.variants["baseline"].success_rate
    assert report.intervals["success"].high < 0
    text = summary_markdown(report)
    assert "**Recommendation: roll back**" in text and "fisher_exact" in text and "mSPRT" in text
    assert chart_markdown(report).count("\n") > 8


def test_samples_that_fail_validation_keep_the_canary_running(samples):
    data = samples(120, seed=5, v4_success=0.1, baseline_success=0.95)
    data.append(data[0].model_copy())  # one build counted twice
    data.append(data[1].model_copy(update={"build_id": "b-many", "iterations": 99}))
    outcome = validate_samples(data, max_iterations=10)
    failed = {(e["expectation"], e["column"]) for e in outcome.expectations if not e["success"]}
    assert failed == {("expect_column_values_to_be_unique", "build_id"),
                      ("expect_column_values_to_be_between", "iterations")}
    report = build_report(data, tenant="", now=NOW)
    assert not report.validation.passed
    assert report.recommendation == "continue" and not report.regression


def test_no_samples_is_an_empty_report_that_continues():
    report = build_report([], tenant="", now=NOW)
    assert (report.samples, report.recommendation, report.regression) == (0, "continue", False)
    assert report.variants["v4"].samples == 0
