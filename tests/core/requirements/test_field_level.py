"""Field-level requirements read from text: value lists, uniqueness, fields named as written and
role rights, each rule on phrasings written for this test (not the bench's sentences)."""

import pytest

from mb_core.models import Action, FieldType, RequirementKind, RuleKind
from mb_core.spec import read_spec
from mb_core.spec.values import listed_values


def _field(spec, entity, name):
    e = next(e for e in spec.entities if e.name == entity)
    return next((f for f in e.fields if f.name == name), None)


@pytest.mark.parametrize("text, entity, field, values", [
    ("A kennel keeps dogs. A dog has a name and a coat. Coat is one of short, long or wire.",
     "dog", "coat", ["short", "long", "wire"]),
    ("Track parcels with a weight. The parcel speed is one of slow, fast, express.",
     "parcel", "speed", ["slow", "fast", "express"]),
    ("Keep orders. Each order has a total and a channel that is one of web, phone or store.",
     "order", "channel", ["web", "phone", "store"]),
    ("Keep tickets. A ticket's urgency is minor, major or blocker.",
     "ticket", "urgency", ["minor", "major", "blocker"]),
    ("Keep flats. Every flat has a flat type of studio, loft or duplex.",
     "flat", "flat_type", ["studio", "loft", "duplex"]),
    ("Keep vases. The colour of a vase is glazed, raw or painted.",
     "vase", "colour", ["glazed", "raw", "painted"]),
    ("Keep mugs. Every mug has a glaze type of satin, matte or gloss and a price.",
     "mug", "glaze_type", ["satin", "matte", "gloss"]),
])
def test_a_clause_that_lists_values_makes_them_the_fields_choices(text, entity, field, values):
    spec = read_spec(text)
    found = [r for r in spec.requirements if r.kind == RequirementKind.value_list]
    assert [(r.entity, r.field, r.values) for r in found] == [(entity, field, values)], \
        [r.summary for r in spec.requirements]
    f = _field(spec, entity, field)
    assert f is not None and f.type == FieldType.enum and f.choices == values
    # the values are values, never records of their own
    assert not {e.name for e in spec.entities} & set(values)


def test_one_of_needs_no_choice_word_but_a_plain_list_does():
    assert [x.values for x in listed_values("Colour is one of red, green")] == [["red", "green"]]
    assert not list(listed_values("The owner is Anna, Ben or Carl"))  # "owner" offers no choice
    assert [x.values for x in listed_values("a mood is happy, sad or calm")] == []
    assert [x.values for x in listed_values("a grade is low, mid or top")] == [["low", "mid", "top"]]


@pytest.mark.parametrize("text, entity, field", [
    ("Keep members. For each member we store the card number (unique), the name and the city.",
     "member", "card_number"),
    ("Keep lockers. Every locker has a locker code, which is unique, and a size.",
     "locker", "locker_code"),
    ("Keep boats. Each boat has a hull number that must be unique.", "boat", "hull_number"),
    ("Keep shops. Each shop's handle is unique.", "shop", "handle"),
    ("Keep shelves. Shelf code must be unique.", "shelf", "code"),
])
def test_uniqueness_in_its_english_forms(text, entity, field):
    spec = read_spec(text)
    found = [r for r in spec.requirements if r.rule == RuleKind.uniqueness]
    assert [(r.entity, r.field) for r in found] == [(entity, field)], \
        [r.summary for r in spec.requirements]
    assert _field(spec, entity, field).unique


def test_a_field_list_keeps_an_identifier_named_with_its_record():
    spec = read_spec("Keep parcels. Each parcel has a parcel number and a parcel type.")
    names = {f.name for f in next(e for e in spec.entities if e.name == "parcel").fields}
    assert {"parcel_number", "parcel_type"} <= names


def test_a_word_a_record_has_is_its_field_even_one_that_alone_names_the_app():
    spec = read_spec("Keep workshops. Each workshop has a code, a title and a section.")
    names = {f.name for f in next(e for e in spec.entities if e.name == "workshop").fields}
    assert {"code", "title", "section"} <= names


def test_a_deadline_keeps_its_name_and_still_makes_rows_overdue():
    spec = read_spec("Keep chores. Each chore has a title and a deadline. Overdue chores are listed.")
    f = _field(spec, "chore", "deadline")
    assert f is not None and f.type == FieldType.date
    assert any(r.rule == RuleKind.due_overdue and r.entity == "chore" for r in spec.requirements)


@pytest.mark.parametrize("text, role, entity, granted, denied", [
    ("Keep tanks. Keepers can record tanks.", "keeper", "tank", [Action.create], []),
    ("Keep crates. Porters can order and sort crates.", "porter", "crate", [], []),
    ("Keep essays. Tutors can create and edit essays but not delete them.", "tutor", "essay",
     [Action.create, Action.update], [Action.delete]),
])
def test_verbs_are_whole_words(text, role, entity, granted, denied):
    """ "record" is one verb (not "rec" or "d"): a right is read from whole words only."""
    spec = read_spec(text)
    rights = [r for r in spec.requirements if r.kind == RequirementKind.role and r.role == role]
    if not granted:
        assert not rights or all(Action.create not in r.actions for r in rights)
        return
    assert [(r.entity, r.actions) for r in rights] == [(entity, granted)], \
        [r.summary for r in spec.requirements]
    assert rights[0].params.get("denied", []) == [a.value for a in denied]
