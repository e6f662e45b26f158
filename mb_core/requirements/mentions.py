"""Where a spec's text names each of its records.

A record is named by its name, its plural, its spoken name ("sessions" for work_session) and
hyphenated forms. A compound record is named too where the text says it as a verb and its
object ("employees request leave" files a leave_request): one record name across sentences,
never a second record for the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.spec.naming import plural, spoken_name


@dataclass
class Mention:
    entity: str
    start: int
    end: int
    # said as a verb's bare object ("request leave"): a mass of such records, as a plural is
    filed_object: bool = False


def _forms(name: str) -> list[str]:
    found: set[str] = set()
    for said in {name, spoken_name(name)}:  # "sessions" name the record kept as work_session
        spaced = said.replace("_", " ")
        found |= {spaced, plural(spaced), spaced.replace(" ", "-"), plural(spaced).replace(" ", "-")}
    return sorted(found, key=len, reverse=True)


def _verb_and_object(name: str) -> re.Pattern | None:
    """ "request leave" for leave_request, "requests leave": the compound's head said as the
    verb, its modifier as the bare object (the object is the mention)."""
    parts = name.split("_")
    if len(parts) != 2:
        return None
    modifier, head = (re.escape(p) for p in parts)
    return re.compile(rf"\b{head}(?:s|ed)?\s+(?P<o>{modifier})(?![\w-])", re.IGNORECASE)


def find_mentions(text: str, entities: list[str]) -> list[Mention]:
    """Each record's mentions in the text, in order; a longer name wins where two overlap."""
    mentions: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def take(name: str, start: int, end: int, filed_object: bool = False) -> None:
        if not any(a < end and start < b for a, b in taken):
            taken.append((start, end))
            mentions.append(Mention(name, start, end, filed_object))

    # first, so that "leave" in "employees request leave" is the leave request, not a
    # record named leave that the same words would also name
    for name in entities:
        if (pattern := _verb_and_object(name)) is not None:
            for m in pattern.finditer(text):
                take(name, m.start("o"), m.end("o"), filed_object=True)
    for name in sorted(entities, key=len, reverse=True):
        for form in _forms(name):
            for m in re.finditer(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.IGNORECASE):
                take(name, m.start(), m.end())
    mentions.sort(key=lambda x: x.start)
    return mentions
