"""Removing one generated rule makes a named generated test fail: the tests check the rules, not
just whatever the generator happened to write.

Each case renders a plan, neutralises one guard in the generated code, keeps only the test file
that names the rule, runs it in the real sandbox and expects exactly that test to fail; the same
file passes on the untouched code (test_generated_project runs every generated suite whole).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mb_core.codegen import implemented_elements, render_all
from mb_core.models import TestOutcome
from mb_core.sandbox import run_tests
from tests.core.codegen.conftest import booking_plan, crm_plan, rules_plan


def _plan_of(text: str):
    """The offline agents' plan of a spec written for these cases."""
    from mb_core.agents import security, system_designer
    from mb_core.agents.base import AgentContext, run_agent
    from mb_core.agents.io import DesignerInput, SecurityInput
    from mb_core.providers.offline import OfflineProvider
    from mb_core.spec import read_spec

    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=read_spec(text)), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def lending_plan():
    return _plan_of("Keep tools and members. Members can borrow and return tools.")


def front_desk_plan():
    return _plan_of("Keep rooms and bookings. Receptionists check bookings in and out.")

def claims_plan():
    # clerks may edit claims, so only the approve/reject actions' own roles keep them from deciding
    return _plan_of("Employees file expense claims with an amount and a date. Clerks can edit "
                    "expense claims. Only managers may approve or reject expense claims.")


def guarded_cancel_plan():
    # cancelling is allowed while pending alone: the move is a named action from that state
    return _plan_of("Customers place purchases. A purchase has a status: pending, packed, sent or "
                    "cancelled. A purchase can be cancelled while pending.")


def paid_lock_plan():
    # a paid invoice is fixed: its PATCH is refused, which only the lock on the update does
    return _plan_of("Keep invoices with a number, an amount and a status: draft, sent or paid. "
                    "Once an invoice is paid it can no longer be edited.")


# (plan, element key, file to change, text there, what replaces it, the test that must fail)
CASES = [
    (crm_plan, "relation:contact->deal", "app/routers/contact.py",
     ".where(Deal.contact_id == item_id, ", ".where(", "tests/test_relations.py::test_list_deals_of_contact"),
    (crm_plan, "feature:status_workflow:deal", "app/routers/deal.py",
     "if payload.to not in TRANSITIONS.get(current, ()):", "if payload.to not in TRANSITIONS:",
     "tests/test_feature_status_workflow_deal.py::test_disallowed_transition_is_409"),
    (booking_plan, "feature:scheduling:booking", "app/routers/booking.py",
     "    if found is not None:\n        raise HTTPException(409", "    if found is False:\n        raise HTTPException(409",
     "tests/test_feature_scheduling_booking.py::test_overlap_is_409_and_adjacent_is_fine"),
    (rules_plan, "feature:capacity:enrollment", "app/routers/enrollment.py",
     "if count >= limit:", "if count > limit:",
     "tests/test_feature_capacity_enrollment.py::test_capacity_refuses_one_more_enrollment"),
    (rules_plan, "choices:member.level", "app/schemas/member.py",
     'level: Literal["starter", "regular", "expert"]', "level: str",
     "tests/test_entity_member.py::test_level_outside_choices_is_422"),
    (rules_plan, "unique:member.email", "app/models/member.py",
     'sa.UniqueConstraint("tenant_id", "email", name="uq_members_email"),', "",
     "tests/test_entity_member.py::test_duplicate_email_is_409"),
    (rules_plan, "feature:reports:payment", "app/routers/payment.py",
     "sums = [sa.func.sum(column)", "sums = [sa.func.max(column)",
     "tests/test_feature_reports_payment.py::test_report_counts_and_sums_per_group"),
    (rules_plan, "feature:date_order:rental", "app/routers/rental.py",
     "if end < start:", "if end < start and False:",
     "tests/test_feature_date_order_rental.py::test_end_before_start_is_422"),
    (rules_plan, "feature:due_overdue:rental", "app/routers/rental.py",
     "        Rental.returned.is_not(True),\n", "",
     "tests/test_feature_due_overdue_rental.py::test_overdue_lists_rows_past_due_and_not_done"),
    (rules_plan, "feature:value_range:payment", "app/schemas/payment.py",
     "ge=1, le=5", "ge=-2147483648, le=2147483647",
     "tests/test_feature_value_range_payment.py::test_rating_outside_its_range_is_422"),
    (rules_plan, "role:manager:leave_request:approve", "app/permissions.py",
     '"leave_request": frozenset({"read", "update", "approve", "reject"}),',
     '"leave_request": frozenset({"read", "update", "reject"}),',
     "tests/test_feature_status_workflow_leave_request.py::test_approve_leave_request"),
    (lending_plan, "role:member:tool:borrow", "app/routers/tool.py",
     'if current not in ("available",):', "if False:",
     "tests/test_feature_status_workflow_tool.py::test_borrow_tool"),
    (lending_plan, "role:member:tool:give_back", "app/routers/tool.py",
     'row.status = "available"', "row.status = current",
     "tests/test_feature_status_workflow_tool.py::test_give_back_tool"),
    (claims_plan, "action_roles:expense_claim:approve", "app/permissions.py",
     '"expense_claim": frozenset({"read", "update"}),',
     '"expense_claim": frozenset({"read", "update", "approve", "reject"}),',
     "tests/test_feature_status_workflow_expense_claim.py::test_approve_expense_claim"),
    (front_desk_plan, "role:receptionist:booking:check_out", "app/routers/booking.py",
     'if current not in ("checked_in",):', "if False:",
     "tests/test_feature_status_workflow_booking.py::test_check_out_booking"),
    (guarded_cancel_plan, "feature:status_workflow:purchase", "app/routers/purchase.py",
     'if current not in ("pending",):', "if False:",
     "tests/test_feature_status_workflow_purchase.py::test_cancel_purchase"),
    (paid_lock_plan, "edit_lock:invoice:paid", "app/routers/invoice.py",
     "in LOCKED_STATES:", "in ():",
     "tests/test_feature_status_workflow_invoice.py::test_change_is_409_once_paid"),
    (rules_plan, "role:staff:enrollment:create", "app/permissions.py",
     '"enrollment": frozenset({"create", "read", "update"}),', '"enrollment": frozenset({"read", "update"}),',
     "tests/test_roles.py::test_role_staff_on_enrollment"),
]


def _write_without_rule(plan, path: str, old: str, new: str, keep: str, root: Path) -> None:
    for f in render_all(plan):
        if f.path.startswith("tests/test_") and f.path != keep:
            continue  # only the test file of the rule runs: fast, and nothing else can fail it
        content = f.content
        if f.path == path:
            assert old in content, f"{old!r} is not in {path}"
            content = content.replace(old, new)  # everywhere: the rule is gone, not just one use of it
        target = root / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


@pytest.mark.parametrize(("plan", "key", "path", "old", "new", "nodeid"), CASES, ids=[c[1] for c in CASES])
def test_removing_the_rule_fails_its_named_test(plan, key, path, old, new, nodeid, tmp_path):
    element = next(e for e in implemented_elements(plan()) if e.key == key)
    assert nodeid in element.tests  # the test that must fail is the one the element names
    assert path in element.files
    _write_without_rule(plan(), path, old, new, nodeid.partition("::")[0], tmp_path)
    result = run_tests(tmp_path, timeout_s=240)
    outcomes = {t.nodeid: t.outcome for t in result.tests}
    assert outcomes.get(nodeid) == TestOutcome.failed, result.output[-3000:]
