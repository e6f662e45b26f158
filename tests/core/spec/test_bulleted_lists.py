"""Bulleted lists read as the sentences they stand for: the line before the colon governs every
item, and "Name: a, b, c" names a record and what it has. Phrasings written for this test."""

from mb_core.models import RequirementKind
from mb_core.spec import read_spec
from mb_core.spec.lines import bullets_as_sentences


def test_the_introducing_line_governs_every_item():
    text = "The garage system must track:\n- vans\n- drivers\n- fuel receipts"
    assert bullets_as_sentences(text).splitlines()[1:] == [
        "The garage system must track vans.", "The garage system must track drivers.",
        "The garage system must track fuel receipts."]
    names = {e.name for e in read_spec(text).entities}
    assert {"van", "driver", "fuel_receipt"} <= names


def test_a_named_item_lists_what_its_record_has():
    text = "Data:\n* Kennel: name, town\n* Dog: name, breed, kennel"
    spec = read_spec(text)
    dog = next(e for e in spec.entities if e.name == "dog")
    assert "breed" in {f.name for f in dog.fields}
    # the field named as another record is a reference: the kennel owns its dogs
    assert any(r.kind == RequirementKind.relation and (r.owner, r.other) == ("kennel", "dog")
               for r in spec.requirements)


def test_a_colon_line_without_bullets_is_left_as_written():
    text = "Keep rooms.\nStatus: free, taken\nRooms have a number."
    assert bullets_as_sentences(text) == text


def test_numbered_items_are_bullets_too():
    text = "We keep:\n1. tenants\n2. leases"
    assert bullets_as_sentences(text).splitlines()[1:] == ["We keep tenants.", "We keep leases."]
