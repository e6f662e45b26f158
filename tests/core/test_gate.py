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
