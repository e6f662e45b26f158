"""The working state of one read: candidates, orphan fields, and the phrases judged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from dataclasses import dataclass, field, replace
from functools import cached_property

from mb_core.models import (
    Action,
    EntitySpec,
    FieldSpec,
    NounDecision,
)
from mb_core.spec.naming import singular
from mb_core.spec.noun_rules import counted_drop_reason, entity_name, is_person
from mb_core.spec.phrases import NounPhrase
from mb_core.spec.vocabulary import words

MAX_ENTITIES = 12


MAX_FIELDS = 60  # fields the text may give one entity; more are dropped, each with its decision


PROVIDER_HINT = "an LLM provider (--provider openai) may read specs the offline rules cannot"


_DETAIL_WORDS = {"detail", "details", "information", "info", "field", "attribute", "property",
                 "data", "properties", "attributes", "fields"}


_CONTAINER_VERBS = {"feature", "include", "support", "combine", "offer", "provide", "contain",
                    "have", "show", "display", "list"}


_TIME_SPANS = {"week", "day", "month", "year", "time", "hour", "minute", "moment", "night",
               "morning", "evening", "weekend", "today", "tomorrow"}


_FILLER = {"hello", "hi", "hey", "thanks", "thank", "please", "test", "foo", "bar", "baz",
           "lorem", "ipsum", "something", "stuff", "thing", "good", "nice", "cool", "awesome",
           "great", "asdf", "qwerty", "xyz", "todo"}


_LINK_WORDS = {"linked", "tied", "attached", "related", "connected", "belonging", "belongs",
               "belong", "assigned", "mapped", "associated"}


_SHARED_LABELS = {"tag", "label", "keyword"}


_HAVE = {"include", "have", "contain", "feature"}


# "a book stores its ISBN, title and author", "each purchase records the date": said of one record
# (a singular subject with its determiner), these verbs list that record's fields
_STORE = {"store", "record", "keep"}
_ONE_RECORD = {"a", "an", "each", "every", "the"}


_NEGATIONS = {"avoid", "without", "no", "not", "never", "don't", "instead"}


_LOG_VERBS = {"log", "input", "enter", "record", "track", "monitor", "measure"}


KIND = "__kind__"  # an orphan that names a kind of its owner ("vans" of company vehicles)


_ORGANIZED = {"organized", "organised", "grouped", "sorted", "categorized", "categorised",
              "arranged", "filed"}


_FIELD_FILLER = (words("adjectives") | words("quantifiers") | words("determiners")) - {
    "social", "emotional", "physical", "mental", "total", "average", "annual", "monthly",
    "weekly", "hourly", "yearly", "daily", "primary", "secondary", "current", "previous",
    "public", "private", "internal", "external", "visual", "digital", "mobile", "dead",
    "short", "long", "high", "low", "open", "free", "full"} | {"daily"}


@dataclass
class Orphan:
    """A field found before its entity is known."""

    position: int
    spec: FieldSpec
    owner: int | None  # phrase position of the owner, when the text says it
    explicit: bool  # part of a field list the text gives ("each with title, author")


@dataclass
class Candidate:
    name: str
    strength: int  # 3 purpose, 2 managed, 1 shown on a page, 0 only mentioned
    position: int
    phrases: list[str] = field(default_factory=list)
    fields: list[FieldSpec] = field(default_factory=list)
    explicit: bool = False  # the text listed its fields
    kinds: list[str] = field(default_factory=list)  # "(servers, switches)": choices of `kind`
    examples: list[str] = field(default_factory=list)
    parent: str | None = None  # "class reservations": class is the parent
    compound: str | None = None  # "repair order": the whole name, when a parent took the modifier


@dataclass
class Reading:
    """Working state of one read."""

    text: str
    english: str = ""  # the text as read: injections blanked, foreign text glossed
    known: dict[str, EntitySpec] = field(default_factory=dict)  # incremental builds
    phrases: list[NounPhrase] = field(default_factory=list)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    by_position: dict[int, str] = field(default_factory=dict)  # phrase position -> entity name
    decisions: dict[int, NounDecision] = field(default_factory=dict)
    extra_decisions: list[NounDecision] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    organizers: list[int] = field(default_factory=list)  # "organized by product categories"
    roles: dict[str, dict[str, set[Action]]] = field(default_factory=dict)
    role_subjects: dict[int, str] = field(default_factory=dict)  # phrase position -> role
    services: list[str] = field(default_factory=list)
    refused_services: list[str] = field(default_factory=list)
    titles: list[NounPhrase] = field(default_factory=list)
    ml_mentioned: bool = False
    negated_lists: set[int] = field(default_factory=set)  # "do not use X, Y or ..."
    linked: set[str] = field(default_factory=set)  # records kept only for a link to another

    def decide(self, np: NounPhrase, decision: str, reason: str) -> None:
        self.decisions.setdefault(np.position, NounDecision(
            phrase=np.text, decision=decision, reason=reason))  # type: ignore[arg-type]

    # Lookups over the phrases, made once (the phrases never change once read): rebuilt for
    # each phrase, they made reading quadratic in the length of the text.
    @cached_property
    def by_sentence(self) -> dict[int, list[NounPhrase]]:
        found: dict[int, list[NounPhrase]] = {}
        for p in self.phrases:
            found.setdefault(p.sentence, []).append(p)
        return found

    @cached_property
    def phrase_heads(self) -> frozenset[str]:
        return frozenset(singular(p.words[-1]) for p in self.phrases)

    @cached_property
    def single_word_names(self) -> Counter[str]:
        return Counter(entity_name([p.words[-1]]) for p in self.phrases if len(p.words) == 1)

    @cached_property
    def includers(self) -> dict[int, list[NounPhrase]]:
        """Per sentence, in order, the phrases whose have-verb may own the list after them."""
        found: dict[int, list[NounPhrase]] = {}
        for p in self.phrases:
            if (set(p.subject_of) & _HAVE or _lists_own_fields(p)) and not counted_drop_reason(
                    p) and singular(p.words[-1]) not in words("generic_people"):
                found.setdefault(p.sentence, []).append(self._subject_head(p))
        return found

    def _subject_head(self, p: NounPhrase) -> NounPhrase:
        """ "Each booking for a room has a start": the subject is the phrase the preposition
        hangs off, not the nearest noun; the verbs are the ones said of it."""
        head, seen = p, set()
        while head.prep and head.prep != "'s" and head.attached_to is not None and \
                head.attached_to not in seen and self.phrases[head.attached_to].sentence == p.sentence:
            seen.add(head.attached_to)
            head = self.phrases[head.attached_to]
        if head is p or counted_drop_reason(head):
            return p
        return replace(head, subject_of=list(dict.fromkeys(head.subject_of + p.subject_of)))


def _lists_own_fields(p: NounPhrase) -> bool:
    """ "Each purchase records the date": a store-verb said of one record, not of people ("a
    clerk records loans") nor of many ("libraries keep books")."""
    return bool(p.subject_of) and p.subject_of[0] in _STORE and bool(p.before) and p.before[
        -1] in _ONE_RECORD and singular(p.words[-1]) == p.words[-1] and not is_person(p.words)


class _NamesInUse(Container[str]):
    """`name in it`: a candidate so far, a base entity, or the head of any phrase."""

    def __init__(self, r: Reading):
        self.r = r

    def __contains__(self, name: object) -> bool:
        return name in self.r.candidates or name in self.r.known or name in self.r.phrase_heads
