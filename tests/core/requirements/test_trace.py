"""Requirements traced through the plan and the rendered code to the generated tests."""

from mb_core.agents import product_architect, security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import ArchitectInput, DesignerInput, DiffStats, ReviewInput, SecurityInput
from mb_core.agents.reviewer import write_review
from mb_core.codegen import implemented_elements
from mb_core.gate import gate_for
from mb_core.models import (
    ApprovalDecision,
    EvalReport,
    FeatureKind,
    RequirementStatus,
    TestCaseResult,
    TestOutcome,
)
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import map_to_plan, requirements_gate, trace_requirements
from mb_core.requirements.trace import requirement_keys

BOOKINGS = ("Keep studios and bookings. A studio has many bookings. A studio must never be "
            "double-booked. Each booking has a kind: rehearsal, recording or lesson.")


def plan_for(text):
    ctx = AgentContext(provider=OfflineProvider())
    spec = run_agent(product_architect.DEFINITION, ArchitectInput(text=text), ctx)
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def passing(plan, failing=()):
    nodes = {t for e in implemented_elements(plan) for t in e.tests}
    return [TestCaseResult(nodeid=n, outcome=TestOutcome.failed if n in failing else TestOutcome.passed)
            for n in sorted(nodes)]


def by_key(plan, rows):
    keys = {req.id: requirement_keys(req)[0] for req in plan.requirements}
    return {keys[r.requirement]: r for r in rows}


def test_the_demo_traces_deal_to_contact_to_files_and_tests():
    plan = plan_for("Build a CRM system with contacts and deals")
    rows = by_key(plan, trace_requirements(plan, passing(plan)))
    rel = rows["relation:contact->deal"]
    assert rel.elements == ["relation:contact->deal"]
    assert "app/models/deal.py" in rel.files and rel.tests
    assert rel.status == RequirementStatus.met
    assert requirements_gate(list(rows.values())).passed


def test_a_failing_test_fails_the_requirement_it_exercises():
    plan = plan_for(BOOKINGS)
    rows = by_key(plan, trace_requirements(plan, passing(plan)))
    overlap = rows["rule:no_overlap:booking"]
    assert overlap.status == RequirementStatus.met
    broken = passing(plan, failing={overlap.tests[0]})
    again = by_key(plan, trace_requirements(plan, broken))["rule:no_overlap:booking"]
    assert again.status == RequirementStatus.failed and overlap.tests[0] in again.reason


def test_removing_a_rule_from_the_plan_leaves_the_requirement_unmet_with_its_reason():
    plan = plan_for(BOOKINGS)
    stripped = plan.model_copy(update={"features": [
        f for f in plan.features if f.kind != FeatureKind.scheduling]})
    stripped = map_to_plan(stripped, stripped.requirements)
    rows = by_key(stripped, trace_requirements(stripped, passing(stripped)))
    overlap = rows["rule:no_overlap:booking"]
    assert overlap.status == RequirementStatus.not_implemented
    assert "scheduling" in overlap.reason
    gate = requirements_gate(list(rows.values()))
    assert not gate.passed and any("no_overlap" in line for line in gate.evidence["unmet"])


def test_a_per_parent_total_is_traced_to_the_tests_that_check_its_numbers():
    plan = plan_for("Keep donors and donations. Show the total of donations per donor.")
    rows = by_key(plan, trace_requirements(plan, passing(plan)))
    report = rows["report:donation"]
    assert report.status == RequirementStatus.met, report.reason
    assert report.tests and all(t.startswith("tests/") for t in report.tests)


def test_unmet_requirements_hold_a_passing_build_for_approval_and_are_in_the_pr_body():
    plan = plan_for("Keep sales with an amount. Show a chart of sales per month.")
    rows = trace_requirements(plan, passing(plan))
    unmet = [r for r in rows if r.status != RequirementStatus.met]
    assert unmet and "user interface" in unmet[0].reason
    assert "--provider openai" in unmet[0].reason
    report = EvalReport(build_id="b1", passed=True, requirements=rows,
                        checks=[requirements_gate(rows)])
    gate = gate_for("b1", risk_score=0, threshold=50, report=report)
    assert gate.decision == ApprovalDecision.pending and "not met" in gate.reason
    review = write_review(ReviewInput(plan=plan, report=report, approval_threshold=50,
                                      diff=DiffStats(files_changed=[], added_lines=0,
                                                     removed_lines=0, sha256="0" * 64)))
    assert "Not built or not proven" in review.pr_body and unmet[0].quote in review.pr_body
    assert review.recommendation == "request_changes"


def test_a_build_that_meets_every_requirement_releases_below_the_threshold():
    plan = plan_for("Build a CRM system with contacts and deals")
    rows = trace_requirements(plan, passing(plan))
    report = EvalReport(build_id="b2", passed=True, requirements=rows)
    assert gate_for("b2", risk_score=10, threshold=50, report=report).decision == \
        ApprovalDecision.auto_approved


# Phrasings written for these tests: a limit per parent, two dates in order, a due date.
RULE_SPECS = {
    "capacity": "Keep workshops and enrollments. A workshop has many enrollments. A workshop can "
                "take at most 12 enrollments.",
    "date_order": "Keep trips with a start date and an end date. The end date must be after the "
                  "start date.",
    "due_overdue": "Keep invoices with an amount and a due date. Show the overdue invoices.",
}


def test_rules_the_reader_finds_are_built_with_the_generators_options():
    from mb_core.codegen import render_all

    for rule, text in RULE_SPECS.items():
        plan = plan_for(text)
        assert render_all(plan), rule  # the plan renders: no option the generator cannot read
        traced = {r.kind: r for r in trace_requirements(plan, passing(plan))}
        wanted = [r for r in trace_requirements(plan, passing(plan)) if r.kind == f"rule:{rule}"]
        assert wanted, (rule, sorted(traced))
        assert all(r.status == RequirementStatus.met for r in wanted), [(r.kind, r.reason) for r in wanted]


def test_a_second_workflow_on_one_record_is_reported_and_leaves_the_first_intact():
    # borrow/return read first, approve/reject second (and the other way round): the generator
    # gives a record one status workflow; the second must not rewrite the first one's states.
    for text, built, left in [
        ("Keep equipment loans. Staff borrow and return loans. A manager approves or rejects loans.",
         "borrow_return", "approve_reject"),
        ("Keep loans. A manager approves or rejects loans. Staff borrow and return loans.",
         "approve_reject", "borrow_return"),
    ]:
        plan = plan_for(text)
        (workflow,) = [f for f in plan.features if f.kind == FeatureKind.status_workflow]
        assert implemented_elements(plan)  # the plan renders
        rows = trace_requirements(plan, passing(plan))
        traced = {req.params["action"]: row for req in plan.requirements if req.kind == "workflow"
                  for row in rows if row.requirement == req.id}
        assert traced[built].status == RequirementStatus.met, (text, workflow.options)
        assert traced[left].status == RequirementStatus.not_implemented
        assert "loan workflow has no" in traced[left].reason
