"""When a compound noun and its head said alone are one record, and which name it keeps.

"Drivers log fuel purchases. Each purchase records the date ...": the head noun said after its
compound with a word that points back ("each purchase", "their claims", "every request") is the
same record, not a second one. The reader (which records to keep) and the requirement mentions
(where the text names each record) both ask these questions, so they agree on one name.
"""

from __future__ import annotations

from collections.abc import Collection

# words before a noun that point back to something already said
REFERRING_WORDS = frozenset({"each", "every", "the", "their", "its", "this", "that", "these",
                             "those", "his", "her", "our", "your"})
# heads too general to name a record alone: "a support request" stays a support_request
GENERAL_HEADS = frozenset({"request", "record", "item", "entry", "form", "detail", "note"})


def compound_parts(name: str) -> tuple[str, str] | None:
    """(modifier, head) of a two-word record name, else None."""
    parts = name.split("_")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def is_head_of(compound: str, head: str, records: Collection[str]) -> bool:
    """ "purchase" is the head of fuel_purchase, unless the modifier is a record of its own
    ("desk bookings" of kept desks are a record of their own, linked to the desk)."""
    parts = compound_parts(compound)
    return parts is not None and parts[1] == head and parts[0] not in records


def names_a_kept_record(name: str, kept: Collection[str]) -> bool:
    """ "fuel_purchase" when purchase is kept, "claim" when expense_claim is: the same record
    under its other name (the head of exactly one kept compound)."""
    parts = compound_parts(name)
    # a general head kept alone ("request") is a misread of the compound, not its other name:
    # the compound is still kept, as kept_name would name it
    if parts is not None and parts[1] in kept and parts[0] not in kept \
            and parts[1] not in GENERAL_HEADS:
        return True
    return sum(1 for k in kept if is_head_of(k, name, kept)) == 1


def refers_back(words_before: list[str]) -> bool:
    """The head said with a word that points back ("each purchase", "their claims")."""
    return bool(words_before) and words_before[-1].lower() in REFERRING_WORDS


def kept_name(compound: str, head: str, head_described: bool, compound_described: bool) -> str:
    """The one name of a compound and its head: the name under which the text lists its fields
    ("each purchase records the date"), else the whole compound; a general head ("request")
    never stands alone."""
    if head in GENERAL_HEADS:
        return compound
    return head if head_described and not compound_described else compound
