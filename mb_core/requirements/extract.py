"""Spec text -> explicit requirements, each with its span.

The rules are about English sentences that state what a business application must do: a list of
allowed values after a field word, "X has many Y", "each Y belongs to an X", "no two ... the same",
"can never be double-booked", "from A to B to C", "the total ... per X", "export ... as CSV",
"<people> can <verbs> <records>". They run over the entities the reader already found, so a rule
only has to say which of those the words are about.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from mb_core.models import (
    FieldType,
    RelationKind,
    Requirement,
    RequirementKind,
    ScaffoldSpec,
    TextSpan,
)
from mb_core.spec.naming import plural, singular
from mb_core.spec.vocabulary import words

# Records that are an exchange with a party: when both are named, the record belongs to the party.
TRANSACTION_HEADS = frozenset({
    "deal", "order", "invoice", "booking", "appointment", "reservation", "payment", "donation",
    "loan", "ticket", "sale", "purchase", "subscription", "visit", "rental", "enrollment",
    "enrolment", "claim", "quote", "contract", "shipment", "opportunity", "case", "request",
    "registration", "application", "pledge", "consultation", "session", "lease", "policy",
})
PARTY_HEADS = frozenset({
    "contact", "customer", "client", "patient", "member", "donor", "guest", "student",
    "borrower", "vendor", "supplier", "company", "account", "employee", "applicant", "buyer",
    "passenger", "subscriber", "owner", "organization", "organisation", "lead", "renter",
    "attendee", "participant", "volunteer", "resident", "household",
})

_ENUM_FIELD_HINT = {"status", "stage", "state", "phase", "priority", "type", "kind", "category",
                    "level", "severity", "tier", "size", "grade", "rating", "condition", "method",
                    "channel", "source", "frequency", "mode", "role", "plan", "gender", "color",
                    "colour", "class", "difficulty", "urgency", "visibility", "outcome", "result"}
_STOP = words("determiners") | words("prepositions") | words("conjunctions") | words(
    "pronouns") | words("auxiliaries") | words("quantifiers") | {"with", "has", "have", "its"}


@dataclass
class Mention:
    entity: str
    start: int
    end: int


def _forms(name: str) -> list[str]:
    spaced = name.replace("_", " ")
    return sorted({spaced, plural(spaced), spaced.replace(" ", "-"),
                   plural(spaced).replace(" ", "-")}, key=len, reverse=True)


def _field_forms(name: str) -> list[str]:
    base = re.sub(r"^(is|has)_", "", name)
    base = re.sub(r"_(at|on)$", "", base)
    spaced = base.replace("_", " ")
    forms = {spaced, plural(spaced)}
    if spaced.endswith(" date") and spaced != "date":
        forms.add(spaced[:-5])
    if name in {"starts_at", "start_date"}:
        forms |= {"start", "start time", "start date"}
    if name in {"ends_at", "end_date"}:
        forms |= {"end", "end time", "end date"}
    return sorted((f for f in forms if f), key=len, reverse=True)


class Reader:
    """One spec's text with its entities' mentions, answering the small questions the rules ask."""

    def __init__(self, text: str, spec: ScaffoldSpec):
        self.text = text
        self.spec = spec
        self.entities = [e.name for e in spec.entities]
        self.fields = {e.name: [f.name for f in e.fields] for e in spec.entities}
        self.mentions: list[Mention] = []
        taken: list[tuple[int, int]] = []
        for name in sorted(self.entities, key=len, reverse=True):
            for form in _forms(name):
                for m in re.finditer(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.IGNORECASE):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    self.mentions.append(Mention(name, m.start(), m.end()))
        self.mentions.sort(key=lambda x: x.start)

    def sentences(self) -> Iterator[tuple[int, str]]:
        for m in re.finditer(r"[^.!?;\n]+", self.text):
            if m.group().strip():
                yield m.start(), m.group()

    def in_range(self, start: int, end: int) -> list[Mention]:
        return [m for m in self.mentions if m.start >= start and m.end <= end]

    def near(self, start: int, end: int) -> list[Mention]:
        """The records a sentence names, else those of the sentence before it: in "Each line
        item has a quantity. The quantity must be at least 1." the first says whose it is."""
        found = self.in_range(start, end)
        if found:
            return found
        boundary = max((i for i in range(max(0, start - 1)) if self.text[i] in ".!?;\n"), default=-1)
        return self.in_range(boundary + 1, start)

    def entity_at(self, start: int, end: int) -> str | None:
        found = self.in_range(start, end)
        return found[0].entity if found else None

    def span(self, start: int, end: int) -> TextSpan:
        return TextSpan(start=start, end=end, text=self.text[start:end])

    def owner_and_field(self, phrase: str, near: list[Mention]) -> tuple[str | None, str]:
        """ "patient email" -> (patient, email) when the phrase opens with an entity's name."""
        low = phrase.lower().strip()
        for name in sorted(self.entities, key=len, reverse=True):
            for form in _forms(name):
                if low.startswith((form + " ", form + "'s ")):
                    rest = _field_name(re.sub(r"^'s\b", "", low[len(form):]).strip())
                    if rest:
                        return name, rest
        field = _field_name(phrase)
        return self.entity_with_field(field, near), field

    def entity_with_field(self, field: str, near: list[Mention]) -> str | None:
        for m in near:
            if field in self.fields.get(m.entity, []):
                return m.entity
        owners = [e for e, fs in self.fields.items() if field in fs]
        if len(owners) == 1:
            return owners[0]
        return near[0].entity if near else (owners[0] if owners else None)


class Collector:
    def __init__(self, reader: Reader):
        self.r = reader
        self.items: list[Requirement] = []
        self.seen: set[tuple] = set()

    def add(self, kind: RequirementKind, start: int, end: int, key: tuple, **details) -> None:
        if (kind, *key) in self.seen:
            return
        self.seen.add((kind, *key))
        self.items.append(Requirement(id=f"R{len(self.items) + 1}", kind=kind,
                                      span=self.r.span(start, end), **details))


def _field_name(phrase: str) -> str:
    kept = [w for w in re.findall(r"[a-z][a-z0-9]*", phrase.lower()) if w not in _STOP]
    kept = kept[-2:]
    if not kept:
        return ""
    last = kept[-1]
    if last not in {"notes", "details", "hours", "minutes"} and last.endswith("s") and not \
            last.endswith(("ss", "us", "is")):
        kept[-1] = singular(last)
    return "_".join(kept)


def _value(raw: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", raw.strip().lower()).strip("_")


_ITEM = r"[A-Za-z][\w-]*(?: [A-Za-z][\w-]*){0,2}"
_LIST = rf"({_ITEM}(?:\s*,\s*{_ITEM})*\s*,?\s*(?:or|and)\s+{_ITEM})"
_VALUE_LIST = re.compile(
    rf"(?P<field>[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?)\s*(?:\(\s*({_ITEM}(?:\s*,\s*{_ITEM})+)\s*\)|"
    rf"\(\s*{_LIST}\s*\)|:\s*{_LIST}|"
    rf"\s+(?:is|are|can be|must be|may be|should be)(?: (?:one of|either|any of))?\s+{_LIST}|"
    rf"\s+(?:of|with values|values|options)\s+(?:either\s+)?{_LIST})", re.IGNORECASE)


def _split_list(raw: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+(?:or|and)\s+", raw.strip())
    return [p for p in (_value(x) for x in parts) if p]


def _value_lists(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for m in _VALUE_LIST.finditer(sentence):
        before = [x for x in near if x.start <= start + m.start()][::-1] or near
        entity, field = c.r.owner_and_field(m.group("field"), before)
        if not field or field.split("_")[-1] not in _ENUM_FIELD_HINT:
            continue
        raw = next(g for g in m.groups()[1:] if g)
        values = _split_list(raw)
        if len(values) < 2 or any(len(v) > 30 for v in values):
            continue
        c.add(RequirementKind.value_list, start + m.start(), start + m.end(), (entity, field),
              entity=entity, field=field, type=FieldType.enum, values=values,
              summary=f"{entity}.{field} is one of {', '.join(values)}")


def _relations(c: Collector, start: int, sentence: str) -> None:
    near = c.r.in_range(start, start + len(sentence))
    low = sentence.lower()
    for a, b in itertools.pairwise(near):
        if a.entity == b.entity:
            continue
        gap = low[a.end - start:b.start - start]
        s, e = a.start, b.end
        many_back = re.search(rf"(?<![\w-])(?:{'|'.join(map(re.escape, _forms(b.entity)))})\s+"
                              r"(?:can |may )?(?:have|has|belong to|be in|appear in|be part of)"
                              r"\s+(?:many|several|multiple|any number of)", low[b.start - start:])
        if re.fullmatch(r"\s*(?:can |may |each |usually |often |typically )?(?:has|have|holds?|"
                        r"contains?|owns?|includes?|lists?|keeps?|places?|makes?|receives?|gets?|"
                        r"books?|takes?|files?|raises?|submits?|carr(?:y|ies)|runs?)\s+(?:one or more |"
                        r"many |several |multiple |any number of |zero or more |its own |their "
                        r"own |their |its )?", gap) or re.fullmatch(
                            r"\s*(?:with|and (?:its|their)) (?:many |several |multiple )?", gap):
            if many_back or re.search(r"many[- ]to[- ]many", low):
                c.add(RequirementKind.relation, s, e, tuple(sorted((a.entity, b.entity))),
                      cardinality=RelationKind.many_to_many, owner=a.entity, other=b.entity,
                      summary=f"{a.entity} and {b.entity}: many-to-many")
            else:
                c.add(RequirementKind.relation, s, e, tuple(sorted((a.entity, b.entity))),
                      cardinality=RelationKind.one_to_many, owner=a.entity, other=b.entity,
                      summary=f"one {a.entity} has many {b.entity}")
        elif re.fullmatch(r"\s*(?:always |must |can only |only )?(?:belongs? to|is (?:for|of|linked "
                          r"to|tied to|attached to|assigned to|owned by|made by|placed by|booked by|"
                          r"filed by|raised by|written by|part of|issued to|issued by|under)|"
                          r"are (?:for|of|linked to|tied to|attached to|assigned to|owned by|made by|"
                          r"placed by|booked by|filed by|raised by|written by|part of|issued to|"
                          r"issued by|grouped under|under)|references?|points? to|for|of|from|by)"
                          r"\s+(?:a |an |one |the |exactly one |a single |its |their |each )?", gap):
            if re.search(r"\b(?:many|several|multiple)\b", gap):
                continue
            c.add(RequirementKind.relation, s, e, tuple(sorted((a.entity, b.entity))),
                  cardinality=RelationKind.one_to_many, owner=b.entity, other=a.entity,
                  summary=f"each {a.entity} belongs to one {b.entity}")


def _parents(name: str, spec: ScaffoldSpec) -> set[str]:
    return {r.parent for r in spec.relations if r.child == name
            and r.kind == RelationKind.one_to_many}


def _ancestors(name: str, spec: ScaffoldSpec) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        for parent in _parents(todo.pop(), spec):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _implied_party_relations(c: Collector) -> None:
    """A transaction-like record (deal, order, booking) belongs to the party it is with (contact,
    customer, patient) when the text names both and says nothing else about them."""
    def head(name: str) -> str:
        return name.split("_")[-1]

    linked = {frozenset((r.owner, r.other)) for r in c.items if r.kind == RequirementKind.relation}
    parties = [e for e in c.r.entities if head(e) in PARTY_HEADS]
    for record in c.r.entities:
        if head(record) not in TRANSACTION_HEADS or head(record) in PARTY_HEADS or not parties:
            continue
        party = next((p for p in parties if p != record), None)
        if party is None or any(record in pair for pair in linked if party in pair):
            continue
        if any(rel.parent == record and rel.child == party for rel in c.r.spec.relations):
            continue
        if party in {a for p in _parents(record, c.r.spec) if p != party
                     for a in _ancestors(p, c.r.spec)}:
            continue  # it reaches the party already ("invoices for deals" of a contact)
        a = next((m for m in c.r.mentions if m.entity == party), None)
        b = next((m for m in c.r.mentions if m.entity == record), None)
        if a is None or b is None:
            continue
        s, e = min(a.start, b.start), max(a.end, b.end)
        c.add(RequirementKind.relation, s, e, tuple(sorted((party, record))),
              cardinality=RelationKind.one_to_many, owner=party, other=record,
              params={"implied": "a transaction-like record belongs to its party"},
              summary=f"one {party} has many {record}")


_PEOPLE = words("person_nouns") | {"agent", "agents", "manager", "managers", "staff", "admin",
                                    "admins", "owner", "owners", "editor", "editors", "reviewer",
                                    "reviewers", "clerk", "clerks", "cashier", "cashiers",
                                    "librarian", "librarians", "dispatcher", "dispatchers",
                                    "approver", "approvers", "supervisor", "supervisors",
                                    "accountant", "accountants", "coach", "coaches"}
_GENERIC = words("generic_people") | {"anyone", "everyone", "nobody", "you", "we", "i", "they"}
def _entities_and_fields(c: Collector) -> None:
    first: dict[str, Mention] = {}
    for m in c.r.mentions:
        first.setdefault(m.entity, m)
    for name in c.r.entities:
        if name in first:
            m = first[name]
            c.add(RequirementKind.entity, m.start, m.end, (name,), entity=name,
                  summary=f"records of {name.replace('_', ' ')}")
    sentences = list(c.r.sentences())
    for entity in c.r.fields:
        spots = [(s, t) for s, t in sentences if any(m.entity == entity for m in c.r.in_range(
            s, s + len(t)))]
        spec_entity = next(e for e in c.r.spec.entities if e.name == entity)
        for f in spec_entity.fields:
            if f.name in {"name", "title", "description"} and f.name not in c.r.text.lower():
                continue
            for s, t in spots:
                hit = next((x for form in _field_forms(f.name) for x in [re.search(
                    rf"(?<![\w-]){re.escape(form)}(?![\w-])", t, re.IGNORECASE)] if x), None)
                if hit and not any(m.start <= s + hit.start() < m.end for m in c.r.mentions):
                    c.add(RequirementKind.field, s + hit.start(), s + hit.end(), (entity, f.name),
                          entity=entity, field=f.name, type=f.type,
                          summary=f"{entity}.{f.name} ({f.type.value})")
                    break


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
    from mb_core.spec.naming import safe_entity_name
    from mb_core.spec.reading import drop_reason

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
    from mb_core.models import EntitySpec, NounDecision
    from mb_core.spec.fields import human_field_for, infer_field
    from mb_core.spec.naming import label
    from mb_core.spec.vocabulary import table

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


def extract_requirements(spec: ScaffoldSpec) -> list[Requirement]:
    """The explicit requirements of `spec.text`, over the entities `spec` holds."""
    reader = Reader(spec.text, spec)
    c = Collector(reader)
    _entities_and_fields(c)
    for start, sentence in reader.sentences():
        _relations(c, start, sentence)
    _implied_party_relations(c)
    from mb_core.requirements.clauses import CLAUSE_RULES
    from mb_core.requirements.unread import unread_requirements

    for start, sentence in reader.sentences():
        for rule in (_value_lists, *CLAUSE_RULES):
            rule(c, start, sentence)
    unread_requirements(c)
    return c.items
