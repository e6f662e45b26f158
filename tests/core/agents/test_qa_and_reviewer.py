from mb_core.agents.io import DiffStats, QAInput, ReviewInput
from mb_core.agents.qa import classify
from mb_core.agents.reviewer import write_review
from mb_core.models import (
    EntitySpec,
    EvalReport,
    FailureClass,
    FieldSpec,
    FieldType,
    MigrationRevision,
    RiskFlag,
    SandboxInfo,
    ScaffoldPlan,
    TestCaseResult,
    TestOutcome,
)


def _report(outcomes, exit_code=0, timed_out=False, tail=""):
    return EvalReport(
        build_id="b1", passed=False,
        tests=[TestCaseResult(nodeid=f"tests/test_x.py::t{i}", outcome=o) for i, o in enumerate(outcomes)],
        sandbox=SandboxInfo(isolation="bubblewrap", uid=65534, timeout_s=60, exit_code=exit_code,
                            timed_out=timed_out),
        output_tail=tail,
    )


def test_all_passed():
    verdict = classify(QAInput(report=_report([TestOutcome.passed] * 3)))
    assert verdict.passed and verdict.failure_class is None


def test_failures_name_the_first_test_and_cause():
    tail = "E   AssertionError: assert 500 == 201\n"
    verdict = classify(QAInput(report=_report([TestOutcome.passed, TestOutcome.failed], 1, tail=tail)))
    assert not verdict.passed
    assert verdict.failure_class == FailureClass.tests_failed
    assert verdict.failing_tests == ["tests/test_x.py::t1"]
    assert "assert 500 == 201" in verdict.summary


def test_timeout_is_a_sandbox_error():
    verdict = classify(QAInput(report=_report([], exit_code=None, timed_out=True)))
    assert verdict.failure_class == FailureClass.sandbox_error
    assert "timeout" in verdict.summary


def test_no_tests_is_not_a_pass():
    verdict = classify(QAInput(report=_report([], exit_code=5)))
    assert not verdict.passed and verdict.failure_class == FailureClass.sandbox_error


def test_review_body_shows_risk_migrations_and_tests():
    plan = ScaffoldPlan(
        app_name="crm", title="CRM",
        entities=[EntitySpec(name="contact", plural="contacts",
                             fields=[FieldSpec(name="email", type=FieldType.email, pii=True)])],
        risk_score=62, risk_flags=[RiskFlag.pii], risk_notes=["pii: contact.email is personal data"],
        migrations=[MigrationRevision(revision="0001", message="initial", tables=["contact"])],
    )
    report = _report([TestOutcome.passed] * 4)
    report = report.model_copy(update={"passed": True, "tests_passed": 4})
    out = write_review(ReviewInput(plan=plan, diff=DiffStats(files_changed=["a.py"], added_lines=10,
                                                             removed_lines=0, sha256="ab" * 32),
                                   report=report, approval_threshold=50))
    assert "needs a reviewer's approval" in out.pr_body
    assert "| 0001 | initial | contact |" in out.pr_body
    assert "Passed: 4 passed" in out.pr_body
    assert out.risks == ["pii: contact.email is personal data"]
    assert out.recommendation == "approve"


def test_review_body_names_what_the_tree_review_found():
    from mb_core.agents.security import effective_risk
    from mb_core.models import RiskFinding

    plan = ScaffoldPlan(app_name="crm", title="CRM", entities=[], risk_score=20,
                        risk_notes=["base +5: a generated app"])
    finding = RiskFinding(flag=RiskFlag.ci_network, path=".github/workflows/ci.yml",
                          evidence="job test step Upload calls files.example.net")
    score = effective_risk(plan.risk_score, [finding], 50)
    assert score == 50  # 20 + 30, and never below the threshold with a finding
    assert effective_risk(40, [finding, finding.model_copy(update={"flag": RiskFlag.ci_secrets})], 50) == 100
    assert effective_risk(20, [], 50) == 20
    report = _report([TestOutcome.passed]).model_copy(update={
        "passed": True, "tests_passed": 1, "risk_findings": [finding], "risk_score": score})
    out = write_review(ReviewInput(plan=plan, diff=DiffStats(files_changed=["a.py"], added_lines=1,
                                                             removed_lines=0, sha256="ab" * 32),
                                   report=report, approval_threshold=50))
    assert "Score **50/100**" in out.pr_body and "needs a reviewer's approval" in out.pr_body
    assert "ci_network: .github/workflows/ci.yml: job test step Upload calls files.example.net" in out.pr_body
    assert "- `.github/workflows/ci.yml`: ci_network." in out.pr_body
    assert out.risks[0].startswith("ci_network: .github/workflows/ci.yml")
