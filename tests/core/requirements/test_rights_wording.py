"""Who may do what, in more wordings: a rank or department that makes a role of its own ("the head
nurse", "HR staff"), a right and a refusal sharing the records after them ("may view but not
remove invoices"), and a role named with no rights, which is reported rather than kept silently
read-only. Phrasings written for this test."""

import pytest

from mb_core.models import Action, RequirementKind
from mb_core.spec import read_spec


def _rights(spec, role):
    return [r for r in spec.requirements if r.kind == RequirementKind.role and r.role == role]


@pytest.mark.parametrize("text, role, entity, actions", [
    ("Keep wards with a name. Only the head nurse can delete wards.", "head_nurse", "ward", [Action.delete]),
    ("Keep payslips with an amount. HR staff can create payslips.", "hr_staff", "payslip", [Action.create]),
    ("Keep shifts with a date. The duty manager may edit shifts.", "duty_manager",
     "shift", [Action.update]),
])
def test_a_rank_or_department_of_people_is_its_own_role(text, role, entity, actions):
    spec = read_spec(text)
    found = _rights(spec, role)
    assert [(r.entity, r.actions) for r in found] == [(entity, actions)], [r.summary for r in spec.requirements]
    # the plain head noun ("nurse", "staff") is not given the right as well
    assert not _rights(spec, role.split("_")[-1])


def test_a_senior_role_does_not_take_the_rights_of_the_plain_one():
    spec = read_spec("Keep tasks with a title. Engineers may edit but not delete tasks. Only the "
                     "lead engineer can delete tasks.")
    (plain,) = _rights(spec, "engineer")
    assert (plain.entity, plain.actions, plain.params["denied"]) == ("task", [Action.update], ["delete"])
    (lead,) = _rights(spec, "lead_engineer")
    assert (lead.entity, lead.actions) == ("task", [Action.delete])


@pytest.mark.parametrize("text, entity", [
    ("Keep invoices with a number. Accountants may view but not remove invoices.", "invoice"),
    ("Keep tickets with a subject. Agents can update but never delete tickets.", "ticket"),
])
def test_a_right_and_a_refusal_share_the_records_after_them(text, entity):
    spec = read_spec(text)
    (right,) = [r for r in spec.requirements if r.kind == RequirementKind.role]
    assert right.entity == entity
    assert right.params["denied"] == ["delete"]


@pytest.mark.parametrize("text, role", [
    (("Keep parcels with a weight. The system has two roles: sender and courier. Senders can "
      "create parcels."), "courier"),
    ("Keep recipes with a name. Chefs can edit recipes. There is also a taster role.", "taster"),
    ("Keep loans with an amount. Roles include clerk and reviewer. Clerks can create loans.",
     "reviewer"),
])
def test_a_role_named_with_no_rights_is_reported(text, role):
    spec = read_spec(text)
    reported = [r for r in spec.requirements if r.kind == RequirementKind.not_understood
                and f"role {role} " in r.params.get("reason", "")]
    assert len(reported) == 1, [(r.summary, r.params) for r in spec.requirements]
    given = {r.role for r in spec.requirements if r.kind == RequirementKind.role}
    # the roles that were given rights are not reported
    assert not [r for r in spec.requirements if r.kind == RequirementKind.not_understood
                and any(f"role {g} " in r.params.get("reason", "") for g in given)]


@pytest.mark.parametrize("text, role, entity, actions", [
    ("Keep vendors with a name. Buyers are responsible for adding vendors.", "buyer", "vendor",
     [Action.create]),
    ("Keep refunds with an amount. The cashier is in charge of editing refunds.", "cashier", "refund",
     [Action.update]),
    ("Keep policies with a number. Deleting a policy is restricted to underwriters.", "underwriter",
     "policy", [Action.delete]),
    ("Keep recipes with a title. Changing recipes is reserved to the head chef.", "head_chef", "recipe",
     [Action.update]),
])
def test_a_right_said_through_the_work_people_do(text, role, entity, actions):
    spec = read_spec(text)
    assert [(r.entity, r.actions) for r in _rights(spec, role)] == [(entity, actions)], [
        r.summary for r in spec.requirements]
    # whom the work is kept to, or what they are in charge of, is no record of its own
    names = {e.name for e in spec.entities}
    assert names == {entity}, names
    assert not [r for r in spec.requirements if r.kind == RequirementKind.not_understood]


def test_people_opening_a_sentence_with_a_verb_of_rights_are_a_role():
    spec = read_spec("Keep projects with a name. Producers manage projects.")
    (right,) = _rights(spec, "producer")
    assert (right.entity, right.actions) == ("project", list(Action))


def test_everything_but_some_rights():
    spec = read_spec("Keep posts with a title. Editors can do everything except delete posts.")
    (right,) = _rights(spec, "editor")
    assert (right.entity, right.actions, right.params["denied"]) == (
        "post", [Action.create, Action.read, Action.update], ["delete"])


def test_signing_up_for_a_record_is_no_right_over_it():
    spec = read_spec("Keep events with a date. Volunteers sign up for events.")
    assert not _rights(spec, "volunteer")
