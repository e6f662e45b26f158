"""Where the text names each record: its forms, and a compound said as a verb and its object."""

from mb_core.requirements.mentions import find_mentions


def named(text, entities):
    return [(m.entity, text[m.start:m.end], m.filed_object) for m in find_mentions(text, entities)]


def test_compound_said_as_verb_and_object():
    text = "Staff request holiday. A holiday request has a start date."
    assert named(text, ["holiday_request", "staff"]) == [
        ("staff", "Staff", False), ("holiday_request", "holiday", True),
        ("holiday_request", "holiday request", False)]


def test_verb_object_wins_over_its_modifier_alone():
    # "holiday" set aside as a record of its own is still the request where it is filed
    text = "Staff request holiday."
    assert named(text, ["holiday", "holiday_request"]) == [("holiday_request", "holiday", True)]


def test_longer_name_wins_overlap():
    text = "Each line item belongs to an order; items are counted."
    assert [e for e, _, _ in named(text, ["item", "line_item", "order"])] == [
        "line_item", "order", "item"]
