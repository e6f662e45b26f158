"""A row that may no longer be changed once it reaches a state ("once a quote is accepted it can
no longer be edited", "archived notes are read-only"): read as a lock on the record's status, put
on its workflow, and traced as implemented; without states to lock it is reported, never dropped.
Phrasings written for this test."""

import pytest

from mb_core.agents import security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput, SecurityInput
from mb_core.models import FeatureKind, RequirementKind, RequirementStatus, RuleKind
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import trace_requirements
from mb_core.spec import read_spec


def _plan(spec):
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def _locks(spec):
    return [r for r in spec.requirements if r.kind == RequirementKind.rule and r.rule == RuleKind.edit_lock]


@pytest.mark.parametrize("text, entity, state", [
    (("Keep quotes with a title and a status: open, accepted or expired. Once a quote is accepted "
      "it can no longer be edited."), "quote", "accepted"),
    ("Keep notes with a body and a status: active or archived. Archived notes are read-only.",
     "note", "archived"),
    (("Keep permits with a number and a status: filed, granted or revoked. Granted permits cannot "
      "be modified."), "permit", "granted"),
    (("Keep orders with a reference and a status: new, packed or dispatched. An order is locked "
      "after it is dispatched."), "order", "dispatched"),
    (("Keep contracts with a title and a state: draft, signed or void. A contract can't be changed "
      "once it has been signed."), "contract", "signed"),
])
def test_a_row_fixed_in_a_state_is_a_lock_on_its_workflow(text, entity, state):
    spec = read_spec(text)
    found = _locks(spec)
    assert len(found) == 1, [r.summary for r in spec.requirements]
    assert (found[0].entity, found[0].values) == (entity, [state])
    assert not [r for r in spec.requirements if r.kind == RequirementKind.not_understood
                and r.span.start <= found[0].span.start < r.span.end]
    plan = _plan(spec)
    wf = next(f for f in plan.features if f.kind == FeatureKind.status_workflow and f.entity == entity)
    assert wf.options["locked"] == [state]
    # a fixed row cannot step back to a state where it could be edited again
    assert wf.options["transitions"][state] == []
    row = next(t for t in trace_requirements(plan, None) if t.kind == "rule:edit_lock")
    assert row.status == RequirementStatus.untested, row  # implemented, its tests not run yet


def test_a_lock_keeps_the_moves_the_text_gave():
    spec = read_spec("Keep tickets with a subject. A ticket goes from open to closed to reopened. "
                     "Closed tickets can no longer be edited.")
    plan = _plan(spec)
    wf = next(f for f in plan.features if f.kind == FeatureKind.status_workflow)
    assert wf.options["locked"] == ["closed"]
    assert wf.options["transitions"]["closed"] == ["reopened"]


def test_a_lock_on_states_no_status_holds_is_reported_not_implemented():
    spec = read_spec("Keep receipts with a number and an amount. Once a receipt is printed it "
                     "cannot be edited.")
    found = _locks(spec)
    assert [r.values for r in found] == [["printed"]]
    row = next(t for t in trace_requirements(_plan(spec), None) if t.kind == "rule:edit_lock")
    assert row.status == RequirementStatus.not_implemented
    assert "printed" in row.reason


def test_a_plain_refusal_of_a_right_is_no_lock():
    spec = read_spec("Keep products with a name. Buyers cannot edit products.")
    assert not _locks(spec)


@pytest.mark.parametrize("text, entity, action, target, guards", [
    (("Keep tickets with a subject and a status: open, closed or parked. A ticket can be reopened "
      "after it is closed."), "ticket", "reopen", "open", ["closed"]),
    (("Keep claims with a status: submitted, returned or paid. A claim may be resubmitted once "
      "it is returned."), "claim", "resubmit", "submitted", ["returned"]),
    ("Keep tickets with a subject and a status: open, resolved or parked. A resolved ticket can be reopened.",
     "ticket", "reopen", "open", ["resolved"]),
])
def test_a_re_verb_moves_a_row_back_to_its_state(text, entity, action, target, guards):
    spec = read_spec(text)
    (machine,) = [r for r in spec.requirements if r.rule == RuleKind.state_machine]
    assert (machine.entity, machine.params["actions"]) == (entity, {action: {"from": guards, "to": target}})
    assert not [r for r in spec.requirements if r.kind == RequirementKind.not_understood]


def test_a_move_after_a_noun_is_no_guard():
    spec = read_spec("Keep bookings with a date. A booking can be refunded after payment.")
    assert not [r for r in spec.requirements if r.rule == RuleKind.state_machine]


def test_an_irregular_participle_before_the_record_is_its_state():
    spec = read_spec("Keep invoices with a number and a status: draft, sent or paid. Paid invoices "
                     "are locked.")
    assert [e.name for e in spec.entities] == ["invoice"]
    assert [(r.entity, r.values) for r in _locks(spec)] == [("invoice", ["paid"])]
