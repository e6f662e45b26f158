"""Nouns the text links to a record become records, with the link: ownership verbs of a counted
party, belonging, reference, "is for", passives of filing; people who only act on a record
(assign, approve) stay people. Reports over a parent count its children. Phrasings written for
this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.requirements.trace import requirement_keys
from mb_core.spec import read_spec
from mb_core.spec.naming import singular


def keys(text):
    spec = read_spec(text)
    found = {k for r in spec.requirements for k in requirement_keys(r)}
    return spec, found


@pytest.mark.parametrize("text,wanted", [
    # a counted party that holds, writes or files records of its own
    ("Franchisees run outlets, and inspections are logged against an outlet.",
     {"entity:franchisee", "relation:franchisee->outlet", "relation:outlet->inspection"}),
    ("Novelists write manuscripts. Each manuscript has a word count.",
     {"entity:novelist", "relation:novelist->manuscript"}),
    # belonging and reference reach a noun the reader had set aside, link after link
    ("Each ticket stub references a gadget. A gadget belongs to a shopper.",
     {"entity:gadget", "entity:shopper", "relation:gadget->ticket_stub",
      "relation:shopper->gadget"}),
    # "is for one X and one Y": both are records
    ("Visitors make bookings for cabins. A booking is for exactly one cabin and one visitor.",
     {"entity:cabin"}),
])
def test_linked_nouns_become_records(text, wanted):
    spec, found = keys(text)
    assert wanted <= found, wanted - found
    names = {e.name for e in spec.entities}
    assert {w.split(":")[1] for w in wanted if w.startswith("entity:")} <= names


def test_a_single_owner_of_the_app_stays_out():
    _spec, found = keys("A photographer sends quotes to customers. Every quote has an amount.")
    assert "entity:photographer" not in found
    assert "relation:customer->quote" in found


@pytest.mark.parametrize("text,person", [
    ("Track work orders with a priority. Work orders are assigned to plumbers.", "plumber"),
    ("Track refunds with an amount. Every refund must be approved by an auditor.", "auditor"),
])
def test_people_who_act_on_a_record_are_not_records(text, person):
    _spec, found = keys(text)
    assert f"entity:{person}" not in found
    assert not any(k.startswith(f"relation:{person}") for k in found)


def test_a_modifier_that_is_no_record_stays_in_the_name():
    spec, _ = keys("Owners bring scooters in for service. Each service ticket references a scooter.")
    assert "service_ticket" in {e.name for e in spec.entities}


def test_a_reserved_word_keeps_its_sentences():
    """ "session" is kept as work_session, yet the sentences about sessions still read."""
    _spec, found = keys("A gym schedules fitness sessions in studios. Each session is held in a "
                       "studio and has a start time and an end time. No two sessions may overlap "
                       "in the same studio.")
    assert {"entity:session", "relation:studio->session", "rule:no_overlap:session"} <= found


@pytest.mark.parametrize("text,report,per", [
    ("Members pay dues with an amount. Show the total amount per member.", "due", "member"),
    (("A studio keeps clients and invoices. Every invoice belongs to a client and has an amount. "
     "Show the balance per client."), "invoice", "client"),
    ("Log parcels with a weight and a courier. Show how many parcels there are per courier.",
     "parcel", None),
])
def test_reports_per_parent_sum_the_children(text, report, per):
    spec = read_spec(text)
    reports = [r for r in spec.requirements if r.kind == RequirementKind.report]
    assert [r.entity for r in reports] == [report]
    if per:
        assert reports[0].params["group_by"] == per
    assert "how_many" not in " ".join(e.name for e in spec.entities)


@pytest.mark.parametrize("word,one", [("menus", "menu"), ("gurus", "guru"), ("statuses", "status"),
                                      ("bonuses", "bonus"), ("campus", "campus")])
def test_singular_of_nouns_in_u(word, one):
    assert singular(word) == one


@pytest.mark.parametrize("text,wanted", [
    # the subject again after "and": "... and can host many Y" is the subject's
    ("Each studio is rented by a tenant and can host many rehearsals.",
     {"relation:studio->rehearsal", "relation:tenant->studio"}),
    # one way said with "and may have several", the other with a count: many-to-many
    ("Each album has one label and may have several producers, and producers make many albums.",
     {"relation:album<->producer"}),
])
def test_the_subject_again_after_and(text, wanted):
    _, found = keys(text)
    assert wanted <= found, wanted - found


@pytest.mark.parametrize("text", [
    "Keep invoices and a CSV export of invoices.",
    "Track members and rentals, with a monthly report of rentals per member.",
])
def test_a_feature_named_with_a_record_is_no_record(text):
    """The head noun decides: an export or a report of records is a feature of the app."""
    _spec, found = keys(text)
    assert not any(k.startswith(("entity:csv", "entity:monthly", "entity:export", "entity:report"))
                   for k in found), found


@pytest.mark.parametrize("text,record", [
    # a word that usually names the app is a record when plural or counted and linked
    ("The bakery keeps a list of ovens and logs every bake. Each bake uses one oven.", "oven"),
    ("The studio lends out tools. Each loan slip is for one tool.", "tool"),
    # an account is a business record when something is kept under it
    ("Keep accounts. Withdrawals are filed under an account, each with an amount.", "account"),
])
def test_a_word_set_aside_becomes_a_record_when_a_record_is_linked_to_it(text, record):
    assert record in {e.name for e in read_spec(text).entities}


def test_the_app_named_before_what_it_is_for_stays_the_app():
    names = {e.name for e in read_spec("A timesheet tool for shifts. Each shift has a start.").entities}
    assert "tool" not in names and "shift" in names


@pytest.mark.parametrize("text,whole,part", [
    ("A studio keeps photos. Each gallery is made up of photos.", "gallery", "photo"),
    ("A cafe keeps drinks. A menu consists of several drinks.", "menu", "drink"),
])
def test_a_screen_word_made_up_of_records_is_a_record(text, whole, part):
    _spec, found = keys(text)
    assert {f"entity:{whole}", f"relation:{whole}->{part}"} <= found, found


def test_a_screen_that_lists_records_stays_a_screen():
    spec, _found = keys("Keep invoices. The dashboard lists its invoices. An invoice has a total.")
    assert [e.name for e in spec.entities] == ["invoice"]
