"""Confidence v4: how far a build's result can be trusted, as a score (0-100), a level and the
named risk signals that pulled it down. Pure: a report's parts in, a Confidence out."""

from __future__ import annotations

from mb_core.models import (
    CheckSeverity,
    Confidence,
    ConfidenceLevel,
    QualityCheckResult,
    RelationKind,
    RequirementStatus,
    RequirementTrace,
    SandboxInfo,
    ScaffoldPlan,
    TestCaseResult,
    TestOutcome,
)
from mb_core.quality import category_counts

HIGH, MEDIUM = 80, 55
WEIGHTS: dict[str, float] = {
    "pass_rate": 0.25,
    "category_coverage": 0.15,
    "quality_gates": 0.20,
    "requirements": 0.25,
    "risk": 0.08,
    "iterations": 0.07,
}
# Each unmet requirement takes this many points off the score, on top of its weight above, so
# a build that skips what was asked never reads "high" because its own tests agree with it.
UNMET_PENALTY = 6
UNMET_CAP = HIGH - 1
# A build with a failed ERROR gate is never more than low confidence, whatever else it scores.
FAILED_GATE_CAP = MEDIUM - 1
BASE_CATEGORIES = ("crud", "validation", "rbac", "tenant", "migrations", "security")
HIGH_RISK = 50


def expected_categories(plan: ScaffoldPlan | None) -> list[str]:
    """The test categories a plan's generated suite should hold."""
    expected = list(BASE_CATEGORIES)
    if plan is not None and plan.features:
        expected.append("features")
    if plan is not None and any(r.kind == RelationKind.many_to_many for r in plan.relations):
        expected.append("links")
    return expected


def level_for(score: int) -> ConfidenceLevel:
    if score >= HIGH:
        return ConfidenceLevel.high
    if score >= MEDIUM:
        return ConfidenceLevel.medium
    return ConfidenceLevel.low


def score_confidence(*, tests: list[TestCaseResult], checks: list[QualityCheckResult],
                     plan: ScaffoldPlan | None, iteration: int = 1,
                     sandbox: SandboxInfo | None = None,
                     requirements: list[RequirementTrace] | None = None) -> tuple[Confidence, list[str]]:
    """(confidence, risk signals). Signals are stable names a reader or a dashboard can count."""
    signals: list[str] = []
    ran = [t for t in tests if t.outcome != TestOutcome.skipped]
    passed = sum(t.outcome == TestOutcome.passed for t in ran)
    pass_rate = passed / len(ran) if ran else 0.0
    if not ran:
        signals.append("no_tests")
    elif passed < len(ran):
        signals.append("tests_failing")

    counts = category_counts(tests)
    expected = expected_categories(plan)
    missing = [c for c in expected if counts.get(c, {}).get("total", 0) == 0]
    signals += [f"missing_category:{c}" for c in missing]
    coverage = (len(expected) - len(missing)) / len(expected)

    gates = [c for c in checks if c.severity == CheckSeverity.error]
    failed_gates = [c for c in gates if not c.passed]
    signals += [f"gate_failed:{c.name}" for c in failed_gates]
    signals += [f"warning:{c.name}" for c in checks
                if c.severity == CheckSeverity.warn and not c.passed]
    gate_rate = (len(gates) - len(failed_gates)) / len(gates) if gates else 0.0

    risk_score = plan.risk_score if plan is not None else 100
    if plan is None:
        signals.append("no_plan")
    else:
        if risk_score >= HIGH_RISK:
            signals.append("risk_high")
        signals += [f"risk_flag:{f.value}" for f in plan.risk_flags]
    risk = 1 - min(max(risk_score, 0), 100) / 100

    iterations = max(0.0, 1 - 0.25 * (max(iteration, 1) - 1))
    if iteration > 1:
        signals.append("repaired" if iteration < 3 else "many_iterations")

    if sandbox is not None:
        if sandbox.timed_out:
            signals.append("sandbox_timeout")
        if sandbox.isolation != "bubblewrap":
            signals.append("sandbox_degraded")

    traced = requirements or []
    unmet = [r for r in traced if r.status != RequirementStatus.met]
    signals += [f"requirement_unmet:{r.requirement}" for r in unmet]
    # nothing to trace: full marks only when there is a plan that asked for nothing more
    met_rate = (len(traced) - len(unmet)) / len(traced) if traced else float(plan is not None)

    metrics = {"pass_rate": round(pass_rate, 4), "category_coverage": round(coverage, 4),
               "quality_gates": round(gate_rate, 4), "requirements": round(met_rate, 4),
               "risk": round(risk, 4), "iterations": round(iterations, 4)}
    score = round(100 * sum(WEIGHTS[k] * metrics[k] for k in WEIGHTS)) - UNMET_PENALTY * len(unmet)
    if unmet:  # a build that leaves out what was asked is never "high"
        score = min(score, UNMET_CAP - UNMET_PENALTY * (len(unmet) - 1))
    if failed_gates:
        score = min(score, FAILED_GATE_CAP)
    score = max(0, min(100, score))
    return (Confidence(score=score, level=level_for(score), metrics=metrics, weights=dict(WEIGHTS)),
            signals)
