"""The honesty net: a clause that ties two records together, or states a list of choices or a
limit, from which nothing was read is reported as not understood, never dropped; a clause fully
read gives nothing. Phrasings written for this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.spec import read_spec


def unread(text):
    return [(r.span.text, r.params["reason"]) for r in read_spec(text).requirements
            if r.kind == RequirementKind.not_understood]


@pytest.mark.parametrize("text,clause,pair", [
    ("Keep beekeepers and hives. Beekeepers look after hives.", "Beekeepers look after hives",
     ("beekeeper", "hive")),
    ("Track pallets and bays. Each pallet occupies a bay.", "Each pallet occupies a bay",
     ("pallet", "bay")),
    ("Keep courses and rooms. A course needs a room.", "A course needs a room",
     ("course", "room")),
])
def test_a_link_between_two_records_that_gave_no_relation_is_reported(text, clause, pair):
    found = unread(text)
    assert [span for span, _ in found] == [clause]
    reason = found[0][1]
    assert f"link {pair[0]} and {pair[1]}" in reason and "--provider openai" in reason


def test_a_tie_to_a_record_the_reader_did_not_keep_is_reported():
    # "menu" is no record the reader kept, so "belongs to a menu" was read by nothing
    found = unread("A restaurant keeps menus and dishes. Each dish belongs to a menu and has a price.")
    assert [span for span, _ in found] == ["Each dish belongs to a menu and has a price"]


@pytest.mark.parametrize("text", [
    # links the reader turned into relations
    "Keep farms and tractors. Each farm has many tractors.",
    "Track projects and tasks. Each task belongs to a project.",
    "Keep crews and shifts. A crew runs many shifts.",
    "Each lesson is held in a studio and has a start time.",
    "Track boxes and shelves. Each box sits on a shelf.",
    # a record's name inside a field's noun names the field
    "A freelancer sends invoices to clients. Every invoice has a due date and an amount.",
    # the app's own name, and lists of records, tie nothing
    "Build a dog walking app for a kennel with dogs and walkers.",
    "Track wines in a cellar. Each wine has a vintage.",
    "A kennel keeps dogs, owners and walkers. Walkers can view dogs.",
    # choices and limits that were read
    "Each tea has a name and a grade: green, black or oolong.",
    "Each shirt has a size (small, medium or large) and a colour.",
    "A shop sells hats. Each hat has a price of at most 200.",
])
def test_a_clause_fully_read_is_not_flagged(text):
    assert unread(text) == []


@pytest.mark.parametrize("text,clause", [
    # a list of what a record holds that rules read only part of
    # ("whether it is on loan" names no field the rules read)
    (("A gallery tracks sculptures. For each sculpture we record the catalogue number (unique), "
      "whether it is on loan, the maker and the year."),
     ("For each sculpture we record the catalogue number (unique), whether it is on loan, the "
      "maker and the year")),
])
def test_a_field_list_read_only_in_part_is_reported(text, clause):
    assert clause in [span for span, _ in unread(text)]


@pytest.mark.parametrize("text", [
    # the unit of a field says its type: nothing more to read
    "A venue runs quizzes. Each quiz has a topic, a level and a length in minutes.",
    "A farm keeps sacks. Each sack has a label, a crop and a weight (kilograms).",
])
def test_a_field_list_fully_read_is_not_flagged(text):
    assert unread(text) == []


@pytest.mark.parametrize("text,clause,record", [
    ("Keep members. A member can follow other members.",
     "A member can follow other members", "member"),
    ("Keep drafts. A draft is compared with a different draft.",
     "A draft is compared with a different draft", "draft"),
])
def test_a_record_loosely_tied_to_its_own_kind_is_reported(text, clause, record):
    found = dict(unread(text))
    assert clause in found and f"link a {record} to another {record}" in found[clause]


def test_two_mentions_of_one_record_without_a_tie_are_not_reported():
    found = unread("Keep folders. Each folder has a name, and a folder is listed once.")
    assert not any("another folder" in reason for _, reason in found)


@pytest.mark.parametrize("text,clause,pair", [
    # a verb the grammar does not read before "the"/"a" of the other record
    ("Keep reviews and products. Each review targets the product it rates.",
     "Each review targets the product it rates", ("review", "product")),
    ("Keep trips and bookings. A booking reserves seats on a trip.",
     "A booking reserves seats on a trip", ("booking", "trip")),
    ("Keep vouchers and bookings. Each voucher discounts the booking it was issued for.",
     "Each voucher discounts the booking it was issued for", ("voucher", "booking")),
])
def test_a_verb_of_association_that_gave_no_relation_is_reported(text, clause, pair):
    found = unread(text)
    assert [span for span, _ in found] == [clause]
    assert f"link {pair[0]} and {pair[1]}" in found[0][1]


@pytest.mark.parametrize("text,clause", [
    # the other side is no record the reader kept: the tie is reported, not dropped
    ("Track claims. Every claim is assigned to an adjuster, and each adjuster works in one region.",
     "each adjuster works in one region"),
    ("Keep products. Products are grouped into sections.", "Products are grouped into sections"),
    (("Keep tournaments with their stages. Matches are listed under each stage. A match has a "
      "score."), "Matches are listed under each stage"),
])
def test_a_tie_to_one_noun_the_reader_did_not_keep_is_reported(text, clause):
    found = dict(unread(text))
    assert clause in found and "keeps no record for" in found[clause]


@pytest.mark.parametrize("text", [
    # the pair is already linked by another sentence
    "Keep reviews and products. Each review belongs to a product. Each review targets the product it rates.",
    # who may do what to the records is a right, not a link between them
    "Keep orders and invoices. Managers can view orders and invoices.",
    "Keep drivers and vans. Dispatchers can assign drivers to a van.",
    "Keep clients and tickets. Agents may close the tickets of a client.",
])
def test_no_link_report_where_a_relation_exists_or_people_act(text):
    assert not any("seems to link" in reason for _, reason in unread(text))


def test_a_tie_whose_far_side_is_the_kept_record_names_no_record_twice():
    # "part" is set aside, "supplier" kept: the clause is reported, never as a supplier's own tie
    found = dict(unread("Keep suppliers and parts. A part comes from one supplier."))
    reasons = [reason for span, reason in found.items() if "part comes from" in span]
    assert reasons and "supplier to a supplier" not in reasons[0]


@pytest.mark.parametrize("text,clause,person", [
    ("Keep orders. Each order has a customer.", "Each order has a customer", "customer"),
    ("Keep houses. Each house has an owner.", "Each house has an owner", "owner"),
])
def test_a_person_a_record_has_but_no_record_is_kept_for_is_reported(text, clause, person):
    found = dict(unread(text))
    assert clause in found and f"to a {person}" in found[clause] or f"to an {person}" in found[clause]


@pytest.mark.parametrize("text", [
    # the person is kept as a record and linked
    "Keep orders and customers. Each order has a customer.",
    # a field of the person names a field, not a link
    "Keep tickets. Each ticket has a customer name and a subject.",
])
def test_a_person_kept_or_named_as_a_field_gives_no_link_report(text):
    assert not any("keeps no record for" in reason for _, reason in unread(text))
