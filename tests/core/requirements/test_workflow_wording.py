"""Who decides on a record, in more wordings: the work named as a noun ("sign-offs are done by",
"approvals are handled by") falls on the record the text spoke of last, the person after "by" is
who decides and never what is decided, and a collective noun of people ("staff", "personnel")
acts with a verb no table lists. Phrasings written for this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.spec import read_spec


def _workflows(spec):
    return [r for r in spec.requirements if r.kind == RequirementKind.workflow]


@pytest.mark.parametrize("text, entity", [
    ("Keep travel requests with a destination and a cost. Approvals are done by a director.",
     "travel_request"),
    ("Keep overtime claims with a number of hours. Approval is handled by the line manager.",
     "overtime_claim"),
])
def test_the_work_named_as_a_noun_falls_on_the_record_spoken_of(text, entity):
    spec = read_spec(text)
    assert [(w.entity, w.params["action"]) for w in _workflows(spec)] == [(entity, "approve_reject")], [
        r.summary for r in spec.requirements]
    assert "approval" not in {e.name for e in spec.entities}


@pytest.mark.parametrize("text", [
    "Keep refunds with an amount. Every refund must be approved by a controller.",
    "Keep refunds with an amount. Refunds are approved or rejected by the controller.",
])
def test_who_approves_is_never_what_is_approved(text):
    spec = read_spec(text)
    assert [w.entity for w in _workflows(spec)] == ["refund"], [r.summary for r in spec.requirements]


@pytest.mark.parametrize("text, role, entity", [
    ("Staff raise purchase orders with an amount.", "staff", "purchase_order"),
    ("Personnel lodge complaints with a subject.", "personnel", "complaint"),
])
def test_a_collective_noun_of_people_acts_with_any_verb(text, role, entity):
    spec = read_spec(text)
    assert entity in {e.name for e in spec.entities}, [e.name for e in spec.entities]
    assert not [e.name for e in spec.entities if e.name.startswith(role)]


@pytest.mark.parametrize("text, entity", [
    ("Keep expenses with an amount. Managers sign off expenses.", "expense"),
    ("Keep timesheets with a number of hours. Timesheets are signed off by a supervisor.", "timesheet"),
])
def test_signing_off_is_approving(text, entity):
    spec = read_spec(text)
    assert [(w.entity, w.params["action"]) for w in _workflows(spec)] == [(entity, "approve_reject")]
