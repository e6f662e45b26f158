"""Relations whose grammar does not line up with the key: a second party after a verb's object,
a record that mediates a verb ("through"), a subject that is no record, "for each X, its Ys", a
row tied to its own kind through a role word, and many-to-many by being present in many places.
Phrasings written for this test."""

import pytest

from tests.core.requirements.relation_reading import MANY, ONE, read_relations


@pytest.mark.parametrize("text,pairs", [
    # the verb's object is with or for a second party, which owns it too
    ("Keep owners, vets and consultations. Owners arrange consultations with vets.",
     [("owner", "consultation"), ("vet", "consultation")]),
    ("Keep landlords, flats and tenancies. Landlords sign tenancies for flats.",
     [("landlord", "tenancy"), ("flat", "tenancy")]),
    ("Keep engineers, machines and inspections. Engineers perform inspections on machines.",
     [("engineer", "inspection"), ("machine", "inspection")]),
])
def test_the_party_after_the_object_owns_it_too(text, pairs):
    found = read_relations(text)
    for parent, child in pairs:
        assert (parent, child, ONE) in found


def test_a_record_the_verb_goes_through_belongs_to_both_sides():
    found = read_relations("Keep readers, magazines and subscriptions. Readers receive magazines "
                           "through subscriptions.")
    assert ("reader", "subscription", ONE) in found
    assert ("magazine", "subscription", ONE) in found
    assert not any({o, c} == {"reader", "magazine"} for o, c, _ in found)


def test_a_subject_that_is_no_record_makes_the_object_for_the_party():
    found = read_relations("Keep contractors and work orders. Facilities raises work orders for "
                           "contractors.")
    assert ("contractor", "work_order", ONE) in found


def test_for_each_record_its_parts():
    found = read_relations("Keep warehouses and aisles. For every warehouse, its aisles have a "
                           "number.")
    assert ("warehouse", "aisle", ONE) in found


@pytest.mark.parametrize("text,name", [
    ("Keep employees. Each employee has a mentor (another employee).", "employee"),
    ("Keep clauses. A clause can be amended by another clause.", "clause"),
    ("Keep folders. A folder may hold subfolders, which are folders too.", "folder"),
])
def test_a_row_tied_to_its_own_kind_through_a_role(text, name):
    assert (name, name, ONE) in read_relations(text)


def test_present_in_many_places_is_many_to_many():
    found = read_relations("Keep medicines and pharmacies. A medicine is stored in several pharmacies.")
    assert any({o, c} == {"medicine", "pharmacy"} and k == MANY for o, c, k in found)


def test_shipped_in_several_stays_one_to_many():
    # a parcel is in one shipment only: nothing says it is shared
    found = read_relations("Keep orders and parcels. An order is shipped in several parcels.")
    assert not any(k == MANY for _, _, k in found)
