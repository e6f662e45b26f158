from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mb_core.models import BuildStep, StepStatus
from mb_core.scheduling import sla_report

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def step(name, after_s, status=StepStatus.succeeded):
    return BuildStep(build_id="b1", name=name, status=status, started_at=T0,
                     finished_at=T0 + timedelta(seconds=after_s))


def test_a_build_within_its_targets_has_no_violation():
    report = sla_report("normal", T0, [step("spec", 2), step("diff", 20), step("artifact", 90)],
                        now=T0 + timedelta(seconds=100))
    assert (report.time_to_first_artifact_s, report.time_to_release_s) == (20.0, 90.0)
    assert report.violations == []


def test_the_same_build_misses_the_fast_tier():
    report = sla_report("fast", T0, [step("diff", 75), step("artifact", 200)], now=T0 + timedelta(seconds=210))
    assert [v.text for v in report.violations] == [
        "time_to_first_artifact: 75.0 s, target 60 s", "time_to_release: 200.0 s, target 180 s"]


def test_a_measure_not_reached_counts_once_its_target_has_passed():
    steps = [step("diff", 30, StepStatus.failed)]
    assert sla_report("fast", T0, steps, now=T0 + timedelta(seconds=50)).violations == []
    late = sla_report("fast", T0, steps, now=T0 + timedelta(seconds=61))
    assert [(v.measure, v.actual_s) for v in late.violations] == [("time_to_first_artifact", None)]


def test_the_first_success_counts_when_a_step_ran_again():
    report = sla_report("normal", T0, [step("diff", 400), step("diff", 100)], now=T0 + timedelta(seconds=500))
    assert report.time_to_first_artifact_s == 100.0
