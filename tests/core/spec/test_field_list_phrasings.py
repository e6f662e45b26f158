"""Fields listed the further ways people write them: a bulleted list after "has:" with type words
in parentheses, a record that "stores" or "records" its fields, "for every X we keep ...", the
fields of "each X for a Y has ...", and an -ing word that names a field ("a shipping address").
Phrasings written for this test."""

import pytest

from mb_core.spec import read_spec
from mb_core.spec.fields import flatten_field_lists


def _fields(spec, entity):
    return [f.name for f in next(e for e in spec.entities if e.name == entity).fields]


def test_a_bulleted_list_after_a_colon_is_one_field_list():
    text = ("A florist sells bouquets. Each bouquet has:\n- name (text)\n- price (number)\n"
            "- made on (date)\nThe price must be positive.")
    flat = flatten_field_lists(text)
    assert len(flat) == len(text)  # spans into the text stay where they were
    assert "(number)" not in flat and "\n-" not in flat
    spec = read_spec(text)
    assert {"name", "price", "made_on"} <= set(_fields(spec, "bouquet"))
    assert {e.name for e in spec.entities} == {"bouquet"}


@pytest.mark.parametrize("text, entity, fields", [
    (("A museum lends paintings to galleries. A painting stores its title, artist and insured "
     "value."), "painting", {"title", "artist", "insured_value"}),
    ("Cooks keep recipes. Each dish records the cuisine, the spice level and the origin.", "dish",
     {"cuisine", "spice_level", "origin"}),
    ("Keep shifts. For every shift we keep the rota week and the hours.", "shift",
     {"rota_week", "hours"}),
])
def test_a_record_that_stores_or_keeps_lists_its_fields(text, entity, fields):
    spec = read_spec(text)
    assert fields <= set(_fields(spec, entity)), [(e.name, [f.name for f in e.fields])
                                                   for e in spec.entities]


def test_records_kept_bare_are_records_not_fields():
    spec = read_spec("A depot keeps trucks and drivers.")
    assert {"truck", "driver"} <= {e.name for e in spec.entities}


def test_the_fields_of_each_x_for_a_y_are_the_xs():
    spec = read_spec("Keep pupils and lessons. Each lesson for a pupil has a start time and a topic.")
    assert {"start_time", "topic"} <= set(_fields(spec, "lesson"))
    assert "topic" not in _fields(spec, "pupil")


@pytest.mark.parametrize("text, entity, field", [
    ("Keep parcels. Each parcel has a shipping address and a weight.", "parcel", "shipping_address"),
    ("Keep cards. Each card has a billing code.", "card", "billing_code"),
])
def test_an_ing_word_before_a_field_word_is_part_of_the_field(text, entity, field):
    assert field in _fields(read_spec(text), entity)


def test_a_fields_sentence_lists_the_fields_of_the_record_before_it():
    spec = read_spec("A farm keeps herds. Fields: herd size, breed, vet phone.")
    assert {"herd_size", "breed", "vet_phone"} <= set(_fields(spec, "herd"))


@pytest.mark.parametrize("text, entity, field", [
    ("Keep roasts. A roast has a roast level and a weight.", "roast", "roast_level"),
    ("Keep rooms. Every room has a room number.", "room", "room_number"),
])
def test_a_records_own_list_names_the_field_as_written(text, entity, field):
    assert field in _fields(read_spec(text), entity)


def test_the_records_name_in_front_of_a_field_elsewhere_is_its_owner():
    spec = read_spec("Keep vendors with a code. Vendor code must be unique.")
    assert "code" in _fields(spec, "vendor") and "vendor_code" not in _fields(spec, "vendor")


@pytest.mark.parametrize("text, entity, field, unit", [
    ("Keep ponds. A pond has a depth in metres and a name.", "pond", "depth", "metre"),
    ("Keep runs. Each run has a distance in kilometres and a date.", "run", "distance", "kilometre"),
])
def test_the_unit_a_field_is_measured_in_is_no_record(text, entity, field, unit):
    spec = read_spec(text)
    assert field in _fields(spec, entity)
    assert unit not in {e.name for e in spec.entities}


def test_a_field_per_unit_is_one_field_typed_by_what_is_measured():
    spec = read_spec("Keep rentals. Each rental has a price per night and a guest name.")
    e = next(e for e in spec.entities if e.name == "rental")
    field = next(f for f in e.fields if f.name == "price_per_night")
    assert field.type.value == "decimal"
    assert "night" not in {e.name for e in spec.entities}


@pytest.mark.parametrize("text, entity, fields, parent", [
    # "has these fields:" and "<record> fields:" open the record's own list; a listed field named
    # as another record is a link to it
    ("Keep albums and labels. Albums have these fields: title, label, release year.", "album",
     {"title", "release_year"}, "label"),
    ("Keep crates and vans. Crate attributes: weight, van, contents.", "crate", {"weight"}, "van"),
])
def test_a_list_after_fields_colon_belongs_to_the_record_named(text, entity, fields, parent):
    flat = flatten_field_lists(text)
    assert len(flat) == len(text)
    spec = read_spec(text)
    assert fields <= set(_fields(spec, entity))
    assert (parent, entity) in {(r.parent, r.child) for r in spec.relations}


def test_a_list_word_after_a_determiner_is_not_a_record():
    flat = flatten_field_lists("Keep crates. Its fields: weight, contents.")
    assert "Its has" not in flat


@pytest.mark.parametrize("text, entity, fields, other", [
    # "and has" after the record a preposition governs speaks of the subject again
    (("Keep tenants and leases. A lease is tied to exactly one tenant and has a deposit and a "
      "start date."), "lease", {"deposit", "start_date"}, "app_tenant"),
    ("Keep kilns and firings. Each firing belongs to one kiln and has a peak temperature.",
     "firing", {"peak_temperature"}, "kiln"),
])
def test_and_has_after_a_linked_record_gives_the_subject_its_fields(text, entity, fields, other):
    spec = read_spec(text)
    assert fields <= set(_fields(spec, entity))
    assert not fields & set(_fields(spec, other))


def test_a_verb_between_an_article_and_a_field_head_names_the_field():
    spec = read_spec("Keep drivers. A driver has a hire date and a licence number.")
    assert {"hire_date", "licence_number"} <= set(_fields(spec, "driver"))
