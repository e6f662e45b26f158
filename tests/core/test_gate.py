from mb_core.gate import gate_for
from mb_core.models import ApprovalDecision, EvalReport


def report(passed: bool) -> EvalReport:
    return EvalReport(build_id="b1", passed=passed, failure_summary="" if passed else "2 tests failed")


def test_below_threshold_is_auto_approved():
    gate = gate_for("b1", 49, 50, report(True))
    assert gate.decision == ApprovalDecision.auto_approved
    assert "below the threshold 50" in gate.reason


def test_at_threshold_waits_and_says_how_to_decide():
    gate = gate_for("b1", 50, 50, report(True))
    assert gate.decision == ApprovalDecision.pending
    assert "mb approve b1" in gate.reason


def test_failed_evaluation_never_releases_whatever_the_risk():
    gate = gate_for("b1", 0, 50, report(False))
    assert gate.decision == ApprovalDecision.rejected
    assert "2 tests failed" in gate.reason


def test_a_held_finding_waits_for_a_person_whatever_the_score():
    from mb_core.models import RiskFinding, RiskFlag

    finding = RiskFinding(flag=RiskFlag.ci_secrets, path=".github/workflows/ci.yml",
                          evidence="job test step 2 reads secrets TOKEN in its command")
    held = report(True).model_copy(update={"risk_findings": [finding]})
    gate = gate_for("b1", 10, 50, held)
    assert gate.decision == ApprovalDecision.pending
    assert "ci_secrets: .github/workflows/ci.yml: job test step 2 reads secrets TOKEN" in gate.reason
