"""Relations read from how English says them: any active verb with a count, passives, one-of,
coordination, possessives, and many-to-many settled over the whole text. Phrasings written for
this test."""

import pytest

from tests.core.requirements.relation_reading import MANY, ONE, relations


@pytest.mark.parametrize("text,parent,child", [
    # any verb with a count of the other side
    ("Keep kennels and dogs. A kennel shelters many dogs.", "kennel", "dog"),
    ("Track orchards and trees. Each orchard grows several trees.", "orchard", "tree"),
    # a passive names the owner after its preposition
    ("Keep crews and shifts. Every shift is staffed by a crew.", "crew", "shift"),
    ("Record springs and bottles. Each bottle is drawn from a spring.", "spring", "bottle"),
    ("Log clinics and referrals. A referral is sent to one clinic.", "clinic", "referral"),
    # a reduced passive after the noun
    ("Keep quotes linked to projects. Manage projects.", "project", "quote"),
    # "holds one": the one it holds is the owner
    ("Keep lockers and parcels. Every locker holds one parcel.", "parcel", "locker"),
    # a plural object of a verb: the subject owns it
    ("Keep landlords and flats. Landlords lease flats.", "landlord", "flat"),
    # a possessive between two records
    ("Keep bands and albums. A band's albums are listed.", "band", "album"),
])
def test_one_to_many_from_sentence_structure(text, parent, child):
    found, built = relations(text)
    assert (parent, child, ONE) in found, found
    assert (parent, child, ONE) in built


def test_a_coordinated_passive_gives_the_subject_a_second_owner():
    found, _ = relations("Keep parcels, depots and vans. Each parcel is stored in a depot and "
                         "carried by a van.")
    assert ("depot", "parcel", ONE) in found and ("van", "parcel", ONE) in found, found


def test_one_clause_for_two_owners():
    found, _ = relations("Keep tables, diners and bookings. A booking is for one table and one diner.")
    assert ("table", "booking", ONE) in found and ("diner", "booking", ONE) in found, found


@pytest.mark.parametrize("text,pair", [
    (("Keep artists and festivals. An artist plays at many festivals and a festival books "
     "several artists."), {"artist", "festival"}),
    (("Keep badges and volunteers. A volunteer can be linked to several badges, and a badge "
     "is held by many volunteers."), {"badge", "volunteer"}),
    (("Keep catalogues and products. Catalogues list many products; the same product can appear "
     "on several catalogues."),
     {"catalogue", "product"}),
])
def test_many_to_many_when_the_text_counts_both_ways(text, pair):
    found, built = relations(text)
    assert any({a, b} == pair and k == MANY for a, b, k in found), found
    assert any({a, b} == pair and k == MANY for a, b, k in built), built


def test_a_single_count_one_way_stays_one_to_many():
    found, _ = relations("Keep farms and barns. A farm has several barns.")
    assert found == {("farm", "barn", ONE)}


def test_a_list_of_records_is_no_relation():
    found, _ = relations("Keep kennels, dogs and owners.")
    assert not {(a, b) for a, b, _k in found} & {("kennel", "dog"), ("dog", "owner")}
