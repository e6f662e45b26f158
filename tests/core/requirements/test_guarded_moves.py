"""A move into one state allowed only from some states ("can be cancelled while pending"), a
right given to everyone, and rows past a lapse date: read as rules the generator builds, not
reported as not understood. Phrasings written for this test."""

import pytest

from mb_core.agents import security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput, SecurityInput
from mb_core.models import Action, FeatureKind, RequirementKind, RequirementStatus, RuleKind
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import trace_requirements
from mb_core.spec import read_spec


def _plan(spec):
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def _machines(spec):
    return [r for r in spec.requirements if r.kind == RequirementKind.rule
            and r.rule == RuleKind.state_machine]


def _unread(spec):
    return [r for r in spec.requirements if r.kind == RequirementKind.not_understood]


@pytest.mark.parametrize("text, entity, target, guards, action", [
    (("Buyers place purchases. A purchase has a status: open, packed, sent or cancelled. A purchase "
     "can be cancelled while open."), "purchase", "cancelled", ["open"], "cancel"),
    (("Keep rentals with a status: booked, paid, returned or refunded. A rental may be refunded "
     "only when it is booked or paid."), "rental", "refunded", ["booked", "paid"], "refund"),
    ("Keep claims with a status: draft, filed, closed. Only filed claims can be closed.",
     "claim", "closed", ["filed"], "close"),
    (("Keep tickets with a status: new, solved or archived. A ticket can be archived when it is "
     "still solved."), "ticket", "archived", ["solved"], "archive"),
])
def test_a_move_allowed_only_from_some_states_is_a_guarded_action(text, entity, target, guards,
                                                                  action):
    spec = read_spec(text)
    found = _machines(spec)
    assert len(found) == 1, [r.summary for r in spec.requirements]
    req = found[0]
    assert (req.entity, req.field) == (entity, "status")
    assert req.params["actions"] == {action: {"from": guards, "to": target}}
    moves = req.params["transitions"]
    assert all(target in moves[s] for s in guards)
    assert all(target not in moves[s] for s in req.values if s not in guards)
    assert not _unread(spec), [r.summary for r in _unread(spec)]
    plan = _plan(spec)
    wf = next(f for f in plan.features if f.kind == FeatureKind.status_workflow and f.entity == entity)
    assert wf.options["actions"][action] == {"from": guards, "to": target}
    row = next(t for t in trace_requirements(plan, None) if t.kind == "rule:state_machine")
    assert row.status == RequirementStatus.untested, row  # implemented, its tests not run yet


def test_a_guard_implies_the_status_when_the_text_lists_none():
    spec = read_spec("Keep loans with an amount. Only approved loans can be disbursed.")
    req = _machines(spec)[0]
    assert {"approved", "disbursed"} <= set(req.values)
    assert req.params["actions"]["mark_disbursed"] == {"from": ["approved"], "to": "disbursed"}


@pytest.mark.parametrize("text", [
    # editing is a right, not a state; a listed status without the state is no move to it
    "Keep invoices with a number. An invoice can be edited while it is unpaid.",
    "Keep parcels with a status: packed or sent. A parcel can be returned while packed.",
    # "in transit" is no one-word state of the record
    "Keep parcels with a weight. A parcel can be returned while it is in transit.",
])
def test_no_guarded_move_without_a_state_to_move_to(text):
    assert not [r for r in _machines(read_spec(text)) if r.params.get("actions")]


def test_a_guard_the_reader_cannot_build_is_still_reported():
    spec = read_spec("Keep parcels with a weight. A parcel can be returned while it is in transit.")
    assert _unread(spec)


@pytest.mark.parametrize("text, entity, actions", [
    ("Keep recipes with a title. Everyone can view recipes. Cooks can edit recipes.", "recipe",
     [Action.read]),
    ("Keep notices with a body. Anybody may read notices but only wardens can delete them.",
     "notice", [Action.read]),
    (("Keep suggestions with a text. All users can add suggestions. Moderators can remove "
     "suggestions."), "suggestion", [Action.create]),
])
def test_a_right_given_to_everyone_is_every_roles(text, entity, actions):
    spec = read_spec(text)
    rights = [r for r in spec.requirements if r.kind == RequirementKind.role and r.role == "*"]
    assert [(r.entity, r.actions) for r in rights] == [(entity, actions)], \
        [r.summary for r in spec.requirements]
    plan = _plan(spec)
    assert len(plan.roles) >= 2
    for role in plan.roles:
        granted = set(role.permissions.get(entity, [])) | set(role.permissions.get("*", []))
        assert set(actions) <= granted, role
    row = next(t for t in trace_requirements(plan, None) if t.requirement == rights[0].id)
    assert row.status == RequirementStatus.untested, row


@pytest.mark.parametrize("text, entity, due", [
    (("Keep vouchers with a code and an expiry date. Vouchers past their expiry date are flagged "
     "as expired."), "voucher", "expiry_date"),
    (("Keep permits with a holder and an expiration date. Permits past their expiration date are "
     "marked as expired."), "permit", "expiration_date"),
])
def test_rows_past_their_lapse_date_are_due_rows(text, entity, due):
    spec = read_spec(text)
    found = [r for r in spec.requirements if r.rule == RuleKind.due_overdue]
    assert [r.entity for r in found] == [entity], [r.summary for r in spec.requirements]
    plan = _plan(spec)
    feature = next(f for f in plan.features if f.kind == FeatureKind.due_overdue)
    assert feature.options["due"] == due
