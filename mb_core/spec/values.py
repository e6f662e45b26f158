"""Clauses that list the values a field may take, in the ways English says it: "a priority:
low, normal or urgent", "a plan (basic, plus or premium)", "Species is one of dog, cat or rabbit",
"a status that is one of open, closed", "a room type of single, double or suite".

One definition serves two readers: the noun reader, for which the listed words are values and
never records ("dog", "cat"), and the requirement extractor, which makes them the field's choices.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mb_core.spec.naming import singular

# words that name a kind of choice: a list after them is values even without "one of"
ENUM_FIELD_HINT = frozenset({
    "status", "stage", "state", "phase", "priority", "type", "kind", "category", "level",
    "severity", "tier", "size", "grade", "rating", "condition", "method", "channel", "source",
    "frequency", "mode", "role", "plan", "gender", "color", "colour", "class", "difficulty",
    "urgency", "visibility", "outcome", "result", "section", "species", "breed", "genre",
    "format", "unit", "currency", "department", "shift", "season", "variety", "band",
    "flavour", "flavor", "material", "medium", "language", "region", "sector", "division"})

_ITEM = r"[A-Za-z][\w-]*(?: [A-Za-z][\w-]*){0,2}"
_LIST = rf"({_ITEM}(?:\s*,\s*{_ITEM})*\s*,?\s*(?:or|and)\s+{_ITEM})"
# "full-time / part-time / contractor", "(active/inactive)": the choices split by slashes
_SLASHED = rf"({_ITEM}(?:\s*/\s*{_ITEM})+)"
# after "one of" the words are values whatever joins them: "one of open, approved, rejected"
_ANY_LIST = rf"({_ITEM}(?:\s*,\s*{_ITEM})*\s*(?:,\s*|,?\s*(?:or|and)\s+){_ITEM})"
# a field phrase, possibly owned: "a ticket's priority", "the claim status"
# or named with its owner after "of": "the condition of an artwork"
FIELD_PHRASE = (r"(?:[A-Za-z][\w-]*['\u2019]s\s+)?[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?"
                r"(?: of (?:an? |the |each |every )?[A-Za-z][\w-]*)?")
_BE = r"(?:is|are|can be|must be|may be|should be|has to be|is always)"
VALUE_LIST = re.compile(
    rf"(?<![\w'\u2019])(?P<field>{FIELD_PHRASE})\s*(?:\(\s*({_ITEM}(?:\s*,\s*{_ITEM})+)\s*\)|"
    rf"\(\s*{_LIST}\s*\)|:\s*{_LIST}|\(\s*{_SLASHED}\s*\)|:\s*{_SLASHED}|"
    # "Statuses: open, pending, closed": a list without "or" after a colon, to the clause's end
    rf":\s*(?P<commas>{_ANY_LIST})(?=\s*(?:[.;!?]|$))|"
    # a dash before the list reads as a colon: "a visit type - check-up, follow-up or emergency"
    rf"\s+[-\u2013\u2014]\s+{_LIST}|"
    rf"(?:,?\s+(?:that|which))?\s+(?:{_BE}|takes?|holds?)\s+(?P<oneof>one of|either|any of)"
    rf"(?:\s+the following)?\s*:?\s+"
    rf"(?:the (?:values?|options?)\s+)?{_ANY_LIST}|"
    rf"(?:,?\s+(?:that|which))?\s+(?:(?:is|are|can be|must be|may be|gets?|get)\s+)?"
    rf"(?P<mark>marked|set|flagged|labell?ed|tagged)(?:\s+(?:as|to))?\s+{_LIST}|"
    rf"(?:,?\s+(?:that|which))?\s+{_BE}\s+{_LIST}|"
    rf"\s+(?:of|with values|values|options)\s+(?:either\s+)?{_LIST})", re.IGNORECASE)
_STOP_WORDS = frozenset({"a", "an", "the", "its", "their", "his", "her", "our", "each", "every",
                         "that", "which", "and", "or", "of", "with"})


@dataclass(frozen=True)
class ListedValues:
    start: int
    end: int
    field: str  # the field phrase as written
    values: list[str]  # as written, lower case
    marked: bool = False  # "is marked as draft, sent or paid": the states a record is set to


def _head(phrase: str) -> str:
    phrase = re.sub(r"\s+of\s+.*$", "", phrase)
    kept = [w for w in re.findall(r"[a-z][a-z0-9]*", phrase.lower()) if w not in _STOP_WORDS]
    return kept[-1] if kept else ""


def _items(raw: str) -> list[str]:
    """The values, up to the first that opens with an article: in "matte, gloss or plain and a
    due date" the list has ended and the sentence goes on with another field."""
    items = []
    for p in re.split(r"\s*[,/]\s*|\s+(?:or|and)\s+", raw.strip()):
        p = re.sub(r"^(?:and|or)\s+", "", p.strip().lower())  # ", and the flavours are"
        if re.match(r"(?:an?|the|its|their|each|every)\s+\w", p):  # "a due date", not "A"
            break
        if p:
            items.append(p)
    return items


def _lists_fields(clause: str, head: str, values: list[str], records: frozenset[str]) -> bool:
    """ "A room (number, floor, nightly rate)": in brackets after a record, words that name what
    a record holds are its fields, not the kinds of record it comes in."""
    from mb_core.spec.vocabulary import words

    if head in ENUM_FIELD_HINT or (head not in records and head.rstrip("s") not in records) or \
            not re.match(r"[^(]*\(", clause):
        return False
    heads = words("field_heads")
    return 2 * sum(v.split()[-1] in heads for v in values) >= len(values)


def listed_values(sentence: str, records: frozenset[str] = frozenset()) -> Iterator[ListedValues]:
    """Each clause of the sentence that offers a field's values: "one of", "marked as" or a
    colon before a list joined by "or" does whatever the field is called; other forms need a word
    that names a kind of choice (status, type, level, ...), or a record itself ("a visit can be
    routine or urgent": the kinds of visit) when the caller knows its `records`."""
    pos = 0
    while (m := VALUE_LIST.search(sentence, pos)) is not None:
        # a clause that offers no values may still hold one that does: "a number, which is
        # unique, and a room type of single, double or suite"
        pos = m.start() + 1
        raw = next(g for g in m.groups()[1:] if g and g not in {m.group("oneof"), m.group("mark")})
        head = _head(m.group("field"))
        if m.group("commas") and singular(head) not in ENUM_FIELD_HINT:
            continue  # "Statuses: open, pending, closed": without "or" only a kind of choice
        offered = bool(m.group("oneof") or m.group("mark")) or bool(re.match(
            r"[^:]*:\s*|\s*[-\u2013\u2014]\s", m.group()[len(m.group("field")):]) and re.search(r"\bor\b", raw))
        if not head and m.group("oneof") and m.group("field").lower() in {"and", "but"}:
            # "a vacancy has a salary, and is either open or closed": the clause's subject, the
            # record itself, takes the values
            head = ""
        elif not head or (singular(head) not in ENUM_FIELD_HINT and head not in ENUM_FIELD_HINT
                        and not offered and head not in records and head.rstrip("s") not in records):
            continue
        values = _items(raw)
        if len(values) < 2 or any(len(v) > 30 for v in values):
            continue
        if _lists_fields(m.group(), head, values, records):
            continue
        if values[-1] in {"not", "no"}:
            continue  # "is marked as paid or not": a yes/no field (mb_core.spec.flags), not values
        # a list cut short by another clause ("..., and the flavours are x or y"): read on from it
        cut = re.search(r"(?:,\s*|\s)(?:and|or)\s+(?:an?|the|its|their|each|every)\s", raw, re.IGNORECASE)
        raw_at = next(m.start(i) for i in range(2, len(m.groups()) + 1) if m.group(i) == raw)
        pos = m.end() if cut is None else raw_at + cut.start() + 1
        yield ListedValues(m.start(), m.end(), m.group("field"), values, bool(m.group("mark")))
