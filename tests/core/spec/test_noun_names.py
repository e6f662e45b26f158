"""How the text's nouns become record and field names: irregular plurals, words with no plural,
"X of Y" names and their types."""

import pytest

from mb_core.models import FieldType
from mb_core.spec.fields import field_name, infer_field
from mb_core.spec.naming import plural, singular


@pytest.mark.parametrize("word,one", [
    ("criteria", "criterion"), ("phenomena", "phenomenon"), ("indices", "index"),
    ("diagnoses", "diagnosis"), ("theses", "thesis"), ("curricula", "curriculum"),
    ("sick_leaves", "sick_leave"), ("children", "child"), ("baked_goods", "baked_good"),
    ("machinery", "machinery"), ("livestock", "livestock"), ("aircraft", "aircraft"),
    ("premises", "premises"), ("staff", "staff"), ("equipment", "equipment"),
])
def test_irregular_and_uncountable_nouns(word, one):
    assert singular(word) == one


def test_an_uncountable_record_still_gets_a_distinct_plural():
    assert plural("merchandise") == "merchandise_records"


@pytest.mark.parametrize("phrase,name", [
    ("date of birth", "date_of_birth"), ("place of issue", "place_of_issue"),
    ("country of origin", "country_of_origin"), ("number of rooms", "number_of_rooms"),
    ("length of stay", "length_of_stay"),
    # a plural head is a measure in units, a determined owner is whose property it is
    ("cups of coffee", "coffee_cups"), ("the colour of the car", "car_colour"),
])
def test_of_phrases_keep_one_name(phrase, name):
    assert field_name(phrase) == name


@pytest.mark.parametrize("name,ftype", [
    ("date_of_birth", FieldType.date), ("date_of_issue", FieldType.date),
    ("cost_of_repair", FieldType.decimal), ("number_of_rooms", FieldType.integer),
    ("time_of_departure", FieldType.datetime), ("place_of_issue", FieldType.string),
])
def test_the_words_before_of_say_the_type(name, ftype):
    assert infer_field(name).type == ftype


def test_date_of_birth_is_personal_data():
    assert infer_field("date_of_birth").pii
