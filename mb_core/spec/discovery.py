"""Entities a sentence's structure names that the noun-phrase reader did not keep: the records of
"warehouses hold many products", "each stay is for a guest", "agents open tickets". It runs after
the reader (freeform or LLM) and before the requirements are read, so every rule sees them."""

from __future__ import annotations

import re

from mb_core.models import EntitySpec, NounDecision, ScaffoldSpec
from mb_core.spec.fields import human_field_for, infer_field
from mb_core.spec.naming import label, plural, safe_entity_name, singular
from mb_core.spec.noun_rules import drop_reason
from mb_core.spec.vocabulary import table, words

_HAS_MANY = re.compile(
    r"(?:\b(?:each|every|a|an|the|one)\s+)?\b(?P<a>[a-z][a-z-]*(?: [a-z][a-z-]*)?)\s+(?:can |may |usually |"
    r"often )?(?:has|have|holds?|contains?|lists?|owns?|keeps?|makes?|places?|receives?|takes?)\s+"
    r"(?:many|several|multiple|one or more|any number of|(?:at most|no more than|up to) \d+)\s+(?P<b>[a-z][a-z-]*(?: [a-z][a-z-]*)?)", re.IGNORECASE)
_BELONGS = re.compile(
    r"\b(?:each|every|a|an|one)\s+(?P<b>[a-z][a-z-]*(?: [a-z][a-z-]*)?)\s+(?:always |must )?(?:belongs? "
    r"to|is for|is from|is owned by|is assigned to|is linked to|is made by|is placed by|is booked by)"
    r"\s+(?:a|an|one|the|exactly one|a single)\s+(?P<a>[a-z][a-z-]*(?: [a-z][a-z-]*)?)", re.IGNORECASE)


_PEOPLE_MAKE = re.compile(
    r"\b(?P<who>[a-z]+)\s+(?:can |may |should be able to |must be able to )?(?:submit|create|add|"
    r"book|log|record|file|raise|place|make|open|post|enter|track|manage|register for|sign up "
    r"for)\s+(?:a |an |the |their |new |many )?(?P<b>[a-z][a-z-]*(?: [a-z][a-z-]*)?)", re.IGNORECASE)


def _record_name(phrase: str) -> str | None:
    """The record a relation phrase names ("line items" -> line_item), or None for words that
    are never records (pronouns, determiners, the app, people in general)."""
    from mb_core.requirements.extract import _GENERIC, _STOP

    kept: list[str] = []
    for w in phrase.lower().split():
        if w in _STOP or w in words("adjectives"):
            if kept:
                break
            continue
        kept.append(w)
    reason = drop_reason(kept) if kept else None
    # a relation sentence names records: "events have many registrations" is not about logins
    if not kept or len(kept[-1]) < 3 or kept[-1] in _GENERIC or singular(kept[-1]) in words(
            "field_heads") or (
            reason and reason != "accounts are provided by the auth layer"):
        return None
    kept[-1] = singular(kept[-1])
    return safe_entity_name("_".join(kept))


def discover_entities(spec: ScaffoldSpec) -> ScaffoldSpec:
    """Records that a relation sentence names ("warehouses hold many products", "each stay is for
    a guest") become entities when the reader did not already find them."""
    from mb_core.requirements.extract import _PEOPLE

    known = {e.name for e in spec.entities}
    added: list[EntitySpec] = []
    decisions: list[NounDecision] = []
    for pattern in (_HAS_MANY, _BELONGS, _PEOPLE_MAKE):
        for m in pattern.finditer(spec.text):
            who = m.group("who").lower() if pattern is _PEOPLE_MAKE else ""
            if pattern is _PEOPLE_MAKE and who not in _PEOPLE and singular(who) not in _PEOPLE:
                continue
            for group in ("a", "b") if pattern is not _PEOPLE_MAKE else ("b",):
                if group == "b" and re.match(r"\s+of\b", spec.text[m.end(group):], re.IGNORECASE):
                    continue  # "hours of sleep", "a list of ...": a measure, not a record
                name = _record_name(m.group(group))
                if not name or name in known or len(known) >= 12:
                    continue
                template = table("entity_templates").get(name) or [human_field_for(name),
                                                                    "description"]
                fields = [infer_field(str(n), name) for n in template]
                fields = [f.model_copy(update={"required": True}) if i == 0 else f
                          for i, f in enumerate(fields)]
                added.append(EntitySpec(name=name, plural=plural(name), label=label(name),
                                        fields=fields, description=f"from: {m.group(group)}"))
                decisions.append(NounDecision(phrase=m.group(group), decision="entity",
                                              reason=f"a relation names it: \"{m.group()}\""))
                known.add(name)
    if not added:
        return spec
    return spec.model_copy(update={"entities": [*spec.entities, *added],
                                   "decisions": [*spec.decisions, *decisions]})
