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


def bullets_as_sentences(text: str) -> str:
    """The text with each bulleted item under an introducing line written as a sentence."""
    if "\n" not in text:
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
        if named is not None:
            fields = [f.strip() for f in named.group("rest").split(",") if f.strip()]
            listed = ", ".join(fields[:-1]) + (f" and {fields[-1]}" if len(fields) > 1 else fields[0])
            out.append(f"Each {named.group('name').strip()} has {listed}.")
        elif intro and not _is_heading(intro):
            out.append(f"{intro} {item}.")
        else:
            out.append(f"{item[:1].upper()}{item[1:]}.")
    return "\n".join(out)
