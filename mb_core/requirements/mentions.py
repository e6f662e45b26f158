"""Where a spec's text names each of its records.

A record is named by its name, its plural, its spoken name ("sessions" for work_session) and
hyphenated forms. A compound record is named too where the text says it as a verb and its
object ("employees request leave" files a leave_request), and by its head alone said again
("their claims" after "expense claims", as mb_core.spec.compounds decides): one record name
across sentences, never a second record for the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.spec.compounds import compound_parts, is_head_of, refers_back
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
                taken.append((m.start(), m.start("o") - 1))  # the verb names no record
    for name in sorted(entities, key=len, reverse=True):
        for form in _forms(name):
            for m in re.finditer(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.IGNORECASE):
                take(name, m.start(), m.end())
    # "expense claims ... their claims", "... return loans": once the compound is said, its head
    # alone names it too (the head being no record of its own); a bare singular may be a verb
    # ("managers request changes"), so only after a word that points back
    for name in entities:
        parts = compound_parts(name)
        if parts is None or parts[1] in entities or sum(
                1 for e in entities if is_head_of(e, parts[1], entities)) != 1 \
                or not is_head_of(name, parts[1], entities):
            continue
        first = min((m.start for m in mentions if m.entity == name), default=None)
        for form in _forms(parts[1]):
            for m in re.finditer(rf"\b(?P<w>[a-z]+) (?P<h>{re.escape(form)})(?![\w-])", text,
                                 re.IGNORECASE):
                plural_said = m.group("h").lower() != parts[1]
                if first is not None and m.start() > first and (
                        plural_said or refers_back([m.group("w")])):
                    take(name, m.start("h"), m.end("h"))
    mentions.sort(key=lambda x: x.start)
    return mentions
