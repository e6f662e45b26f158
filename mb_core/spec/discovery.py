"""Entities a sentence's structure names that the noun-phrase reader did not keep: the records of
"warehouses hold many products", "each stay is for a guest", "agents open tickets". It runs after
the reader (freeform or LLM) and before the requirements are read, so every rule sees them."""

from __future__ import annotations

import itertools
import re

from mb_core.models import EntitySpec, NounDecision, ScaffoldSpec
from mb_core.spec.compounds import names_a_kept_record
from mb_core.spec.fields import human_field_for, infer_field
from mb_core.spec.naming import label, plural, safe_entity_name, singular
from mb_core.spec.noun_rules import drop_reason
from mb_core.spec.vocabulary import table, words

_NOUN = r"[a-z][a-z-]*(?: [a-z][a-z-]*)?"
_MANY = r"(?:many|several|multiple|one or more|any number of|zero or more|(?:at most|no more than|up to) \d+)"
# "A has many B", "A can be linked to several B", "A appears on many B": any verb, a quantity
# (a particle belongs to the verb: "students sign up for several courses")
_HAS_MANY = re.compile(
    rf"(?:\b(?:each|every|a|an|the|one)\s+)?\b(?P<a>{_NOUN})\s+(?:can |may |will |usually |often |"
    rf"typically )?(?:(?:be|is|are)\s+)?(?!(?:to|with|on|in|for|at|into|by|from|of|and|or|up|out|off|"
    rf"part|back|down|over)\b)(?P<verb>[a-z]+)(?:\s+(?:up|out|off|part|back|down|over))?"
    rf"(?:\s+(?:to|with|on|in|for|at|into))?\s+"
    rf"{_MANY}\s+(?P<b>{_NOUN})", re.IGNORECASE)
# "each B belongs to an A", "every B is led by a trainer", "a B is taken from a patient"
_BELONGS = re.compile(
    rf"\b(?:each|every|a|an|one)\s+(?P<b>{_NOUN})\s+(?:always |must |can only |only )?(?:belongs? to|"
    r"(?:is|are)\s+(?:always\s+)?(?:for|from|of|under|[a-z]+(?:ed|en|wn|t)\s+(?:by|to|for|from|in|"
    r"against|on|under|with|at)|led by|held by|run by|made by|paid by|sold to|kept by|set by|"
    r"sent to|done by)|references?|points? to)"
    rf"\s+(?:a|an|one|the|exactly one|a single|its|their)\s+(?P<a>{_NOUN})", re.IGNORECASE)
# "for each vehicle we store ...", "a list of trainers": the text counts them, so they are rows
_COUNTED = re.compile(rf"\b(?:for each|for every|per|a list of|lists of|the list of)\s+(?P<b>{_NOUN})",
                      re.IGNORECASE)

_COUNTABLE_REASONS = {"accounts are provided by the auth layer", "abstract word, not a thing to manage",
                      "names the application itself"}


def _record_name(phrase: str, counted: bool = False) -> str | None:
    """The record a relation phrase names ("line items" -> line_item), or None for words that
    are never records (pronouns, determiners, the app, people in general). A word that usually
    names the app or an abstraction ("tool", "case") is a record when the sentence counts it:
    "each case belongs to a customer", "neighbours borrow tools"."""
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
            reason and not (counted and reason in _COUNTABLE_REASONS)
            and reason != "accounts are provided by the auth layer"):
        return None
    kept[-1] = singular(kept[-1])
    return safe_entity_name("_".join(kept))

_PEOPLE_MAKE = re.compile(
    r"\b(?P<who>[a-z]+)\s+(?:can |may |should be able to |must be able to )?(?:submit|create|add|"
    r"book|log|record|file|raise|place|make|open|post|enter|track|manage|register for|sign up "
    r"for)\s+(?:a |an |the |their |new |many )?(?P<b>[a-z][a-z-]*(?: [a-z][a-z-]*)?)", re.IGNORECASE)


# a unit price says its unit after "per" ("a price per bottle"); an aggregate ("the balance per
# client") says the records it is grouped by
_UNIT_PRICES = {"price", "rate", "cost", "fee", "charge", "fare", "tariff"}


def _after_a_field_word(text: str, at: int) -> bool:
    before = re.findall(r"[a-z]+", text[max(0, at - 30):at].lower())
    return bool(before) and singular(before[-1]) in _UNIT_PRICES


_NOT_BUSINESS_VERBS = {"use", "want", "need", "like", "love", "prefer", "see", "get", "seem", "become",
                       "enjoy", "help", "let", "allow", "say", "think", "know", "try", "expect"}
_TIME_WORDS = {"day", "week", "month", "year", "hour", "minute", "time", "night", "quarter", "season"}


def _mentions(spec: ScaffoldSpec, known: set[str]) -> list[tuple[str, bool, str]]:
    """(phrase, counted, why) for each record a sentence's structure names, in text order."""
    from mb_core.requirements.extract import _PEOPLE

    text = spec.text
    found: list[tuple[int, str, bool, str]] = []
    for m in _HAS_MANY.finditer(text):
        owner = _record_name(m.group("a"))
        owner_is_record = owner is not None and m.group("verb").lower() not in _NOT_BUSINESS_VERBS
        found.append((m.start("a"), m.group("a"), False, m.group()))
        if owner_is_record or owner in known:
            found.append((m.start("b"), m.group("b"), True, m.group()))
    for m in _BELONGS.finditer(text):
        found += [(m.start("b"), m.group("b"), True, m.group()), (m.start("a"), m.group("a"), True,
                                                                 m.group())]
    for m in _COUNTED.finditer(text):
        if _after_a_field_word(text, m.start()):
            continue  # "a price per bottle", "a rate per hour": the unit of a field
        found.append((m.start("b"), m.group("b"), False, m.group()))
    for m in _PEOPLE_MAKE.finditer(text):
        who = m.group("who").lower()
        if who in _PEOPLE or singular(who) in _PEOPLE:
            found.append((m.start("b"), m.group("b"), False, m.group()))
    found += _clause_objects(text, known)
    found.sort(key=lambda x: x[0])
    out = []
    for start, phrase, counted, why in found:
        if re.match(r"\s+of\b", text[start + len(phrase):], re.IGNORECASE):
            continue  # "hours of sleep", "a list of ...": a measure, not a record
        out.append((phrase, counted, why))
    return out


def _clause_objects(text: str, known: set[str]) -> list[tuple[int, str, bool, str]]:
    """ "Neighbours borrow tools", "customers open cases": the plural object of what a subject
    does is a record the app keeps."""
    from mb_core.spec.phrases import noun_phrases

    found = []
    phrases = noun_phrases(text)
    at = 0
    for p, nxt in itertools.pairwise(phrases):
        verb = (p.subject_of or [""])[0]
        if not verb or verb in _NOT_BUSINESS_VERBS or nxt.sentence != p.sentence or nxt.prep \
                or verb not in nxt.verbs or singular(nxt.words[-1]) == nxt.words[-1]:
            continue
        at = text.lower().find(nxt.text.lower(), at)
        if at < 0:
            at = 0
            continue
        found.append((at, nxt.text, True, f"{p.text} {verb} {nxt.text}"))
    return found


def discover_entities(spec: ScaffoldSpec) -> ScaffoldSpec:
    """Records that a sentence's structure names ("warehouses hold many products", "each stay is
    for a guest", "neighbours borrow tools") become entities when the reader did not find them."""
    known = {e.name for e in spec.entities}
    added: list[EntitySpec] = []
    decisions: list[NounDecision] = []
    for phrase, counted, why in _mentions(spec, known):
        name = _record_name(phrase, counted)
        if not name or name in known or len(known) >= 12 or name in _TIME_WORDS \
                or names_a_kept_record(name, known):
            continue
        template = table("entity_templates").get(name) or [human_field_for(name), "description"]
        fields = [infer_field(str(n), name) for n in template]
        fields = [f.model_copy(update={"required": True}) if i == 0 else f
                  for i, f in enumerate(fields)]
        added.append(EntitySpec(name=name, plural=plural(name), label=label(name),
                                fields=fields, description=f"from: {phrase}"))
        decisions.append(NounDecision(phrase=phrase, decision="entity",
                                      reason=f"the sentence's structure names it: \"{why}\""))
        known.add(name)
    if not added:
        return spec
    return spec.model_copy(update={"entities": [*spec.entities, *added],
                                   "decisions": [*spec.decisions, *decisions]})
