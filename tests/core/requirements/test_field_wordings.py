"""Fields in more wordings: yes/no fields, length limits, ranges said right after the field and
"distinct" for unique, each rule on phrasings written for this test (not the bench's sentences)."""

import pytest

from mb_core.models import FieldType, RequirementKind, RuleKind
from mb_core.spec import read_spec
from mb_core.spec.flags import blank_clauses, yes_no_clauses


def _field(spec, entity, name):
    e = next(e for e in spec.entities if e.name == entity)
    return next((f for f in e.fields if f.name == name), None)


def _rules(spec, rule):
    return [r for r in spec.requirements if r.kind == RequirementKind.rule and r.rule == rule]


@pytest.mark.parametrize("text, entity, field", [
    ("A florist keeps bouquets. A bouquet has a price and whether the bouquet is seasonal.",
     "bouquet", "is_seasonal"),
    ("A kennel keeps dogs. A dog has a name and whether it is neutered.", "dog", "is_neutered"),
    ("An insurer keeps drivers. A driver has a licence number and whether they are a learner.",
     "driver", "is_learner"),
    ("A landlord keeps flats. A flat has a rent and whether the flat has a balcony.",
     "flat", "has_balcony"),
    ("A garage keeps customers. A customer has a name, an email and a flag for trade customers.",
     "customer", "is_trade"),
    ("A printer keeps jobs. A job has a title, a page count and is marked as urgent or not.",
     "job", "is_urgent"),
])
def test_a_yes_no_clause_is_a_boolean_field_of_its_record(text, entity, field):
    spec = read_spec(text)
    f = _field(spec, entity, field)
    assert f is not None and f.type == FieldType.boolean, [
        (e.name, [x.name for x in e.fields]) for e in spec.entities]
    # the clause's words are no string fields of their own, no value list, no unread clause
    fields = {x.name for e in spec.entities for x in e.fields}
    assert not fields & {"flag", "seasonal", "neutered", "learner", "balcony", "urgent"}
    kinds = {r.kind for r in spec.requirements}
    assert RequirementKind.value_list not in kinds and RequirementKind.not_understood not in kinds
    assert any(r.kind == RequirementKind.field and r.field == field for r in spec.requirements)


def test_yes_no_clauses_are_blanked_in_place():
    text = "A van has a plate and whether it is electric. Done."
    clauses = yes_no_clauses(text)
    assert [(c.words, c.subject) for c in clauses] == [(("electric",), "")]
    blanked = blank_clauses(text, clauses)
    assert len(blanked) == len(text) and "electric" not in blanked and blanked.endswith(". Done.")


def test_a_choice_that_is_not_a_yes_no_clause_stays_a_value_list():
    spec = read_spec("Keep invoices. An invoice is marked as draft, sent or paid.")
    assert [r.values for r in spec.requirements if r.kind == RequirementKind.value_list] == [
        ["draft", "sent", "paid"]]


@pytest.mark.parametrize("text, entity, field, longest", [
    ("A newsroom keeps articles. An article has a headline of at most 90 characters and a body.",
     "article", "headline", 90),
    ("A shop keeps reviews. A review has a comment, limited to 300 characters, and a rating.",
     "review", "comment", 300),
    ("Keep courses. A course has a code (max 12 characters) and a title.", "course", "code", 12),
    ("Keep tasks. A task has a label. The label must not exceed 40 characters.", "task", "label", 40),
    ("Keep notes. A note has a heading that is under 50 characters.", "note", "heading", 49),
])
def test_a_length_limit_is_the_fields_longest_length(text, entity, field, longest):
    spec = read_spec(text)
    found = _rules(spec, RuleKind.length_limit)
    assert [(r.entity, r.field, r.params["max"]) for r in found] == [(entity, field, longest)], [
        r.summary for r in spec.requirements]
    f = _field(spec, entity, field)
    assert f is not None and f.type in (FieldType.string, FieldType.text) and f.max_length == longest
    # the number of characters is neither a numeric range nor a count of rows
    assert not _rules(spec, RuleKind.value_range) and not _rules(spec, RuleKind.capacity)


@pytest.mark.parametrize("text, entity, field, low, high", [
    ("Keep screenings. Each screening has a film, a price and a score from 1 to 10.",
     "screening", "score", 1, 10),
    ("Keep baskets. A basket has a label and a weight between 1 and 40.", "basket", "weight", 1, 40),
])
def test_a_range_said_right_after_the_field_is_read(text, entity, field, low, high):
    spec = read_spec(text)
    found = _rules(spec, RuleKind.value_range)
    assert [(r.entity, r.field, r.params["min"], r.params["max"]) for r in found] == [
        (entity, field, low, high)], [r.summary for r in spec.requirements]
    f = _field(spec, entity, field)
    assert f is not None and (f.min_value, f.max_value) == (low, high)


def test_distinct_means_unique():
    spec = read_spec("A club keeps members. A member has a name and a locker number. Locker "
                     "numbers must be distinct.")
    assert [(r.entity, r.field) for r in _rules(spec, RuleKind.uniqueness)] == [
        ("member", "locker_number")]
    assert _field(spec, "member", "locker_number").unique


def test_a_bracketed_list_of_field_words_after_a_record_is_no_value_list():
    spec = read_spec("A marina keeps berths. A berth (number, length, daily price) has a size "
                     "of small, medium or large.")
    assert [(r.entity, r.field, r.values) for r in spec.requirements
            if r.kind == RequirementKind.value_list] == [("berth", "size", ["small", "medium", "large"])]
