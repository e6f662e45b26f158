"""Bulleted lists read as the sentences they stand for.

"The clinic app should manage:" followed by "- patients", "- appointments" says "manage
patients" and "manage appointments": the line before the colon governs every item. An item
"Player: name, shirt number, team" names a record and what it has. Only the text the reader
chunks is rewritten; requirements keep their spans in the text as written.
"""

from __future__ import annotations

import re

from mb_core.spec.vocabulary import words

_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6]|\d{1,2}[.)])\s+(?P<item>.+?)\s*$")
_INTRO = re.compile(r"^\s*(?P<intro>.*?)\s*:\s*$")
_NAMED_ITEM = re.compile(r"^(?P<name>[A-Za-z][\w -]{0,40}?)\s*:\s*(?P<rest>.+)$")
_PRONOUNS = {"we", "i", "you", "they", "it", "users", "staff"}
# "Each product has:" opens the product's field list, read whole by spec.fields.flatten_field_lists
_FIELD_LIST_INTRO = re.compile(r"\b(?:has|have|with|fields|details|attributes|columns|properties)$",
                               re.IGNORECASE)


def _is_heading(intro: str) -> bool:
    """ "Records", "Main entities": a title over the items, not words that govern them ("We
    keep", "Track", "The app should manage")."""
    said = intro.lower().split()
    return len(said) <= 2 and not (set(said) & _PRONOUNS) and said[0] not in words("managing_verbs")


# words that make the part before a colon a clause, not a record's name: "Each member has a
# membership type: monthly, annual or day pass" is a sentence with a value list
_CLAUSE_WORDS = frozenset({"has", "have", "is", "are", "can", "must", "should", "may", "will",
                           "each", "every", "all", "the", "a", "an", "only", "no", "when", "if"})


def _names_a_record(name: str) -> bool:
    said = name.lower().split()
    return len(said) <= 4 and not set(said) & (_CLAUSE_WORDS | _PRONOUNS)


def listed_fields(rest: str) -> list[str]:
    """ "subject, priority (low, medium, high), status: open or closed" -> its three fields: a
    comma inside brackets, or in the values after a field's colon, lists values, not fields."""
    fields: list[str] = []
    depth, current, values = 0, "", False
    for ch in rest:
        depth += (ch == "(") - (ch == ")")
        if ch == ":" and depth == 0:
            values = True
        if ch == "," and depth == 0 and not values:
            fields.append(current)
            current = ""
            continue
        current += ch
        if values and re.search(r"\s(?:or|and)\s+\S+$", current):
            values = False  # "open, pending or closed": the last value ends the list
    fields.append(current)
    # "status: open or closed" said as "status (open or closed)", as a field's values are in prose
    return [re.sub(r"^([^:()]+?)\s*:\s*(.+)$", r"\1 (\2)", re.sub(r"\s+", " ", f).strip())
            for f in fields if f.strip()]


def _one_field(said: str) -> str:
    """ "picked on" -> "picked-on", "hire date" -> "hire-date": an item is one field whatever its
    words, as an item of a bulleted field list is (spec.fields.flatten_field_lists)."""
    kept = said.split()
    if not 1 < len(kept) <= 3 or kept[0].lower() in {"a", "an", "the", "its", "their"}:
        return said
    return "-".join(kept) + (" " if said.endswith(" ") else "")


def bullets_as_sentences(text: str) -> str:
    """The text with each bulleted item under an introducing line written as a sentence."""
    if "\n" not in text and not _BULLET.match(text):  # a one-line item is a list too
        return text
    lines = text.split("\n")
    out: list[str] = []
    intro: str | None = None
    keep_list = False  # the bullets of a field list stay as they are
    for i, line in enumerate(lines):
        bullet = _BULLET.match(line)
        if bullet is None:
            m = _INTRO.match(line)
            opens_list = m is not None and i + 1 < len(lines) and bool(_BULLET.match(lines[i + 1]))
            intro = m.group("intro") if opens_list else None
            keep_list = intro is not None and bool(_FIELD_LIST_INTRO.search(intro))
            out.append(line if keep_list or not opens_list else "")
            continue
        if keep_list:
            out.append(line)
            continue
        item = bullet.group("item").rstrip(".;,")
        named = _NAMED_ITEM.match(item)
        if named is not None and _names_a_record(named.group("name")):
            # "picked on" is one field, as an item of a bulleted field list is
            fields = [re.sub(r"^[^(]+", lambda m: _one_field(m.group()), f)
                      for f in listed_fields(named.group("rest"))]
            listed = ", ".join(fields[:-1]) + (f" and {fields[-1]}" if len(fields) > 1 else fields[0])
            out.append(f"Each {named.group('name').strip()} has {listed}.")
        elif intro and not _is_heading(intro):
            out.append(f"{intro} {item}.")
        else:
            out.append(f"{item[:1].upper()}{item[1:]}.")
    return "\n".join(out)
