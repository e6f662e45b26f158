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
from mb_core.requirements.mentions import Mention, _forms, find_mentions
from mb_core.requirements.relation_gaps import (
    JOINS_SHARED,
    SECOND_PARTY,
    THROUGH,
    WHOLE_OF_PARTS,
    extra_gap_claim,
    field_reference_relations,
    self_relations,
)
from mb_core.spec.fields import UNIT_PLURALS, flatten_field_lists
from mb_core.spec.layout import plain_layout
from mb_core.spec.naming import plural, singular
from mb_core.spec.values import ENUM_FIELD_HINT, listed_values
from mb_core.spec.vocabulary import vocabulary, words

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

_STOP = words("determiners") | words("prepositions") | words("conjunctions") | words(
    "pronouns") | words("auxiliaries") | words("quantifiers") | {"with", "has", "have", "its"}


def _field_forms(name: str) -> list[str]:
    base = re.sub(r"^(is|has)_", "", name)
    base = re.sub(r"_(at|on)$", "", base)
    spaced = base.replace("_", " ")
    forms = {spaced, plural(spaced)}
    if re.search(r"\bemail\b", spaced):  # written "e-mail" as often as "email"
        forms |= {f.replace("email", "e mail") for f in list(forms)}
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
        # a document's layout as plain lines, bulleted field lists as one sentence
        self.read_text = flatten_field_lists(plain_layout(text))
        self.spec = spec
        self.entities = [e.name for e in spec.entities]
        self.fields = {e.name: [f.name for f in e.fields] for e in spec.entities}
        self.mentions: list[Mention] = find_mentions(text, self.entities)

    def sentences(self) -> Iterator[tuple[int, str]]:
        for m in re.finditer(r"[^.!?;\n]+", self.read_text):
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
        of = re.fullmatch(r"(?P<f>.+?)\s+of\s+(?:an?|the|each|every)?\s*(?P<e>[a-z][\w-]*)", low)
        if of:  # "the condition of an artwork"
            owner = next((n for n in self.entities if of.group("e") in _forms(n)), None)
            if owner is not None and _field_name(of.group("f")):
                return owner, _field_name(of.group("f"))
        whole = _field_name(phrase)
        if "'s " not in low and any(whole in self.fields.get(m.entity, []) for m in near):
            # "an adoption status" on an animal that has one, though "adoption" names a record too
            return self.entity_with_field(whole, near), whole
        for name in sorted(self.entities, key=len, reverse=True):
            for form in [*_forms(name), *self._head_forms(name)]:
                if low.startswith((form + " ", form + "'s ")):
                    rest = _field_name(re.sub(r"^'s\b", "", low[len(form):]).strip())
                    whole = f"{name}_{rest}"
                    if rest and whole in self.fields.get(name, []) and not low.startswith(
                            form + "'s "):
                        return name, whole  # "room number" when the room has a room_number
                    if rest:
                        return name, rest
        field = _field_name(phrase)
        return self.entity_with_field(field, near), field

    def _head_forms(self, name: str) -> list[str]:
        """ "ticket" for support_ticket: a compound record's head said alone names it, when no
        other record has that name or head ("Ticket statuses: open, closed")."""
        head = name.rpartition("_")[2]
        if head == name or any(e != name and e.rpartition("_")[2] == head for e in self.entities):
            return []
        return _forms(head)

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
        # spans a rule read that added to another requirement (a step back on a status path)
        self.understood: list[tuple[int, int]] = []

    def add(self, kind: RequirementKind, start: int, end: int, key: tuple, **details) -> None:
        if (kind, *key) in self.seen:
            return
        self.seen.add((kind, *key))
        self.items.append(Requirement(id=f"R{len(self.items) + 1}", kind=kind,
                                      span=self.r.span(start, end), **details))

    def not_understood(self, start: int, clause: str, entity: str | None, reason: str) -> None:
        """A requirement the offline builder could not read, reported with why (never dropped)."""
        self.add(RequirementKind.not_understood, start, start + len(clause), ("unread", start),
                 entity=entity, params={"reason": reason},
                 summary=f"not understood: \"{clause[:80]}\"")


def _field_name(phrase: str) -> str:
    phrase = re.sub(r"['\u2019]s\b", "", phrase.lower())  # "a ticket's priority"
    kept = [w for w in re.findall(r"[a-z][a-z0-9]*", phrase) if w not in _STOP]
    kept = kept[-2:]
    if not kept:
        return ""
    last = kept[-1]
    if last not in {"notes", "details", "hours", "minutes", *UNIT_PLURALS} and last.endswith("s") and not \
            last.endswith(("ss", "us", "is")):
        kept[-1] = singular(last)
    return "_".join(kept)


def _value(raw: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", raw.strip().lower()).strip("_")


def _split_list(raw: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+(?:or|and)\s+", raw.strip())
    return [p for p in (_value(x) for x in parts) if p]


# "the available sizes are ...", "the allowed methods are ...": words that say the list is the
# field's choices, not part of the field's name
_QUALIFIER = re.compile(r"\b(?:available|allowed|possible|permitted|valid|accepted|supported)\s+",
                        re.IGNORECASE)
_STATES = frozenset(s for states in vocabulary().raw["status_states"].values() for s in states) | frozenset(
    words("stage_states")) | {"open", "inactive", "live", "new", "draft", "pending", "active", "paused",
                              "closed", "done", "overdue", "expired", "void", "on_hold", "in_progress"}


def _is_state(value: str) -> bool:
    """ "open", "closed", "paid", "on hold": a state a record is in, not a kind of record."""
    return value in _STATES or (value.endswith("ed") and len(value) > 4) or value.startswith((
        "in_", "on_", "awaiting_"))


def _value_lists(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for listed in listed_values(sentence, frozenset(c.r.entities)):
        before = [x for x in near if x.start <= start + listed.start][::-1] or near
        values = [v for v in (_value(x) for x in listed.values) if v]
        if len(values) < 2:
            continue
        if listed.field.lower() in {"and", "but"}:
            # "a vacancy has a salary, and is either open or closed": the sentence's subject
            if not before:
                continue
            entity, field = before[-1].entity, before[-1].entity
        else:
            entity, field = c.r.owner_and_field(_QUALIFIER.sub("", listed.field), before)
        if not field:
            continue
        if field in c.r.entities and field not in ENUM_FIELD_HINT and not re.search(
                r"['\u2019]s\b|\bof\b", listed.field):
            # "an invoice is marked as draft or paid", "a room is either single or double": the
            # record itself takes the values, in its status (states it passes through) or its type
            entity, field = field, "status" if listed.marked or all(map(_is_state, values)) else "type"
        c.add(RequirementKind.value_list, start + listed.start, start + listed.end,
              (entity, field), entity=entity, field=field, type=FieldType.enum, values=values,
              summary=f"{entity}.{field} is one of {', '.join(values)}")


_QUANT_MANY = (r"(?:many|several|multiple|one or more|any number of|zero or more|various|lots of|"
               r"a number of|more than one|two or more)")
_QUANT_ONE = r"(?:one|exactly one|a single|only one)"
_MODALS = r"(?:(?:can|may|will|must|should|usually|often|typically|also|each|always|only|then)\s+)*"
_PREP = r"(?:to|with|on|in|for|at|into|under|from|against|by|of|about)"
_OPEN_WORDS = (words("prepositions") | words("conjunctions") | words("determiners") | words(
    "auxiliaries") | words("pronouns") | {"and", "or", "but", "per", "than", "not", "no", "be", "been"}) - {
    "has", "have", "had", "do", "does", "own"}  # "their own" is a determiner, "can own" a verb
# "a has many b", "a can be linked to several b", "a writes many b", "a stocks b"
_ACTIVE = re.compile(
    rf"\s*{_MODALS}(?:(?P<be>be|is|are)\s+)?(?P<verb>[a-z]+(?:-[a-z]+)?)(?:\s+(?P<prep>{_PREP}))?\s+"
    rf"(?P<q>{_QUANT_MANY}|{_QUANT_ONE}|its own|their own|their|its|his|her|the|a|an)?\s*", re.IGNORECASE)
# "drivers log fuel purchases": a verb and the object's own modifier
_ACTIVE_MODIFIED = re.compile(rf"\s*{_MODALS}(?P<verb>[a-z]+)\s+(?P<mod>[a-z]+)\s+", re.IGNORECASE)
# "b belongs to an a", "b is led by a", "b is taken from a", "b references a", "b for a"
_PASSIVE = re.compile(
    rf"\s*{_MODALS}(?:belongs? to|(?:is|are)\s+(?:(?:always|only|usually)\s+)?(?:[a-z]+\s+)?{_PREP}|"
    rf"references?|points? to|for|of|from|by)\s+(?:{_QUANT_ONE}|a|an|the|its|their|each)?\s*",
    re.IGNORECASE)
_AND_HAS_MANY = re.compile(
    rf"\s*,?\s*and\s+(?:can |may |will |also |often |usually )*[a-z]+\s+{_QUANT_MANY}\s*",
    re.IGNORECASE)
# "..., and claims are filed against a policy": the record after "and" opens a clause of its own
_NEW_CLAUSE = re.compile(r"\s+(?:is|are|was|were|gets?|can|may|must|will|should|has|have|belongs?)\b",
                         re.IGNORECASE)
_AND = re.compile(rf"\s*,?\s*(?:and|or)\s+(?:{_QUANT_ONE}|a|an|the)?\s*", re.IGNORECASE)


_AND_PREP = re.compile(r"\s*,?\s*(?:and\s+)?(?:about|for|at|in|on|from|with|under|within)\s+"
                       r"(?:a|an|one|the|each)\s*", re.IGNORECASE)
# a clause that opens with a subject that is no record and its verb: "Procurement raises "
_OBJECT_OF_VERB = re.compile(r"^\s*[A-Za-z]+(?:\s+[a-z]+)?\s+(?!(?:and|or|of|for|with|the|a|an|each|"
                             r"every|all|any|some|no|keep|keeps|track|tracks)\s)[a-z]{3,}\s+$")
_PRONOUN_OPENING = re.compile(r"\s*(it|they|he|she|each one|each of them)\b", re.IGNORECASE)


@dataclass
class _Claim:
    parent: str
    child: str
    many: bool  # the text counts the children ("many", "several"): a claim that can pair into M:N
    strength: int  # 2 said outright, 1 read from an active verb
    start: int
    end: int
    verb: str = ""  # the active verb a strength-1 claim was read from


def _claim_from_gap(a: Mention, b: Mention, gap: str, subject: Mention | None,
                    b_plural: bool) -> tuple[str, str, bool, int] | None:
    found = _gap_claim(a, b, gap, subject, b_plural)
    if found is None:
        # "claims are filed against a policy", "a property is managed by an agent": passives
        # ("each unit is rented out to a tenant": a particle may follow the participle)
        m = re.fullmatch(rf"\s*{_MODALS}(?:is|are|gets?|get)\s+(?:(?:always|only|usually)\s+)?"
                         rf"[a-z]+(?:ed|en)\s+(?:(?:out|up|off|back|down|over)\s+)?{_PREP}\s+"
                         rf"(?:{_QUANT_ONE}|a|an|the|its|their)?\s*",
                         gap)
        if m:
            found = (b.entity, a.entity, False, 2)
    return found


def _gap_claim(a: Mention, b: Mention, gap: str, subject: Mention | None,
               b_plural: bool) -> tuple[str, str, bool, int] | None:
    """What the words between two records say: (parent, child, many, strength) or None."""
    if re.search(r"many[- ]to[- ]many", gap) or re.search(r"[.;:!?]", gap):
        return None
    if re.fullmatch(r"\s*'s\s+", gap):
        return a.entity, b.entity, True, 2  # "a publisher's books"
    if WHOLE_OF_PARTS.fullmatch(gap):
        return a.entity, b.entity, True, 2  # "a course is divided into lessons"
    if re.fullmatch(r"\s*(?:with(?: its| their)?|and (?:its|their)) (?:many |several |multiple )?", gap):
        return a.entity, b.entity, True, 1  # "orders with their line items"
    m = _ACTIVE.fullmatch(gap)
    verb = m.group("verb").lower() if m else ""
    if m and verb not in _OPEN_WORDS and not (m.group("be") and not m.group("prep")) \
            and (verb not in {"belong", "belongs", "reference", "references"}
                 or re.fullmatch(_QUANT_MANY, (m.group("q") or "").lower())):
        q = (m.group("q") or "").lower()
        if verb.endswith(("ed", "en")) and m.group("prep") and not re.fullmatch(_QUANT_MANY, q):
            # "is recorded for a plot", "invoices linked to deals": a passive, b owns a
            return b.entity, a.entity, False, 2
        if re.fullmatch(_QUANT_ONE, q):
            return b.entity, a.entity, False, 2  # "every bin holds one product"
        elif re.fullmatch(_QUANT_MANY, q) or q in {"its own", "their own", "their", "its"}:
            return a.entity, b.entity, bool(re.fullmatch(_QUANT_MANY, q)), 2
        elif q in {"", "the"} and not m.group("be") and b_plural and not (
                q and m.group("prep")):
            # "journalists write articles", "a repair job contains the spare parts it uses"
            return a.entity, b.entity, False, 1
        elif q in {"a", "an", "the"} and verb in {"has", "have"}:
            return None
    if _PASSIVE.fullmatch(gap) and not re.search(rf"\b{_QUANT_MANY}\b", gap):
        return b.entity, a.entity, False, 2
    # "each sample is taken from a patient and analysed in a batch": the clause's subject again
    if subject is not None and subject.entity != b.entity and re.fullmatch(
            rf"\s*,?\s*and\s+(?:(?:is|are)\s+)?(?:[a-z]+(?:ed|en|t)\s+{_PREP}|belongs?\s+to)\s+"
            rf"(?:a|an|the|one)?\s*", gap):
        return b.entity, subject.entity, False, 2
    return None


# what "X with Ys" names as parts of a whole rather than a party: "orders with line items"
_PART_HEADS = frozenset({"item", "line", "part", "attachment", "photo", "image", "document",
                         "file", "note", "comment", "entry", "step", "component", "detail",
                         "option", "extra", "answer", "question"})
# agent nouns: "doctor", "stylist", "supplier", "consultant", "trainee"
_AGENT_NOUN = re.compile(r"[a-z]{3,}(?:er|or|ist|ian|ant|ent|ee|eer)$")


def _is_party(name: str) -> bool:
    """A record that is a party one does business with: a person or an organisation."""
    head = name.split("_")[-1]
    return head in PARTY_HEADS or head in _PEOPLE or head in words("person_entities") or bool(
        _AGENT_NOUN.fullmatch(head))


def _object_claim(claims: dict[frozenset, list[_Claim]], previous: _Claim | None, a: Mention,
                  b: Mention, gap: str, lead: str | bool) -> tuple[str, str, bool, int] | None:
    """What a preposition after a verb's object says: the object belongs to the party after it
    ("book appointments with doctors"), or the record after "through" is the tie itself
    ("borrow books through loans"). `lead` is the words before `a` when `a` opens the clause."""
    if re.search(r"\bwith\s+(?:its|their)\b", gap) or re.match(r"\s*with\b", gap) and (
            b.entity.split("_")[-1] in _PART_HEADS and not _is_party(b.entity)):
        return None  # "orders with (their) line items": a whole and its parts, not a party
    if previous is not None and previous.verb and previous.child == a.entity and \
            previous.parent != b.entity:
        if THROUGH.fullmatch(gap):
            # "members borrow books through loans": the loan is the member's and the book's
            said = claims[frozenset((previous.parent, a.entity))]
            said.remove(previous)
            if not said:
                del claims[frozenset((previous.parent, a.entity))]
            claims.setdefault(frozenset((previous.parent, b.entity)), []).append(_Claim(
                previous.parent, b.entity, False, 2, previous.start, b.end))
            return a.entity, b.entity, False, 2
        if SECOND_PARTY.fullmatch(gap):
            return b.entity, a.entity, False, 2  # "book appointments with doctors"
    if previous is None and lead and SECOND_PARTY.fullmatch(gap) and _OBJECT_OF_VERB.search(lead):
        # "Procurement raises purchase orders against suppliers": a subject that is no record
        # (a department, a role) makes the object with or for the party after it
        return b.entity, a.entity, False, 2
    return None


def relation_claims(reader: Reader) -> dict[frozenset, list[_Claim]]:
    """What each sentence says about the pairs of records it names, pair by pair."""
    claims: dict[frozenset, list[_Claim]] = {}
    text = reader.text

    def plural(m: Mention) -> bool:
        said = text[m.start:m.end].lower()
        return said != singular(said) or said.endswith("s") or m.filed_object

    before: list[Mention] = []
    for start, sentence in reader.sentences():
        near = reader.in_range(start, start + len(sentence))
        # "Keep every vehicle. It belongs to a driver.": the pronoun is the last sentence's record
        said_before, before = before, near or before
        if near and said_before and (m := _PRONOUN_OPENING.match(sentence)):
            near = [Mention(said_before[0].entity, start + m.start(1), start + m.end(1)), *near]
        subject = near[0] if near else None
        previous: _Claim | None = None
        for a, b in itertools.pairwise(near):
            if a.entity == b.entity:
                continue
            # "appointments (date, time, status) belong to a patient": the list aside is no link
            gap = re.sub(r"\s*\([^()]*\)", "", text[a.end:b.start].lower())
            found = _object_claim(claims, previous, a, b, gap, a is subject and text[start:a.start])
            if found is None:
                found = _claim_from_gap(a, b, gap, subject if subject is not a else None, plural(b))
            modified = _ACTIVE_MODIFIED.fullmatch(gap)
            if found is None and modified and plural(a) and plural(b) and not {
                    modified.group("verb"), modified.group("mod")} & _OPEN_WORDS:
                # "drivers log fuel purchases": the object's own modifier stands in the gap
                found = (a.entity, b.entity, False, 1)
            if found is None:
                found = extra_gap_claim(a.entity, b.entity, gap, text[start:a.start].lower(),
                                        text[b.end:start + len(sentence)].lower())
            if found is None and subject is not None and subject is not a and \
                    subject.entity != b.entity and _AND_HAS_MANY.fullmatch(gap):
                # "each book has one publisher and may have several authors": the subject's again
                found = (subject.entity, b.entity, True, 2)
            if found is None and previous is not None and _AND.fullmatch(gap) and not \
                    _NEW_CLAUSE.match(text, b.end):
                # "a reservation is for one room and one guest": the same claim, for b too
                if previous.child != b.entity and previous.parent == a.entity:
                    found = (b.entity, previous.child, previous.many, previous.strength)
                elif previous.parent != b.entity and previous.child == a.entity:
                    found = (previous.parent, b.entity, previous.many, previous.strength)
            if found is None and previous is not None and subject is not None and \
                    previous.child == subject.entity and subject.entity not in (a.entity, b.entity) \
                    and _AND_PREP.fullmatch(gap):
                # "a complaint is raised by a tenant about a flat": the subject's again
                found = (b.entity, subject.entity, False, 2)
            if found is None:
                previous = None
                continue
            if subject is not None and subject is not a and re.match(
                    r"\s*,?\s*and\s+(?:can |may |will )?(?:has|have|holds?|contains?|carr(?:y|ies))\b", gap):
                # "each book has one publisher and may have several authors": the subject's again
                parent, child = (subject.entity, b.entity) if found[0] == a.entity else (
                    found[0], found[1])
                if parent == a.entity or child == a.entity:
                    parent, child = (b.entity, subject.entity) if found[1] == a.entity else (
                        subject.entity, b.entity)
                found = (parent, child, found[2], found[3])
            parent, child, many, strength = found
            if parent == child:
                continue
            m = _ACTIVE.fullmatch(gap) or modified
            claim = _Claim(parent, child, many, strength, a.start, b.end,
                           verb=m.group("verb").lower() if m and strength == 1 else "")
            claims.setdefault(frozenset((parent, child)), []).append(claim)
            previous = claim
    return claims


def _relations(c: Collector) -> None:
    """Relations between the records a sentence names, settled over the whole text: a pair said
    to have many of each other both ways is many-to-many; otherwise the side that is said to
    have many (or that the other belongs to) owns the key."""
    claims = relation_claims(c.r)
    low = c.r.text.lower()
    for pair, said in claims.items():
        if len(pair) != 2:
            continue
        first = said[0]
        both_ways = {(x.parent, x.child) for x in said if x.many or x.strength == 1}
        a_, b_ = tuple(pair)
        # "a member can join several clubs": what many join is shared by them, many-to-many
        if ((a_, b_) in both_ways and (b_, a_) in both_ways) or (
                re.search(r"many[- ]to[- ]many", low) and any(x.many for x in said)) or any(
                x.many and JOINS_SHARED.search(c.r.text[x.start:x.end]) for x in said):
            owner = first.parent
            other = first.child
            c.add(RequirementKind.relation, first.start, max(x.end for x in said),
                  tuple(sorted(pair)), cardinality=RelationKind.many_to_many, owner=owner,
                  other=other, summary=f"{owner} and {other}: many-to-many")
            continue
        best = max(said, key=lambda x: (x.strength, -x.start))
        c.add(RequirementKind.relation, best.start, best.end, tuple(sorted(pair)),
              cardinality=RelationKind.one_to_many, owner=best.parent, other=best.child,
              summary=f"one {best.parent} has many {best.child}")


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


def _said_ancestors(name: str, c: Collector) -> set[str]:
    """The records above `name` by the relations the text itself states."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        child = todo.pop()
        for r in c.items:
            if r.kind == RequirementKind.relation and r.other == child and r.owner not in seen \
                    and r.cardinality != RelationKind.many_to_many:
                seen.add(r.owner)
                todo.append(r.owner)
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
        said_parents = {r.owner for r in c.items if r.kind == RequirementKind.relation
                        and r.other == record and r.cardinality != RelationKind.many_to_many}
        if party in {a for p in _parents(record, c.r.spec) | said_parents if p != party
                     for a in _ancestors(p, c.r.spec) | _said_ancestors(p, c)}:
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
                # the words of a name may be written with hyphens: check_in_date, "check-in date"
                hit = next((x for form in _field_forms(f.name) for x in [re.search(
                    rf"(?<![\w-]){'[ -]'.join(map(re.escape, form.split()))}(?![\w-])", t,
                    re.IGNORECASE)] if x), None)
                # a hit inside a record's mention is the record; "visit date" names a field
                if hit and not any(m.start <= s + hit.start() and s + hit.end() <= m.end
                                   for m in c.r.mentions):
                    c.add(RequirementKind.field, s + hit.start(), s + hit.end(), (entity, f.name),
                          entity=entity, field=f.name, type=f.type,
                          summary=f"{entity}.{f.name} ({f.type.value})")
                    break


def extract_requirements(spec: ScaffoldSpec) -> list[Requirement]:
    """The explicit requirements of `spec.text`, over the entities `spec` holds."""
    reader = Reader(spec.text, spec)
    c = Collector(reader)
    _entities_and_fields(c)
    _relations(c)
    self_relations(c)
    field_reference_relations(c)
    _implied_party_relations(c)
    from mb_core.requirements.clauses import CLAUSE_RULES
    from mb_core.requirements.unread import unread_requirements

    for start, sentence in reader.sentences():
        for rule in (_value_lists, *CLAUSE_RULES):
            rule(c, start, sentence)
    c.understood += _yes_no_spans(reader)
    unread_requirements(c)
    return c.items


def _yes_no_spans(reader: Reader) -> list[tuple[int, int]]:
    """The yes/no clauses the reader made a boolean field of ("a flag for VIP clients"): read,
    though no requirement but the field's own spans them."""
    from mb_core.spec.flags import yes_no_clauses

    kept = {f for fields in reader.fields.values() for f in fields}
    return [(x.start, x.end) for x in yes_no_clauses(reader.read_text)
            if {x.field_name(), x.field_name(frozenset(x.words[-1:]))} & kept]
