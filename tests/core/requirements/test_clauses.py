"""Clause rules (rights, workflows, report periods) and the never-silent-drop rule, each shown on
phrasings written for this test."""

import pytest

from mb_core.agents import security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput, SecurityInput
from mb_core.models import Action, FeatureKind, RequirementKind, RequirementStatus
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import requirements_gate, trace_requirements
from mb_core.spec import read_spec


def roles_of(text):
    spec = read_spec(text)
    return spec, [r for r in spec.requirements if r.kind == RequirementKind.role]


@pytest.mark.parametrize("text,role,entity,actions", [
    ("Keep tickets. Developers can update tickets.", "developer", "ticket", [Action.update]),
    ("Keep quotes. Sales reps can create and update quotes.", "sales_rep", "quote",
     [Action.create, Action.update]),
    ("Keep parcels. Couriers are able to view parcels.", "courier", "parcel", [Action.read]),
    ("Keep permits. Only inspectors may update permits.", "inspector", "permit", [Action.update]),
])
def test_a_role_gets_the_actions_its_verbs_name(text, role, entity, actions):
    spec, found = roles_of(text)
    req = next((r for r in found if r.role == role and r.entity == entity), None)
    assert req is not None, [r.summary for r in spec.requirements]
    assert req.actions == actions
    granted = next(r for r in spec.roles if r.name == role).permissions[entity]
    assert set(actions) <= set(granted)


@pytest.mark.parametrize("text", [
    "Track invoices. Accountants can create and edit invoices but not delete them.",
    "Track invoices. Accountants may add and change invoices, but never delete them.",
])
def test_but_not_denies_the_right(text):
    spec, found = roles_of(text)
    req = next(r for r in found if r.role == "accountant" and r.entity == "invoice")
    assert req.actions == [Action.create, Action.update]
    assert req.params["denied"] == ["delete"]
    granted = next(r for r in spec.roles if r.name == "accountant").permissions["invoice"]
    assert Action.delete not in granted and Action.create in granted


def test_cannot_denies_and_only_read_covers_every_record():
    _spec, found = roles_of("Keep contacts and notes. Auditors cannot delete notes. Guests can "
                           "only read.")
    auditor = next(r for r in found if r.role == "auditor")
    assert auditor.entity == "note" and auditor.actions == [] and auditor.params["denied"] == ["delete"]
    guest = next(r for r in found if r.role == "guest")
    assert guest.entity == "*" and guest.actions == [Action.read]
    assert set(guest.params["denied"]) == {"create", "update", "delete"}


def _plan(spec):
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def test_a_denied_right_is_traced_to_the_role_test():
    spec = read_spec("Track invoices. Accountants can create and edit invoices but not delete them.")
    rows = trace_requirements(_plan(spec), None)
    req = next(r for r in spec.requirements if r.kind == RequirementKind.role and r.entity == "invoice")
    row = next(r for r in rows if r.requirement == req.id)
    assert "role:accountant:invoice:not_delete" in row.elements
    assert row.tests and row.reason == "tests not run yet"


@pytest.mark.parametrize("text,action,entity,named", [
    ("Keep rooms and bookings. Receptionists check bookings in and out.", "check_in_out",
     "booking", {"check_in", "check_out"}),
    ("Keep tools. Members can borrow and return tools.", "borrow_return", "tool",
     {"borrow", "give_back"}),
])
def test_check_in_out_and_borrow_return_are_named_actions(text, action, entity, named):
    spec = read_spec(text)
    wf = next(r for r in spec.requirements if r.kind == RequirementKind.workflow)
    assert (wf.params["action"], wf.entity) == (action, entity)
    feature = next(f for f in spec.features if f.kind == FeatureKind.status_workflow
                   and f.entity == entity)
    assert set(feature.options["actions"]) == named
    rows = trace_requirements(_plan(spec), None)
    row = next(r for r in rows if r.requirement == wf.id)
    assert row.elements[0] == f"feature:status_workflow:{entity}" and row.tests


@pytest.mark.parametrize("text,period", [
    ("Keep sales with an amount and a sale date. Show the monthly total of sales.", "month"),
    ("Keep sales with an amount and a sale date. Report the number of sales per day.", "day"),
])
def test_a_period_gives_a_time_series(text, period):
    spec = read_spec(text)
    report = next(r for r in spec.requirements if r.kind == RequirementKind.report)
    assert report.params["period"] == period
    feature = next(f for f in spec.features if f.kind == FeatureKind.reports)
    assert feature.options["period"] == period and feature.options["date"]


# --- never a silent drop --------------------------------------------------------------------------

@pytest.mark.parametrize("text,quote", [
    ("Keep invoices. Invoices must be emailed to the customer every Monday.",
     "Invoices must be emailed to the customer every Monday"),
    ("Track parcels. Couriers should get a text message when a parcel is late.",
     "Couriers should get a text message when a parcel is late"),
    ("Keep loans. Send a reminder two days before the due date.",
     "Send a reminder two days before the due date"),
    ("Keep orders; prices must be shown in the customer's currency.",
     "prices must be shown in the customer's currency"),
])
def test_a_requirement_nothing_was_read_from_is_reported(text, quote):
    spec = read_spec(text)
    unread = [r for r in spec.requirements if r.kind == RequirementKind.not_understood]
    assert [r.span.text for r in unread] == [quote]
    assert text[unread[0].span.start:unread[0].span.end] == quote
    rows = trace_requirements(_plan(spec), None)
    row = next(r for r in rows if r.requirement == unread[0].id)
    assert row.status == RequirementStatus.not_implemented
    assert "--provider openai" in row.reason
    gate = requirements_gate(rows)
    assert not gate.passed and any(quote in line for line in gate.evidence["unmet"])


@pytest.mark.parametrize("text", [
    "Keep invoices. Every invoice must have a due date.",
    "Keep contacts. Users can add and edit contacts.",
    "Track orders. An order status goes from new to paid to shipped.",
    "Keep members and loans. A member can have many loans.",
    "Keep rooms and bookings. A room must never be double-booked.",
    "Keep vendors. Vendor code must be unique.",
    "Keep tickets. Agents can view and close tickets, but only managers can delete tickets.",
    "Keep parcels. Couriers can add and change parcels but never remove them.",
])
def test_a_sentence_that_was_read_gives_nothing_unread(text):
    spec = read_spec(text)
    unread = [r.span.text for r in spec.requirements if r.kind == RequirementKind.not_understood]
    assert unread == []


def test_each_clause_is_judged_on_its_own():
    text = ("Keep bookings and rooms. A room must never be double-booked, and guests must be "
            "greeted by name.")
    spec = read_spec(text)
    unread = [r.span.text for r in spec.requirements if r.kind == RequirementKind.not_understood]
    assert unread == []  # the overlap rule's span is the whole sentence: it is read
    spec = read_spec("Keep rooms. A room must never be double-booked, but the lights must turn "
                     "off at night; rooms can be added.")
    unread = [r.span.text for r in spec.requirements if r.kind == RequirementKind.not_understood]
    assert unread == []  # one span for the whole sentence: the rule read it
    spec = read_spec("Keep rooms. Rooms can be added, but the lights must turn off at night.")
    unread = [r.span.text for r in spec.requirements if r.kind == RequirementKind.not_understood]
    assert unread == ["the lights must turn off at night"]
