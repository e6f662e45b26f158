import pytest

from mb_core.models import FieldType
from mb_core.spec.fields import field_name, infer_field, status_states
from mb_core.spec.naming import app_name_from, label, plural, safe_entity_name, singular, snake


@pytest.mark.parametrize("word,one", [
    ("contacts", "contact"), ("people", "person"), ("statuses", "status"), ("categories", "category"),
    ("quizzes", "quiz"), ("SKUs", "sku"), ("focus", "focus"), ("status", "status"),
    ("analyses", "analysis"), ("pantry_items", "pantry_item"), ("software", "software"),
    ("topics", "topic"), ("clinics", "clinic"), ("physics", "physics"), ("politics", "politics"),
])
def test_singular(word, one):
    assert singular(word) == one


@pytest.mark.parametrize("name,many", [
    ("contact", "contacts"), ("person", "people"), ("status", "statuses"), ("quiz", "quizzes"),
    ("line_item", "line_items"), ("category", "categories"),
])
def test_plural(name, many):
    assert plural(name) == many


def test_uncountable_names_get_a_distinct_plural():
    # a table and its rows must not share a name: "attendance" -> "attendance_records"
    assert plural("attendance") == "attendance_records"


def test_reserved_names_are_renamed():
    assert safe_entity_name("user") == "app_user"
    assert safe_entity_name("class") == "class_group"
    assert safe_entity_name("session") == "work_session"
    assert safe_entity_name("contact") == "contact"


def test_snake_label_and_app_name():
    assert snake("Reading status") == "reading_status"
    assert snake("caffeine/alcohol intake") == "caffeine_alcohol_intake"
    assert label("line_item") == "Line item"
    assert app_name_from("The Gym CRM for members") == "gym_crm_for"
    assert app_name_from("class") == "app_class"


@pytest.mark.parametrize("name,ftype", [
    ("birthday", FieldType.date), ("phone", FieldType.phone), ("email", FieldType.email),
    ("price", FieldType.decimal), ("amount", FieldType.decimal), ("cost", FieldType.decimal),
    ("count", FieldType.integer), ("quantity", FieldType.integer), ("stock_level", FieldType.integer),
    ("status", FieldType.enum), ("due_date", FieldType.date), ("starts_at", FieldType.datetime),
    ("is_active", FieldType.boolean), ("has_garden", FieldType.boolean), ("notes", FieldType.text),
    ("description", FieldType.text), ("url", FieldType.url), ("link", FieldType.url),
    ("screen_time", FieldType.decimal), ("start_time", FieldType.datetime), ("title", FieldType.string),
])
def test_field_types(name, ftype):
    assert infer_field(name).type == ftype


def test_field_constraints():
    phone = infer_field("phone")
    assert phone.pii and phone.max_length == 32
    assert infer_field("email").pii and infer_field("email").unique
    assert infer_field("birthday").pii
    assert not infer_field("genre").pii
    assert infer_field("sku").unique
    rating = infer_field("rating")
    assert (rating.min_value, rating.max_value) == (1, 5)
    assert infer_field("price").min_value == 0


def test_status_states_follow_the_entity_or_field():
    assert infer_field("reading_status", "book").choices == ["to_read", "reading", "finished"]
    assert status_states("invoice") == ["draft", "sent", "paid", "overdue", "cancelled"]
    assert status_states("gizmo") == ["new", "in_progress", "done"]
    stage = infer_field("stage", "deal")
    assert stage.type == FieldType.enum and "won" in stage.choices and stage.default == stage.choices[0]


def test_field_names_from_phrases():
    assert field_name("hours of sleep") == "sleep_hours"
    assert field_name("Reading status") == "reading_status"
    assert field_name("type") == "kind"  # reserved attribute names are renamed
    assert field_name("id") == "external_id"


def test_a_very_long_field_phrase_still_reads_into_a_buildable_spec():
    from mb_core.agents.system_designer import design_plan
    from mb_core.codegen import render_all
    from mb_core.spec import read_spec

    spec = read_spec("Track surveys with title and the number of people who were contacted by phone "
                     "during the first week of the campaign.")
    assert all(len(f.name) <= 40 for e in spec.entities for f in e.fields)
    assert render_all(design_plan(spec, None))


@pytest.mark.parametrize("name, due", [
    ("due_date", True), ("return_due_date", True), ("deadline", True), ("expiry_date", True),
    ("expires_on", True), ("expiration_date", True), ("valid_until", True), ("best_before", True),
    ("start_date", False), ("created_at", False), ("valid", False),
])
def test_a_lapse_date_is_a_due_date(name, due):
    from mb_core.spec.fields import is_due_field

    assert is_due_field(name) is due
