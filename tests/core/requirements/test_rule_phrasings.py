"""Rules on fields stated the further ways people write them: values a record is "marked as" or
"set to", a record that "is either" one kind or another, limits on a field ("no more than",
"cannot exceed", "at least N years old"), counted rows of no record of their own, "no two ...
share", a negated "before", "ends after it starts". Phrasings written for this test."""

import pytest

from mb_core.agents import security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput, SecurityInput
from mb_core.models import FieldType, RequirementKind, RequirementStatus, RuleKind
from mb_core.providers.offline import OfflineProvider
from mb_core.requirements import trace_requirements
from mb_core.spec import read_spec


def _rules(spec, rule):
    return [r for r in spec.requirements if r.kind == RequirementKind.rule and r.rule == rule]


def _field(spec, entity, name):
    e = next(e for e in spec.entities if e.name == entity)
    return next((f for f in e.fields if f.name == name), None)


def _plan(spec):
    ctx = AgentContext(provider=OfflineProvider())
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    return run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)


@pytest.mark.parametrize("text, entity, field, values", [
    ("Keep orders. An order is marked as new, packed or sent.", "order", "status",
     ["new", "packed", "sent"]),
    ("Keep lamps. Each lamp has a state set to on, off or broken.", "lamp", "state",
     ["on", "off", "broken"]),
    ("Keep cabins. A cabin is either shared or private.", "cabin", "type", ["shared", "private"]),
    ("Keep hikes. A hike can be easy, steep or alpine.", "hike", "type", ["easy", "steep", "alpine"]),
])
def test_values_a_record_is_marked_as_or_is_either_become_its_choices(text, entity, field, values):
    spec = read_spec(text)
    found = [r for r in spec.requirements if r.kind == RequirementKind.value_list]
    assert [(r.entity, r.field, r.values) for r in found] == [(entity, field, values)], \
        [r.summary for r in spec.requirements]
    f = _field(spec, entity, field)
    assert f is not None and f.type == FieldType.enum and f.choices == values


def test_a_listed_field_named_like_a_record_keeps_its_owner():
    # "rack" is a record too, but "a crate's rack" is the crate's field
    spec = read_spec("Keep racks and crates. A crate's rack is one of upper, lower.")
    found = [r for r in spec.requirements if r.kind == RequirementKind.value_list]
    assert [(r.entity, r.field) for r in found] != [("rack", "type")]


@pytest.mark.parametrize("text, entity, field, low, high", [
    ("Keep crates. A crate's weight must be no more than 40.", "crate", "weight", None, 40),
    ("Keep kayaks. Each kayak has a length. The length can be no more than 6.", "kayak", "length",
     None, 6),
    ("Keep coupons. Each coupon has a discount. The discount cannot exceed 30.", "coupon",
     "discount", None, 30),
    ("Keep voters. Every voter must be at least 16 years old.", "voter", "age", 16, None),
])
def test_a_limit_on_a_field_is_a_range_not_a_capacity(text, entity, field, low, high):
    spec = read_spec(text)
    ranges = _rules(spec, RuleKind.value_range)
    assert [(r.entity, r.field) for r in ranges] == [(entity, field)], [r.summary for r in spec.requirements]
    assert (ranges[0].params["min"], ranges[0].params["max"]) == (
        float(low) if low is not None else None, float(high) if high is not None else None)
    assert not _rules(spec, RuleKind.capacity)
    f = _field(spec, entity, field)
    assert f is not None and (f.min_value, f.max_value) == (ranges[0].params["min"], ranges[0].params["max"])


def test_a_field_named_capacity_is_no_capacity_rule():
    spec = read_spec("Keep halls. Each hall has a name, a city and a capacity.")
    assert not _rules(spec, RuleKind.capacity)


def test_a_limit_on_rows_no_record_keeps_is_read_and_reported_not_built():
    spec = read_spec("Keep halls. A hall is full at 80 guests.")
    [cap] = _rules(spec, RuleKind.capacity)
    assert (cap.entity, cap.params["container"], cap.params["limit"]) == ("guest", "hall", 80)
    row = next(r for r in trace_requirements(_plan(spec), None) if r.requirement == cap.id)
    assert row.status == RequirementStatus.not_implemented and row.reason


@pytest.mark.parametrize("text, entity, field", [
    ("Keep drivers. No two drivers share a licence number.", "driver", "licence_number"),
    ("Keep boats. No two boats can have the same mooring code.", "boat", "mooring_code"),
])
def test_no_two_records_sharing_a_value_is_uniqueness(text, entity, field):
    spec = read_spec(text)
    assert [(r.entity, r.field) for r in _rules(spec, RuleKind.uniqueness)] == [(entity, field)]
    assert _field(spec, entity, field).unique


@pytest.mark.parametrize("text, entity, later, earlier", [
    (("Keep loans. A loan has a lend date and a return date. The return date cannot be before the "
     "lend date."), "loan", "return_date", "lend_date"),
    (("Keep trips. A trip has a start date and an end date. The end date must not be earlier than "
     "the start date."), "trip", "end_date", "start_date"),
    (("Keep tours. A tour has a start date and an end date. The start date must be before the end "
     "date."), "tour", "end_date", "start_date"),
])
def test_date_order_follows_the_negation(text, entity, later, earlier):
    spec = read_spec(text)
    [order] = _rules(spec, RuleKind.date_order)
    assert (order.entity, order.params["later"], order.params["earlier"]) == (entity, later, earlier)


def test_ends_after_it_starts_orders_the_records_own_dates():
    spec = read_spec("Keep festivals. A festival has a start date and an end date. A festival "
                     "ends after it starts.")
    [order] = _rules(spec, RuleKind.date_order)
    assert (order.entity, order.params["later"], order.params["earlier"]) == (
        "festival", "end_date", "start_date")
    row = next(r for r in trace_requirements(_plan(spec), None) if r.requirement == order.id)
    assert row.elements == ["feature:date_order:festival"] and row.tests


def test_a_field_written_with_hyphens_is_found_in_the_text():
    spec = read_spec("Keep tours. Each tour has a check-in date and a drop-off time.")
    found = {(r.entity, r.field) for r in spec.requirements if r.kind == RequirementKind.field}
    assert {("tour", "check_in_date"), ("tour", "drop_off_time")} <= found, [
        r.summary for r in spec.requirements]
