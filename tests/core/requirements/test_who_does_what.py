"""Who may do what, read from phrasings written for this test: the role that does a workflow's
work owns its named actions, rights given as access or through a pronoun, and the record a
borrowing verb names."""

import pytest

from mb_core.agents import security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput, SecurityInput
from mb_core.models import Action, FeatureKind, RequirementKind
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import trace_requirements
from mb_core.spec import read_spec


def _plan(spec):
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


def _workflow(spec):
    return next(r for r in spec.requirements if r.kind == RequirementKind.workflow)


def _rights(spec, role):
    return [r for r in spec.requirements if r.kind == RequirementKind.role and r.role == role]


@pytest.mark.parametrize("text,entity,role", [
    ("Staff file travel claims with an amount. Only supervisors can approve or reject travel claims.",
     "travel_claim", "supervisor"),
    ("Keep refund requests with an amount. Every refund request must be approved by an auditor.",
     "refund_request", "auditor"),
    ("Keep quotes with a total. Directors approve quotes written by sales reps.", "quote", "director"),
])
def test_the_role_that_approves_owns_the_approve_and_reject_actions(text, entity, role):
    spec = read_spec(text)
    wf = _workflow(spec)
    assert (wf.params["action"], wf.entity, wf.params.get("roles")) == ("approve_reject", entity, [role])
    feature = next(f for f in spec.features if f.kind == FeatureKind.status_workflow and f.entity == entity)
    assert {n: a.get("roles") for n, a in feature.options["actions"].items()} == {
        "approve": [role], "reject": [role]}
    assert any(r.name == role for r in spec.roles)
    row = next(r for r in trace_requirements(_plan(spec), None) if r.requirement == wf.id)
    assert f"action_roles:{entity}:approve" in row.elements, row.reason
    assert f"role:{role}:{entity}:reject" in row.elements and row.tests


def test_approving_on_the_texts_own_path_names_that_move():
    spec = read_spec("Keep vans and trips. A trip moves from asked to approved to returned. Fleet "
                     "managers approve trips.")
    feature = next(f for f in spec.features if f.kind == FeatureKind.status_workflow and f.entity == "trip")
    assert feature.options["states"] == ["asked", "approved", "returned"]
    assert feature.options["actions"] == {"approve": {"from": ["asked"], "to": "approved",
                                                      "roles": ["fleet_manager"]}}
    assert not _rights(spec, "manager")  # "fleet managers" is one role, not also any manager
    wf = _workflow(spec)
    row = next(r for r in trace_requirements(_plan(spec), None) if r.requirement == wf.id)
    assert "action_roles:trip:approve" in row.elements, row.reason


@pytest.mark.parametrize("text", [
    "Keep tools and members. Members can borrow and return tools.",
    "Keep members and tools. Members borrow tools and return them later.",
])
def test_the_thing_borrowed_is_the_verbs_object_not_the_borrower(text):
    spec = read_spec(text)
    wf = _workflow(spec)
    assert wf.entity == "tool", [r.summary for r in spec.requirements]


@pytest.mark.parametrize("text,action,entity,role", [
    ("Keep rooms and bookings. Bookings are checked in and out by receptionists.", "check_in_out",
     "booking", "receptionist"),
    ("Keep bikes with a frame number. Bikes can be borrowed and returned by riders.",
     "borrow_return", "bike", "rider"),
])
def test_a_passive_names_the_thing_worked_on_before_the_verb_and_who_after_by(text, action, entity, role):
    wf = _workflow(read_spec(text))
    assert (wf.params["action"], wf.entity, wf.params.get("roles")) == (action, entity, [role])


@pytest.mark.parametrize("text", [
    "Keep members. A member can borrow a ladder and return it later.",
    "Keep members. Ladders can be borrowed and returned by members.",
])
def test_a_borrowed_thing_the_reader_did_not_find_is_reported_not_put_on_the_borrower(text):
    spec = read_spec(text)
    found = [r for r in spec.requirements if r.kind == RequirementKind.workflow]
    assert [r.entity for r in found] == ["ladder"]
    assert not any(f.kind == FeatureKind.status_workflow and f.entity == "member" for f in spec.features)
    row = next(r for r in trace_requirements(_plan(spec), None) if r.requirement == found[0].id)
    assert row.status.value == "not_implemented" and "ladder" in row.reason


@pytest.mark.parametrize("text,role,entity,actions,denied", [
    (("A hospital keeps lab results with a code and a date. Porters have read-only access to lab "
     "results."), "porter", "lab_result", [Action.read], ["create", "update", "delete"]),
    ("A pharmacy keeps prescriptions with a dose. Pharmacists have full access to prescriptions.",
     "pharmacist", "prescription", list(Action), []),
    (("Keep timetables with a title and a week. Anyone can see timetables but only planners can "
     "change them."), "planner", "timetable", [Action.update], []),
    ("Keep fines. Only the treasurer may delete fines.", "treasurer", "fine", [Action.delete], []),
    ("Keep poems. Editors are able to publish poems.", "editor", "poem", [Action.update], []),
    ("Keep faults with a place. Residents can report faults.", "resident", "fault", [Action.create], []),
])
def test_rights_given_as_access_pronouns_and_single_roles(text, role, entity, actions, denied):
    spec = read_spec(text)
    found = _rights(spec, role)
    assert [(r.entity, r.actions, r.params.get("denied", [])) for r in found] == [(entity, actions, denied)], \
        [r.summary for r in spec.requirements]


def test_each_sentence_giving_a_role_rights_is_its_own_requirement():
    spec = read_spec("Guests place bookings. Guests can view their bookings.")
    assert [r.actions for r in _rights(spec, "guest")] == [[Action.create], [Action.read]]
    granted = next(r for r in spec.roles if r.name == "guest").permissions["booking"]
    assert {Action.create, Action.read} <= set(granted)


def test_a_word_of_a_records_name_is_not_a_role():
    spec = read_spec("A clinic keeps patient notes with a text. Nurses have read-only access to "
                     "patient notes.")
    assert not _rights(spec, "patient")
    assert [r.entity for r in _rights(spec, "nurse")] == ["patient_note"]
