"""Confidence v4: a score and level from named metrics, and the risk signals behind it."""

from __future__ import annotations

from mb_core.evaluation.confidence import expected_categories, level_for, score_confidence
from mb_core.models import (
    CheckSeverity,
    ConfidenceLevel,
    EntitySpec,
    FeatureKind,
    FeatureSpec,
    QualityCheckResult,
    RequirementStatus,
    RequirementTrace,
    RiskFlag,
    SandboxInfo,
    ScaffoldPlan,
    TestCaseResult,
    TestOutcome,
)

NAMES = ["test_entity_a.py::test_create_read_update_delete", "test_entity_a.py::test_invalid_payload_is_422",
         "test_entity_a.py::test_role_without_permission_is_403",
         "test_entity_a.py::test_other_tenant_rows_are_invisible",
         "test_migrations.py::test_upgrade_head_then_downgrade_base", "test_security.py::test_health",
         "test_feature_search_a.py::test_search_is_case_insensitive_and_literal"]
PLAN = ScaffoldPlan(app_name="a", title="A", entities=[EntitySpec(name="a", plural="as")],
                    features=[FeatureSpec(kind=FeatureKind.search, entity="a")], risk_score=20)
BWRAP = SandboxInfo(isolation="bubblewrap", uid=65534, timeout_s=60)


def results(failed: int = 0) -> list[TestCaseResult]:
    return [TestCaseResult(nodeid=f"tests/{n}", outcome=TestOutcome.failed if i < failed else TestOutcome.passed)
            for i, n in enumerate(NAMES)]


def gates(*failed: str) -> list[QualityCheckResult]:
    return [QualityCheckResult(name=n, passed=n not in failed) for n in ("tests_pass", "no_secrets", "rbac_enforced")]


def test_a_clean_build_is_high_confidence_with_no_signals():
    confidence, signals = score_confidence(tests=results(), checks=gates(), plan=PLAN, sandbox=BWRAP)
    assert confidence.level == ConfidenceLevel.high and confidence.score == 98
    assert confidence.metrics == {"pass_rate": 1.0, "category_coverage": 1.0, "quality_gates": 1.0,
                                  "requirements": 1.0, "risk": 0.8, "iterations": 1.0}
    assert signals == []


def test_each_weakness_lowers_the_score_and_is_named():
    base, _ = score_confidence(tests=results(), checks=gates(), plan=PLAN, sandbox=BWRAP)
    risky = PLAN.model_copy(update={"risk_score": 70, "risk_flags": [RiskFlag.pii]})
    worse, signals = score_confidence(tests=results(), checks=gates(), plan=risky, iteration=3,
                                      sandbox=BWRAP.model_copy(update={"isolation": "rlimits"}))
    assert worse.score < base.score
    assert signals == ["risk_high", "risk_flag:pii", "many_iterations", "sandbox_degraded"]
    only_crud = [t for t in results() if "crud" in t.nodeid or "create_read" in t.nodeid]
    thin, signals = score_confidence(tests=only_crud, checks=gates(), plan=PLAN, sandbox=BWRAP)
    assert thin.metrics["category_coverage"] == round(1 / 7, 4)
    assert "missing_category:tenant" in signals and "missing_category:features" in signals


def test_a_failed_error_gate_caps_confidence_at_low():
    confidence, signals = score_confidence(tests=results(failed=1), checks=gates("tests_pass"), plan=PLAN,
                                           sandbox=BWRAP)
    assert confidence.level == ConfidenceLevel.low and confidence.score <= 54
    assert {"tests_failing", "gate_failed:tests_pass"} <= set(signals)
    warn = QualityCheckResult(name="results_table_valid", passed=False, severity=CheckSeverity.warn)
    confidence, signals = score_confidence(tests=results(), checks=gates() + [warn], plan=PLAN, sandbox=BWRAP)
    assert confidence.level == ConfidenceLevel.high and "warning:results_table_valid" in signals


def test_no_tests_and_no_plan():
    confidence, signals = score_confidence(tests=[], checks=[], plan=None)
    assert confidence.score == 7 and confidence.level == ConfidenceLevel.low
    assert {"no_tests", "no_plan"} <= set(signals)


def test_levels_and_expected_categories():
    assert [level_for(s) for s in (100, 80, 79, 55, 54, 0)] == [
        ConfidenceLevel.high, ConfidenceLevel.high, ConfidenceLevel.medium, ConfidenceLevel.medium,
        ConfidenceLevel.low, ConfidenceLevel.low]
    assert "features" in expected_categories(PLAN) and "links" not in expected_categories(PLAN)


def trace(status):
    return RequirementTrace(requirement="R1", kind="relation", quote="contacts and deals",
                            status=status, reason="" if status == RequirementStatus.met else "why")


def test_each_unmet_requirement_lowers_the_score_and_is_named():
    met, signals = score_confidence(tests=results(), checks=gates(), plan=PLAN, sandbox=BWRAP,
                                    requirements=[trace(RequirementStatus.met)] * 4)
    assert met.level == ConfidenceLevel.high and signals == []
    scores = []
    for n in (1, 2, 3):
        rows = [trace(RequirementStatus.met)] * (4 - n) + [
            trace(RequirementStatus.not_implemented).model_copy(update={"requirement": f"R{i}"})
            for i in range(n)]
        c, signals = score_confidence(tests=results(), checks=gates(), plan=PLAN, sandbox=BWRAP,
                                      requirements=rows)
        scores.append(c.score)
        assert signals == [f"requirement_unmet:R{i}" for i in range(n)]
    assert met.score > scores[0] > scores[1] > scores[2]
    assert scores[0] < 80  # one unmet requirement is never "high"
