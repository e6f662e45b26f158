"""The reader on specs too long or too wordy for the generator: limits it reports, names it fits."""

from __future__ import annotations

import itertools

from mb_core.agents.system_designer import design_plan
from mb_core.codegen import render_all
from mb_core.codegen.naming import MAX_NAME
from mb_core.models import FieldType, SpecMode
from mb_core.spec import read_spec
from mb_core.spec.naming import MAX_ENTITY_NAME, MAX_FIELD_NAME, shortened
from mb_core.spec.reading import MAX_ENTITIES, MAX_FIELDS, entity_name


def made_up_words(n: int) -> list[str]:
    """Distinct pronounceable non-words, so no vocabulary rule picks any of them out."""
    consonants, vowels = "bdfgklmnprtvz", "aeiou"
    found = ("".join(parts) + "o" for parts in itertools.product(consonants, vowels, consonants,
                                                                  vowels, consonants))
    return list(itertools.islice(found, n))


def test_fields_past_the_limit_are_dropped_each_with_its_reason():
    names = made_up_words(MAX_FIELDS + 25)
    spec = read_spec("Build a warehouse app. Each crate has " + ", ".join(names[:-1])
                     + " and " + names[-1] + ".")
    crate = next(e for e in spec.entities if e.name == "crate")
    assert [f.name for f in crate.fields][:MAX_FIELDS] == names[:MAX_FIELDS]
    assert not {f.name for f in crate.fields} & set(names[MAX_FIELDS:])
    over = [d for d in spec.decisions if d.reason == f"over the limit of {MAX_FIELDS} fields on 'crate'"]
    assert [d.phrase for d in over] == names[MAX_FIELDS:]


def test_a_long_list_of_records_keeps_the_entity_limit_and_says_so():
    names = made_up_words(2000)
    spec = read_spec("Build a registry that manages " + ", ".join(names[:-1]) + " and "
                     + names[-1] + ".")
    assert [e.name for e in spec.entities] == names[:MAX_ENTITIES]
    dropped = [d for d in spec.decisions if d.reason == f"over the limit of {MAX_ENTITIES} entities"]
    assert len(dropped) == len(names) - MAX_ENTITIES


def test_one_sentence_per_record_reads_every_sentence():
    names = made_up_words(400)
    text = "Build a registry. " + " ".join(f"Staff manage {n}." for n in names)
    assert [e.name for e in read_spec(text).entities] == names[:MAX_ENTITIES]


def test_the_reader_limits_are_the_generator_limits():
    assert MAX_FIELD_NAME == MAX_NAME
    assert MAX_ENTITY_NAME + len("_records") <= MAX_NAME  # the longest plural still fits


LONG_FIELDS = ("Build a freight app. Each parcel has a weight, an estimated international "
               "shipping insurance coverage amount, a guaranteed international shipping insurance "
               "coverage amount and a destination.")


def test_long_field_names_are_shortened_alike_every_time_and_stay_distinct():
    fields = next(e for e in read_spec(LONG_FIELDS).entities if e.name == "parcel").fields
    long_ones = [f for f in fields if f.name.endswith("coverage_amount")]
    assert len(long_ones) == 2 and long_ones[0].name != long_ones[1].name
    assert all(len(f.name) <= MAX_FIELD_NAME and f.type == FieldType.decimal for f in long_ones)
    again = next(e for e in read_spec(LONG_FIELDS).entities if e.name == "parcel").fields
    assert [f.name for f in again] == [f.name for f in fields]
    assert {"weight", "destination"} <= {f.name for f in fields}


def test_a_spec_with_long_names_renders():
    plan = design_plan(read_spec(LONG_FIELDS))
    files = {f.path: f.content for f in render_all(plan)}
    parcel_model = next(text for path, text in files.items() if path.endswith("models/parcel.py"))
    long_name = next(f.name for e in plan.entities for f in e.fields if f.name.endswith("coverage_amount"))
    assert long_name in parcel_model


def test_guided_names_are_fitted_the_same_way():
    long_name = "count_of_boxes_waiting_for_the_evening_delivery_round"
    spec = read_spec(f"title: Depot\nentities:\n  shipment: [{long_name}]\n", SpecMode.guided)
    names = [f.name for e in spec.entities for f in e.fields]
    assert shortened(long_name, MAX_FIELD_NAME) in names


def test_shortening():
    assert shortened("status", 40) == "status"
    long_name = "estimated_international_shipping_insurance_coverage_amount"
    short = shortened(long_name, 40)
    assert len(short) <= 40 and short.endswith("_shipping_insurance_coverage_amount")
    assert short[0] == "e" and short == shortened(long_name, 40)
    assert shortened("a" * 55, 40) != shortened("a" * 56, 40)
    assert all(len(shortened("q" * n, 40)) <= 40 for n in range(30, 90))
    entity = entity_name(["intercontinental", "reconciliation", "counterparties"])
    assert len(entity) <= MAX_ENTITY_NAME and entity.endswith("_counterparty")
