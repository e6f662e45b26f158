"""One record for a compound and its head said again, under one name. Phrasings written for
this test."""

import pytest

from mb_core.spec import read_spec
from mb_core.spec.compounds import is_head_of, kept_name, names_a_kept_record, refers_back


def test_head_of_a_compound_unless_the_modifier_is_a_record():
    assert is_head_of("fuel_purchase", "purchase", {"fuel_purchase", "purchase"})
    assert not is_head_of("desk_booking", "booking", {"desk", "desk_booking"})
    assert not is_head_of("purchase", "purchase", {"purchase"})


def test_kept_name_is_where_the_fields_are_listed():
    assert kept_name("fuel_purchase", "purchase", True, False) == "purchase"
    assert kept_name("expense_claim", "claim", False, True) == "expense_claim"
    assert kept_name("support_request", "request", True, False) == "support_request"


def test_other_name_of_a_kept_record():
    assert names_a_kept_record("claim", {"expense_claim", "manager"})
    assert names_a_kept_record("fuel_purchase", {"purchase"})
    assert not names_a_kept_record("claim", {"expense_claim", "travel_claim"})
    assert not names_a_kept_record("room", {"booking"})
    # a general head kept alone is a misread: the compound is still discovered
    assert not names_a_kept_record("leave_request", {"request", "employee"})


def test_refers_back():
    assert refers_back(["view", "their"]) and refers_back(["each"])
    assert not refers_back(["rooms:"]) and not refers_back([])


@pytest.mark.parametrize("text,name,gone", [
    ("Couriers record parcel deliveries. Each delivery has an address and a weight.",
     "delivery", "parcel_delivery"),
    (("Tenants raise repair tickets with a description and a date. Caretakers close their "
      "tickets."), "repair_ticket", "ticket"),
    ("Keep camping tents. Members borrow and return tents.", "camping_tent", "tent"),
])
def test_compound_and_head_said_again_are_one_record(text, name, gone):
    names = {e.name for e in read_spec(text).entities}
    assert name in names and gone not in names, names


def test_a_head_listed_beside_the_compound_may_be_its_own_record():
    # nothing points back: the list may name another record, both are kept as written
    names = {e.name for e in read_spec(
        "Build a booking system for study rooms: rooms and bookings with start and end times").entities}
    assert {"study_room", "room"} <= names
