"""Requirements read from text: each rule shown on several phrasings written for this test."""

import pytest

from mb_core.models import Action, RelationKind, RequirementKind, RuleKind
from mb_core.spec import read_spec


def reqs(text):
    spec = read_spec(text)
    return spec, spec.requirements


def of_kind(found, kind, rule=None):
    return [r for r in found if r.kind == kind and (rule is None or r.rule == rule)]


def test_every_requirement_quotes_its_span():
    text = "Track vendors and purchases. Each purchase belongs to a vendor. Vendor code must be unique."
    _spec, found = reqs(text)
    assert found
    for r in found:
        assert text[r.span.start:r.span.end] == r.span.text
    assert len({r.id for r in found}) == len(found)


@pytest.mark.parametrize("text", [
    "A shop keeps customers and orders.",
    "Manage clients and their invoices.",
    "Keep patients and their visits.",
])
def test_a_transaction_record_belongs_to_the_party_it_is_with(text):
    spec, found = reqs(text)
    rel = of_kind(found, RequirementKind.relation)
    assert rel, [r.summary for r in found]
    party, record = rel[0].owner, rel[0].other
    assert (party, record) in {("customer", "order"), ("client", "invoice"), ("patient", "visit")}
    assert any(x.parent == party and x.child == record and x.kind == RelationKind.one_to_many
               for x in spec.relations)


def test_the_demo_links_deals_to_contacts():
    spec, _found = reqs("Build a CRM system with contacts and deals")
    assert [(x.parent, x.child) for x in spec.relations] == [("contact", "deal")]


@pytest.mark.parametrize("text,owner,other", [
    ("Keep shelves and boxes. A shelf holds many boxes.", "shelf", "box"),
    ("Keep teams and players. Every player belongs to a team.", "team", "player"),
    ("Record farms and barns; each barn is owned by one farm.", "farm", "barn"),
])
def test_one_to_many_in_several_phrasings(text, owner, other):
    spec, found = reqs(text)
    rel = of_kind(found, RequirementKind.relation)
    assert any(r.owner == owner and r.other == other for r in rel), [r.summary for r in found]
    assert any(x.parent == owner and x.child == other for x in spec.relations)


def test_many_to_many_when_both_sides_have_many():
    spec, found = reqs("Track courses and teachers. A course has many teachers and a teacher can "
                       "have many courses.")
    rel = of_kind(found, RequirementKind.relation)
    assert rel and rel[0].cardinality == RelationKind.many_to_many
    assert any(x.kind == RelationKind.many_to_many for x in spec.relations)


@pytest.mark.parametrize("text", [
    "Track repairs. Each repair has an urgency: minor, major or critical.",
    "Track repairs with an urgency (minor, major, critical).",
    "Track repairs. The repair urgency is one of minor, major or critical.",
])
def test_value_lists_become_the_choices(text):
    spec, found = reqs(text)
    lists = of_kind(found, RequirementKind.value_list)
    assert lists and lists[0].values == ["minor", "major", "critical"], [r.summary for r in found]
    field = next(f for e in spec.entities for f in e.fields if f.name == "urgency")
    assert field.choices == ["minor", "major", "critical"]


@pytest.mark.parametrize("text", [
    "Track parcels. A parcel status moves from packed to shipped to delivered.",
    "Track parcels whose status goes from packed to shipped and then to delivered.",
    "Track parcels. Status: packed -> shipped -> delivered.",
])
def test_state_machines_keep_only_the_listed_moves(text):
    spec, found = reqs(text)
    machine = of_kind(found, RequirementKind.rule, RuleKind.state_machine)
    assert machine, [r.summary for r in found]
    assert machine[0].params["transitions"] == {"packed": ["shipped"], "shipped": ["delivered"]}
    flow = next(f for f in spec.features if f.kind.value == "status_workflow" and f.entity == "parcel")
    assert flow.options["transitions"]["packed"] == ["shipped"]
    assert flow.options["transitions"]["delivered"] == []


@pytest.mark.parametrize("text", [
    "Keep members. Member badge number must be unique.",
    "Keep members; no two members may share the same badge number.",
])
def test_uniqueness(text):
    spec, found = reqs(text)
    rule = of_kind(found, RequirementKind.rule, RuleKind.uniqueness)
    assert rule and rule[0].entity == "member" and rule[0].field == "badge_number"
    assert next(f for f in spec.entities[0].fields if f.name == "badge_number").unique


@pytest.mark.parametrize("text", [
    "Keep studios and reservations. A studio must never be double-booked.",
    "Keep studios and reservations; reservations for one studio cannot overlap.",
])
def test_no_overlap_goes_on_the_booked_record_per_resource(text):
    spec, found = reqs(text)
    rule = of_kind(found, RequirementKind.rule, RuleKind.no_overlap)
    assert rule and rule[0].entity == "reservation" and rule[0].params["resource"] == "studio"
    sched = next(f for f in spec.features if f.kind.value == "scheduling")
    assert sched.entity == "reservation" and sched.options["resource"] == "studio_id"


def test_roles_get_the_actions_they_are_given():
    spec, found = reqs("Track vendors and purchases. Buyers can create and edit purchases.")
    role = of_kind(found, RequirementKind.role)
    assert role and role[0].role == "buyer" and role[0].entity == "purchase"
    assert set(role[0].actions) == {Action.create, Action.update}
    planned = next(r for r in spec.roles if r.name == "buyer")
    assert {Action.create, Action.update} <= set(planned.permissions["purchase"])


def test_reports_exports_and_search():
    _spec, found = reqs("Keep donors and donations. Show the total of donations per donor. Export donations "
                       "to CSV. Search donors by name.")
    report = of_kind(found, RequirementKind.report)
    assert report and report[0].entity == "donation" and report[0].params["group_by"] == "donor"
    assert any(r.entity == "donation" for r in of_kind(found, RequirementKind.export))
    assert any(r.entity == "donor" for r in of_kind(found, RequirementKind.search_filter))


def test_a_chart_is_a_report_the_offline_builder_names_as_not_built():
    _, found = reqs("Keep gifts with an amount. Show a chart of gifts per month.")
    report = of_kind(found, RequirementKind.report)
    assert report and report[0].params["ui"] == "chart"


@pytest.mark.parametrize("text,rule", [
    ("Keep rentals with a start date and an end date. The end date must be after the start date.",
     RuleKind.date_order),
    ("Keep loans with a due date; overdue loans are listed.", RuleKind.due_overdue),
    ("Keep reviews with a score. The score must be between 1 and 10.", RuleKind.value_range),
    ("Keep workshops and signups. A workshop holds at most 12 signups.", RuleKind.capacity),
])
def test_other_rules(text, rule):
    _, found = reqs(text)
    assert of_kind(found, RequirementKind.rule, rule), [r.summary for r in found]
