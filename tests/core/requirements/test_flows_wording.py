"""Value lists, status paths, work on records and limits on rows, in more English wordings: a
slash or dash list, "one of:", a record that "is either" in states, a path that "goes through"
or "starts as", a step back, a way out "before" a state, publishing and archiving, people
assigned to a record, people who check themselves in, and the record a limit counts "per".
Phrasings written for this test."""

import pytest

from mb_core.models import RequirementKind, RuleKind
from mb_core.spec import read_spec


def _found(text, kind, rule=None):
    spec = read_spec(text)
    return spec, [r for r in spec.requirements if r.kind == kind and (rule is None or r.rule == rule)]


@pytest.mark.parametrize("text, entity, field, values", [
    ("Keep shipments with a weight and a carrier type: air / sea / road.", "shipment",
     "carrier_type", ["air", "sea", "road"]),
    ("Keep lockers with a number and a locker size (small/large).", "locker", "locker_size",
     ["small", "large"]),
    ("Keep calls with a duration and an outcome - answered, missed or voicemail.", "call",
     "outcome", ["answered", "missed", "voicemail"]),
    ("Keep quotes with a total. A quote's status is one of: draft, issued, accepted.", "quote",
     "status", ["draft", "issued", "accepted"]),
    ("Keep tenders with a budget. A tender has a deadline, and is either open or awarded.",
     "tender", "status", ["open", "awarded"]),
    ("Keep bikes with a frame number. The possible sizes are small, medium or large.", "bike",
     "size", ["small", "medium", "large"]),
    ("Keep rooms with a number. A room is either single or double.", "room", "type",
     ["single", "double"]),
])
def test_a_value_list_in_more_wordings(text, entity, field, values):
    spec, found = _found(text, RequirementKind.value_list)
    assert [(r.entity, r.field, r.values) for r in found] == [(entity, field, values)], [
        r.summary for r in spec.requirements]


def _machine(text, entity):
    spec, found = _found(text, RequirementKind.rule, RuleKind.state_machine)
    req = next((r for r in found if r.entity == entity), None)
    assert req is not None, [r.summary for r in spec.requirements]
    return req


def test_a_path_that_goes_through_its_states_in_order():
    req = _machine("Keep claims with an amount. A claim goes through lodged, assessed and settled.", "claim")
    assert req.values == ["lodged", "assessed", "settled"]
    assert req.params["transitions"]["lodged"] == ["assessed"]
    assert req.params["transitions"]["assessed"] == ["settled"]


def test_a_path_that_starts_as_one_state_then_becomes_others():
    req = _machine("Keep visas with a country. A visa starts as applied, then becomes under review, "
                   "and finally issued or denied.", "visa")
    assert req.values == ["applied", "under_review", "issued", "denied"]
    assert req.params["transitions"]["under_review"] == ["issued", "denied"]


def test_a_step_back_is_one_more_move_on_the_path():
    req = _machine("Keep manuscripts with a title. A manuscript moves from draft to checked to final, and can be "
                   "sent back to draft from checked.", "manuscript")
    assert sorted(req.params["transitions"]["checked"]) == ["draft", "final"]
    assert not req.params["transitions"].get("final")


def test_a_way_out_before_a_state_is_open_only_from_the_states_before_it():
    req = _machine("Keep shipments with a port. A shipment has a status: booked, loaded, sailed or landed. "
                   "A shipment can be cancelled before it is loaded.", "shipment")
    assert req.params["actions"]["cancel"] == {"from": ["booked"], "to": "cancelled"}
    assert "cancelled" in req.values
    assert "cancelled" not in req.params["transitions"]["sailed"]


def test_a_record_reopened_on_a_stated_path_moves_back():
    req = _machine("Keep repairs with a fault. A repair moves from open to fixed to closed. A closed "
                   "repair can be reopened.", "repair")
    assert "open" in req.params["transitions"]["closed"]
    assert req.params["actions"]["reopen"] == {"from": ["closed"], "to": "open"}


@pytest.mark.parametrize("text, entity, action", [
    ("Keep newsletters with a subject. Marketers publish newsletters.", "newsletter", "publish"),
    ("Keep projects with a name. Finished projects are archived.", "project", "archive"),
    ("Keep vans and couriers. Planners assign couriers to vans.", "van", "assign"),
    ("Keep campers with a pitch number. Campers check in on arrival and check out on departure.",
     "camper", "check_in_out"),
])
def test_work_on_a_record_in_more_wordings(text, entity, action):
    spec, found = _found(text, RequirementKind.workflow)
    assert (entity, action) in [(w.entity, w.params["action"]) for w in found], [
        r.summary for r in spec.requirements]


def test_a_published_state_on_a_path_is_no_publishing_work():
    _spec, found = _found("Keep guides with a title. A guide moves from draft to published.",
                          RequirementKind.workflow)
    assert found == []


@pytest.mark.parametrize("text, container, counted, limit", [
    ("Keep tours and bookings. No more than 12 bookings per tour are taken.", "tour", "booking", 12),
    (("Keep boats and passengers. Each passenger sails on one boat, with a maximum of 8 passengers "
      "per boat."), "boat", "passenger", 8),
    ("Keep members and rentals. A member can have at most 3 open rentals.", "member", "rental", 3),
    ("Keep rentals and vans. Each rental is for one van, and a van is limited to 2 rentals.",
     "van", "rental", 2),
    ("Keep nurses, patients and shifts. A nurse sees at most 12 patients per shift.", "nurse",
     "patient", 12),
])
def test_a_limit_counts_rows_under_the_record_it_names(text, container, counted, limit):
    spec, found = _found(text, RequirementKind.rule, RuleKind.capacity)
    assert [(r.params["container"], r.entity, r.params["limit"]) for r in found] == [
        (container, counted, limit)], [r.summary for r in spec.requirements]


def _traced(text):
    from mb_core.agents import security, system_designer
    from mb_core.agents.base import AgentContext, run_agent
    from mb_core.agents.io import DesignerInput, SecurityInput
    from mb_core.providers.offline import OfflineProvider
    from mb_core.requirements import trace_requirements

    spec = read_spec(text)
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    plan = run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)
    return spec, {r.requirement: r for r in trace_requirements(plan, None)}


def test_listed_states_and_the_way_out_the_text_adds_are_both_built():
    spec, rows = _traced("Keep parcels with a weight. A parcel has a status: packed, loaded or delivered. "
                         "A parcel can be cancelled before it is loaded.")
    for req in spec.requirements:
        if req.kind == RequirementKind.value_list or req.rule == RuleKind.state_machine:
            assert rows[req.id].elements, rows[req.id].reason


@pytest.mark.parametrize("text, entity, named", [
    ("Keep newsletters with a subject. Marketers publish newsletters.", "newsletter", "publish"),
    ("Keep projects with a name. Finished projects are archived by a manager.", "project", "archive"),
])
def test_publishing_and_archiving_are_named_actions(text, entity, named):
    spec, rows = _traced(text)
    req = next(r for r in spec.requirements if r.kind == RequirementKind.workflow and r.entity == entity)
    assert f"feature:status_workflow:{entity}" in rows[req.id].elements, rows[req.id].reason
