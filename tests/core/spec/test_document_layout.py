"""Specs pasted from documents: markdown headings, bold names, dashes, nested bullets, tables and
numbered requirements read as if they were prose. Phrasings written for this test."""

from mb_core.models import RequirementKind, RuleKind
from mb_core.spec import read_spec
from mb_core.spec.layout import plain_layout


def _entities(spec) -> dict[str, set[str]]:
    return {e.name: {f.name for f in e.fields} for e in spec.entities}


def _keys(spec, kind: RequirementKind) -> set[tuple]:
    return {(r.owner, r.other) if kind == RequirementKind.relation else (r.entity, r.field)
            for r in spec.requirements if r.kind == kind}


def test_the_layout_keeps_the_texts_length_and_its_words_in_place():
    text = ("# Overview\nA marina rents berths.\n## Vessel\n- hull number\n- tonnage (decimal)\n"
            "* **Berth** — code (unique), length\n| Field | Type |\n|---|---|\n| a | text |")
    plain = plain_layout(text)
    assert len(plain) == len(text)
    for word in ("hull number", "tonnage", "code", "length", "A marina rents berths."):
        assert plain.index(word) == text.index(word)


def test_section_titles_never_become_records():
    text = ("# Requirements\n## Entities\n- Lodger: full name, phone\n- Lease: start date, lodger\n"
            "## Business rules\n- A lease belongs to a lodger.\n## Notes\nLodgers pay monthly.")
    names = set(_entities(read_spec(text)))
    assert {"lodger", "lease"} <= names
    assert not names & {"requirement", "entity", "business_rule", "rule", "note"}


def test_a_record_heading_over_bullets_lists_its_fields():
    text = "## Data model\n### Vessel\n- hull number\n- tonnage (decimal)\n### Skipper\n- licence code"
    spec = read_spec(text)
    entities = _entities(spec)
    assert {"hull_number", "tonnage"} <= entities["vessel"]
    assert "licence_code" in entities["skipper"]
    assert ("vessel", "hull_number") in _keys(spec, RequirementKind.field)


def test_a_bullet_with_sub_bullets_is_a_record_and_its_fields():
    text = "The farm keeps:\n- Orchards\n  - acreage\n  - region\n- Harvests\n  - picked on\n  - orchard"
    spec = read_spec(text)
    entities = _entities(spec)
    assert {"acreage", "region"} <= entities["orchard"]
    assert ("orchard", "harvest") in _keys(spec, RequirementKind.relation)


def test_bold_names_and_dashes_set_a_record_apart_from_its_fields():
    text = ("**Greenhouse**: name, heating type\n"
            "- **Tray** — sown on (date), greenhouse, herb type (basil, chive or mint)")
    spec = read_spec(text)
    entities = _entities(spec)
    assert "heating_type" in entities["greenhouse"]
    assert "sown_on" in entities["tray"]
    assert ("greenhouse", "tray") in _keys(spec, RequirementKind.relation)
    values = {tuple(r.values) for r in spec.requirements if r.kind == RequirementKind.value_list}
    assert ("basil", "chive", "mint") in values


def test_numbered_requirements_read_as_sentences():
    text = ("Requirements:\n1. Each shipment belongs to a carrier.\n2) A carrier has a phone.\n"
            "3. Dispatchers can update shipments.")
    spec = read_spec(text)
    assert ("carrier", "shipment") in _keys(spec, RequirementKind.relation)
    assert any(r.kind == RequirementKind.role and r.role == "dispatcher" for r in spec.requirements)


def test_a_type_group_goes_and_unique_stays_a_rule():
    text = "- Kiln: serial code (text, unique), max temperature (number, required), fired on (date)"
    spec = read_spec(text)
    assert {"serial_code", "max_temperature", "fired_on"} <= _entities(spec)["kiln"]
    assert any(r.rule == RuleKind.uniqueness and r.field == "serial_code"
               for r in spec.requirements)


def test_a_field_type_after_a_colon_is_no_value_list():
    text = "Entities\n- Locker\n  - number: text (unique)\n  - floor: number\n  - monthly fee: decimal"
    spec = read_spec(text)
    assert {"number", "floor", "monthly_fee"} <= _entities(spec)["locker"]
    assert not _keys(spec, RequirementKind.value_list)
    assert ("locker", "number") in {(r.entity, r.field) for r in spec.requirements
                                    if r.rule == RuleKind.uniqueness}


def test_a_field_table_under_a_record_heading():
    text = "### Permit\n| Field | Type |\n|-------|------|\n| permit number | text |\n| issued on | date |"
    assert {"permit_number", "issued_on"} <= _entities(read_spec(text))["permit"]


def test_a_heading_is_the_subject_of_a_line_that_says_what_it_has():
    text = "# Parcel\nHas a weight and a tracking code. Each parcel belongs to a sender.\n# Sender\nHas a name."
    spec = read_spec(text)
    assert {"weight", "tracking_code"} <= _entities(spec)["parcel"]
    assert ("sender", "parcel") in _keys(spec, RequirementKind.relation)


def test_a_named_item_keeps_its_value_lists_whole():
    text = "Records:\n* Lamp: wattage, colour (brass, chrome or black), status: stocked or sold out"
    spec = read_spec(text)
    values = {(r.field, tuple(r.values)) for r in spec.requirements
              if r.kind == RequirementKind.value_list}
    assert ("colour", ("brass", "chrome", "black")) in values
    assert ("status", ("stocked", "sold_out")) in values


def test_a_bullet_that_is_a_sentence_with_a_colon_is_no_record():
    text = "Rules:\n- Each rental has a plan: hourly, daily or weekly.\n- Rentals have a start time."
    spec = read_spec(text)
    assert "each_rental" not in _entities(spec)
    assert ("rental", "plan") in _keys(spec, RequirementKind.value_list)


def test_a_field_named_with_a_preposition_is_one_field():
    spec = read_spec("Records:\n- Shift: started at, rota code, hire date")
    assert {"started_at", "rota_code", "hire_date"} <= _entities(spec)["shift"]


def test_a_bold_or_dashed_lead_before_a_sentence_is_no_record():
    text = "**Note**: only managers can refund orders.\n- Refunds — each order may have one refund."
    plain = plain_layout(text)
    assert "Note:" not in plain and "Refunds:" not in plain
    assert "note" not in _entities(read_spec("Keep orders.\n" + text))
