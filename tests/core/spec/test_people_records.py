"""People who own, file or join records are records too, linked to what they own, and stay roles
where the text gives them rights; a compound and its head said alone are one record; what people
have access to is a right, not a field. Phrasings written for this test."""

import pytest

from mb_core.models import RelationKind
from mb_core.requirements.trace import requirement_keys
from mb_core.spec import read_spec


def keys(text):
    spec = read_spec(text)
    return spec, {k for r in spec.requirements for k in requirement_keys(r)}


def names(spec):
    return {e.name for e in spec.entities}


@pytest.mark.parametrize("text,wanted", [
    # the party and what it owns are both set aside at first: the ownership names both
    ("Wholesalers receive shipping orders with order lines. An order line has a quantity.",
     {"entity:wholesaler", "entity:shipping_order", "relation:wholesaler->shipping_order"}),
    # a person word that is usually a field ("author") owns what it submits
    ("Authors submit essays for the anthology. Each essay has a word count.",
     {"entity:author", "relation:author->essay"}),
    # records a party fills in about itself
    ("Couriers log delivery runs. Each run records the distance and the duration.",
     {"entity:courier", "relation:courier->run"}),
    ("Inspectors fill in checklists. Each checklist has a site name.",
     {"entity:inspector", "relation:inspector->checklist"}),
    # what a party brings into being, named after "the"
    ("Curators create the exhibitions and open them to visitors. Each exhibition has a title.",
     {"entity:curator", "relation:curator->exhibition"}),
    # a list in parentheses between a record and its owner does not hide the link
    ("Clients book sessions. Sessions (date, length, topic) belong to a client.",
     {"entity:client", "relation:client->session"}),
])
def test_a_party_that_owns_records_is_a_record_linked_to_them(text, wanted):
    spec, found = keys(text)
    assert wanted <= found, wanted - found
    assert {w.split(":")[1] for w in wanted if w.startswith("entity:")} <= names(spec)


def test_people_who_join_records_are_linked_many_to_many():
    spec, found = keys("Runners register for races. Each race has a distance.")
    assert {"entity:runner", "entity:race"} <= found
    rel = next(r for r in spec.relations if {r.parent, r.child} == {"runner", "race"})
    assert rel.kind == RelationKind.many_to_many


def test_those_who_run_the_app_stay_logins():
    spec, _ = keys("Track chores with a title. Admins create the chores.")
    assert "admin" not in names(spec)


def test_a_verb_between_an_article_and_a_noun_is_a_modifier():
    """ "an overtime request", "employees request overtime": the tagger reads both right."""
    spec, found = keys("Workers request overtime. An overtime request has a number of hours and a "
                       "reason.")
    assert "overtime_request" in names(spec)
    assert "request" not in names(spec)
    # the verb and its object name the record the workers file
    assert {"entity:worker", "relation:worker->overtime_request"} <= found


@pytest.mark.parametrize("text,kept,gone", [
    ("Couriers log delivery runs. Each run records the distance and the duration.",
     "run", "delivery_run"),
    (("Staff file travel claims with an amount. Only managers can approve travel claims. Staff "
      "can view their claims."), "travel_claim", "claim"),
])
def test_a_head_noun_said_alone_after_its_compound_is_the_same_record(text, kept, gone):
    spec, _ = keys(text)
    assert kept in names(spec) and gone not in names(spec)


def test_their_head_noun_reads_as_the_compound_in_rights():
    _spec, found = keys("Staff file travel claims with an amount. Staff can view their claims.")
    assert "role:staff:travel_claim=read" in found


def test_having_access_is_a_right_not_a_field():
    spec, found = keys("Auditors have read-only access to ledgers. Each ledger has a balance.")
    assert "auditor" not in names(spec)
    assert not any(f.name.endswith("access") for e in spec.entities for f in e.fields)
    assert "role:auditor:ledger=read" in found


def test_a_figure_shown_from_records_is_no_record():
    spec, _ = keys("Log sales with an amount. Show the revenue per week.")
    assert names(spec) == {"sale"}


def test_records_of_something_keep_their_whole_name():
    spec, _ = keys("Keep inspection records for each lift. An inspection record has a date.")
    assert "inspection_record" in names(spec) and "inspection" not in names(spec)


def test_plural_records_a_business_has_are_linked_not_columns():
    spec, found = keys("A marina has berths and moorings. Each mooring for a berth has a start "
                       "date.")
    assert {"berth", "mooring"} <= names(spec)
    assert "relation:berth->mooring" in found
    for e in spec.entities:
        assert not {"berth", "mooring"} & {f.name for f in e.fields}


def test_people_the_business_has_are_records_beside_its_things():
    spec, _ = keys("A library has books and members. Each book has a title. Members borrow "
                       "books.")
    assert {"book", "member"} <= names(spec)
    book = next(e for e in spec.entities if e.name == "book")
    assert not {"book", "member"} & {f.name for f in book.fields}
