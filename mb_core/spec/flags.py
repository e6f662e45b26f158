"""Yes/no fields in the ways English asks for them: "whether the parcel is fragile", "whether
they are a smoker", "whether the room has a balcony", "a flag for VIP customers", "is marked as
paid or not". Each clause names a boolean field (is_fragile, is_smoker, has_balcony, is_vip,
is_paid) and, where it says so, the record it belongs to.

The clauses are found in the text the noun reader reads, and blanked there, so their words
("fragile", "flag") never become string fields of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.models import EntitySpec
from mb_core.spec.fields import infer_field
from mb_core.spec.naming import singular
from mb_core.spec.reading_state import MAX_FIELDS

# words that end a flag's phrase: "whether it is willing to relocate" -> is_willing
_ENDS = r"(?!(?:to|and|or|of|for|in|on|with|at|by|not|yet|when|if|than|as|the|a|an)\b)"
_FLAG_WORDS = rf"{_ENDS}[a-z][\w-]*(?:\s+{_ENDS}[a-z][\w-]*){{0,2}}"
_SUBJECT = r"(?:the|this|each|every|an?)\s+[a-z][\w-]*|it|they|he|she"
_WHETHER = re.compile(
    rf"\bwhether\s+(?:or not\s+)?(?P<subject>{_SUBJECT})\s+(?:(?P<have>has|have)(?:\s+an?)?|"
    rf"(?:is|are|was|were|has been|have been)(?:\s+an?)?)\s+(?P<flag>{_FLAG_WORDS})(?:\s+or not)?",
    re.IGNORECASE)
_FLAG_FOR = re.compile(
    rf"\b(?:an?\s+)?(?:yes/no\s+|yes-or-no\s+|boolean\s+|true/false\s+)?flag\s+(?:for|marking|"
    rf"that marks)\s+(?P<flag>{_FLAG_WORDS})", re.IGNORECASE)
_MARKED_OR_NOT = re.compile(
    rf"\b(?:is|are|gets?|get|can be|may be)\s+(?:marked|flagged|set|recorded)\s+as\s+"
    rf"(?P<flag>{_FLAG_WORDS})\s+or\s+not\b", re.IGNORECASE)
_PRONOUNS = {"it", "they", "he", "she"}


@dataclass(frozen=True)
class YesNoClause:
    start: int
    end: int
    words: tuple[str, ...]  # the flag's words as written, lower case ("gluten", "free")
    subject: str  # the record the clause names ("parcel"), "" for a pronoun or none
    has: bool = False  # "whether the room has a balcony": has_balcony, not is_balcony

    def field_name(self, owner_words: frozenset[str] = frozenset()) -> str:
        """is_fragile, has_balcony; words naming the owning record go ("VIP clients" -> is_vip)."""
        kept = [w for w in self.words if w not in owner_words] or list(self.words)
        return ("has_" if self.has else "is_") + "_".join(re.sub(r"[^a-z0-9]+", "_", w).strip("_")
                                                          for w in kept)


def yes_no_clauses(text: str) -> list[YesNoClause]:
    """Each yes/no clause of the text, in order, none overlapping."""
    found: list[YesNoClause] = []
    for pattern in (_WHETHER, _FLAG_FOR, _MARKED_OR_NOT):
        for m in pattern.finditer(text):
            if any(c.start < m.end() and m.start() < c.end for c in found):
                continue
            subject = (m.groupdict().get("subject") or "").lower().split()
            found.append(YesNoClause(
                start=m.start(), end=m.end(), words=tuple(m.group("flag").lower().split()),
                subject="" if not subject or subject[-1] in _PRONOUNS else subject[-1],
                has=bool(m.groupdict().get("have"))))
    return sorted(found, key=lambda c: c.start)


def blank_clauses(text: str, clauses: list[YesNoClause]) -> str:
    """The text with each clause replaced by spaces: same length, so offsets still hold."""
    for c in clauses:
        text = text[:c.start] + " " * (c.end - c.start) + text[c.end:]
    return text


def _record_named(word: str, entities: list[EntitySpec]) -> EntitySpec | None:
    said = singular(word.lower())
    return next((e for e in entities if e.name == said), None) or next(
        (e for e in entities if e.name.split("_")[-1] == said), None)


def _mentioned(text: str, entities: list[EntitySpec]) -> list[tuple[int, EntitySpec]]:
    """Where each record is named in `text` ("order lines" names order_line), in order."""
    found = []
    for e in entities:
        said = r"[\s-]".join(map(re.escape, e.name.split("_")))
        found += [(m.start(), e) for m in re.finditer(rf"(?<![\w-]){said}(?:e?s)?(?![\w-])", text,
                                                       re.IGNORECASE)]
    return sorted(found, key=lambda x: x[0])


def _owner(clause: YesNoClause, text: str, entities: list[EntitySpec]) -> tuple[EntitySpec | None, frozenset[str]]:
    """The record a yes/no clause is about: the one it names ("whether the parcel is fragile", "a
    flag for VIP clients"), else the first its sentence names (the subject that "has" it), else
    the last one named before it."""
    if clause.subject and (named := _record_named(clause.subject, entities)):
        return named, frozenset()
    if len(clause.words) > 1 and (named := _record_named(clause.words[-1], entities)):
        return named, frozenset({clause.words[-1]})
    opening = max(text.rfind(mark, 0, clause.start) for mark in ".!?;\n") + 1
    before = _mentioned(text[:clause.start], entities)
    in_sentence = [e for at, e in before if at >= opening]
    if in_sentence:
        return in_sentence[0], frozenset()
    return (before[-1][1] if before else None), frozenset()


def with_yes_no_fields(entities: list[EntitySpec], text: str,
                       clauses: list[YesNoClause]) -> list[EntitySpec]:
    """The entities with a boolean field for each yes/no clause of `text` about one of them."""
    out = list(entities)
    for clause in clauses:
        owner, owner_words = _owner(clause, text, out)
        if owner is None or len(owner.fields) >= MAX_FIELDS:
            continue
        name = clause.field_name(owner_words)
        if any(f.name == name for f in owner.fields):
            continue
        grown = owner.model_copy(update={"fields": [*owner.fields, infer_field(name, owner.name)]})
        out = [grown if e is owner else e for e in out]
    return out
