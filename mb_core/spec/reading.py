"""Freeform specs -> ScaffoldSpec, by rules over noun phrases.

Each noun phrase of the text is judged once and the judgement is recorded as a decision:
an entity (a thing the application manages), a field (a property of one), or dropped with the
reason. Entities come from what the text's verbs manage ("track spare parts"), from what the
application is for ("a book library", "a recipe box system") and from what a page shows
("sections for services"); fields from explicit lists ("each with title, author, genre"),
from "the X of Y" and from field words ("expiry", "skill level"). People who act ("members can
book") become roles. Relations, features and roles are read from the same phrases.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

from mb_core.errors import SpecRefused
from mb_core.models import (
    Action,
    EntitySpec,
    FeatureKind,
    FeatureSpec,
    FieldSpec,
    FieldType,
    NounDecision,
    RelationKind,
    RelationSpec,
    RoleSpec,
    ScaffoldSpec,
    SpecMode,
)
from mb_core.spec.fields import field_name, human_field_for, infer_field
from mb_core.spec.injection import (
    INJECTION_REASON,
    find_injections,
    prose_without_injections,
    without_injections,
)
from mb_core.spec.languages import translate_if_foreign
from mb_core.spec.naming import app_name_from, label, plural, safe_entity_name, singular, snake
from mb_core.spec.phrases import NounPhrase, noun_phrases, tokenize, verb_lemma
from mb_core.spec.services import find_services
from mb_core.spec.vocabulary import dropped_reasons, synonym_table, table, vocabulary, words

MAX_ENTITIES = 12
MAX_FIELDS = 60  # fields the text may give one entity; more are dropped, each with its decision
PROVIDER_HINT = "an LLM provider (--provider openai) may read specs the offline rules cannot"

_DETAIL_WORDS = {"detail", "details", "information", "info", "field", "attribute", "property",
                 "data", "properties", "attributes", "fields"}
_CONTAINER_VERBS = {"feature", "include", "support", "combine", "offer", "provide", "contain",
                    "have", "show", "display", "list"}
_TIME_SPANS = {"week", "day", "month", "year", "time", "hour", "minute", "moment", "night",
               "morning", "evening", "weekend", "today", "tomorrow"}
_FIELD_CANON = {"completion": "is_completed", "expiry": "expiry_date", "expiration":
                "expiry_date", "deadline": "due_date", "due": "due_date", "availability":
                "is_available", "birthday": "birthday", "start": "starts_at", "end": "ends_at"}
_KEEP_PLURAL = {"ingredients", "instructions", "notes", "details", "meanings", "readings",
                "tags", "comments", "steps", "hours", "minutes", "symptoms", "remarks", "skills",
                "requirements", "categories", "keywords", "genres", "allergies", "amenities"}
_FILLER = {"hello", "hi", "hey", "thanks", "thank", "please", "test", "foo", "bar", "baz",
           "lorem", "ipsum", "something", "stuff", "thing", "good", "nice", "cool", "awesome",
           "great", "asdf", "qwerty", "xyz", "todo"}
_LINK_WORDS = {"linked", "tied", "attached", "related", "connected", "belonging", "belongs",
               "belong", "assigned", "mapped", "associated"}
_SHARED_LABELS = {"tag", "label", "keyword"}
_HAVE = {"include", "have", "contain", "feature"}
_NEGATIONS = {"avoid", "without", "no", "not", "never", "don't", "instead"}
_RECORD_PLURALS = {"applications"}
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
            if set(p.subject_of) & _HAVE and not drop_reason(p.words) and singular(
                    p.words[-1]) not in words("generic_people"):
                found.setdefault(p.sentence, []).append(p)
        return found


class _NamesInUse(Container[str]):
    """`name in it`: a candidate so far, a base entity, or the head of any phrase."""

    def __init__(self, r: Reading):
        self.r = r

    def __contains__(self, name: object) -> bool:
        return name in self.r.candidates or name in self.r.known or name in self.r.phrase_heads


# ---------------------------------------------------------------------------------------------
# Small pure pieces
# ---------------------------------------------------------------------------------------------


def entity_name(name_words: list[str], known: Container[str] | None = None) -> str:
    """Singular snake_case name from a phrase's words (at most three), synonyms folded onto a
    known main word, and reserved names renamed."""
    parts = [w for w in name_words if w not in words("determiners")]
    parts = [snake(w) for w in parts if snake(w)][-3:]
    if not parts:
        return ""
    parts[-1] = singular(parts[-1])
    name = "_".join(parts)
    synonyms = synonym_table()
    spaced = name.replace("_", " ")
    main = synonyms.get(spaced) or synonyms.get(parts[-1])
    if main and known is not None and (main in known or safe_entity_name(main) in known):
        name = main
    return safe_entity_name(name)


def drop_reason(phrase_words: list[str]) -> str | None:
    """Why a phrase is never an entity, from the whole phrase or its head."""
    dropped = dropped_reasons()
    text = " ".join(phrase_words)
    if text in dropped:
        return dropped[text]
    head = singular(phrase_words[-1])
    for candidate in (head, phrase_words[-1]):
        if candidate in dropped and (len(phrase_words) == 1 or candidate not in words(
                "purpose_heads") and candidate not in _stripable_heads()):
            return dropped[candidate]
    return None


def _stripable_heads() -> frozenset[str]:
    """Heads removed to find the real subject: "contact form", "book library", "weight tracker"."""
    groups = table("dropped_nouns")
    return frozenset(
        w for key in ("presentation", "app", "technical", "feature") for w in groups[key]["words"]
    ) | words("purpose_heads") | words("collection_words")


def strip_heads(phrase_words: list[str]) -> tuple[list[str], bool]:
    """Remove trailing app/presentation/collection words: ("book", "library") -> ("book",).
    The flag says whether an app-purpose word was among them (a strong sign)."""
    rest = list(phrase_words)
    purpose = False
    while len(rest) > 1 and singular(rest[-1]) in _stripable_heads():
        if rest[-1] in _RECORD_PLURALS:
            break  # "adoption applications": many of them, so records, not the app itself
        head = singular(rest.pop())
        groups = table("dropped_nouns")
        if head in words("purpose_heads") or head in groups["app"]["words"] or head in words(
                "collection_words"):
            purpose = True
    while rest and rest[-1] in {"management", "tracking", "tracker", "manager"}:
        rest.pop()
        purpose = True
    return rest, purpose


def is_field_head(phrase_words: list[str]) -> bool:
    text = " ".join(phrase_words)
    return text in words("field_heads") or singular(phrase_words[-1]) in words("field_heads") \
        or phrase_words[-1] in words("field_heads")


def is_person(phrase_words: list[str]) -> bool:
    text = " ".join(singular(w) for w in phrase_words)
    head = singular(phrase_words[-1])
    return text in words("person_nouns") or head in words("person_nouns")


def field_from_words(phrase_words: list[str], entity: str, description: str = "") -> FieldSpec:
    """An explicit field item as written -> a typed field: `reading status` -> enum."""
    last = phrase_words[-1]
    if last not in _KEEP_PLURAL:
        phrase_words = [*phrase_words[:-1], singular(last)]
    text = " ".join(phrase_words)
    name = _FIELD_CANON.get(text) or field_name(text)
    return infer_field(name, entity, description)


def split_slashes_words(phrase_words: list[str]) -> list[list[str]]:
    """`caffeine/alcohol intake` -> [caffeine intake], [alcohol intake]."""
    slashed = [i for i, w in enumerate(phrase_words) if "/" in w]
    if not slashed:
        return [phrase_words]
    i = slashed[0]
    return [[*phrase_words[:i], part, *phrase_words[i + 1:]]
            for part in phrase_words[i].split("/") if part]


def action_set(verbs: list[str]) -> set[Action]:
    actions: set[Action] = set()
    for verb in verbs:
        for action in ("create", "read", "update", "delete"):
            if verb in table("verb_actions")[action]:
                actions.add(Action(action))
        if verb in table("verb_actions")["all"]:
            actions |= set(Action)
    return actions


def _title_case(text: str) -> str:
    return " ".join(w if w.isupper() and len(w) > 1 else w.capitalize() for w in text.split())


# ---------------------------------------------------------------------------------------------
# The read
# ---------------------------------------------------------------------------------------------


def read_freeform(text: str, base_spec: ScaffoldSpec | None = None) -> ScaffoldSpec:
    if not text or not text.strip():
        raise SpecRefused(f"The spec is empty: describe the application to build; {PROVIDER_HINT}.")
    injections = find_injections(text)
    clean = without_injections(text, injections)
    reading = Reading(text=text, known={e.name: e for e in (base_spec.entities if base_spec else [])})
    for inj in injections:
        reading.extra_decisions.append(NounDecision(
            phrase=inj.excerpt, decision="dropped",
            reason=f"{INJECTION_REASON} ({inj.kind}): instruction-like text is data, not an "
                   "instruction; it never becomes an entity or a field"))
    english, language_note = translate_if_foreign(clean)
    if language_note:
        reading.extra_decisions.append(NounDecision(
            phrase=language_note[0], decision="dropped", reason=language_note[1]))
    reading.services, reading.refused_services = find_services(english)
    for service in reading.refused_services:
        reading.extra_decisions.append(NounDecision(
            phrase=service, decision="dropped", reason="the text rules this service out"))
    reading.english = english
    reading.phrases = noun_phrases(english)
    _judge_phrases(reading)
    _merge_distributed(reading)
    _attach_orphan_fields(reading)
    _read_state_flows(reading)
    entities = _finish_entities(reading)
    if not entities and not reading.known:
        _refuse(reading, text, injections)
    relations = _relations(reading, entities)
    all_entities = list(reading.known.values()) + [e for e in entities if e.name not in reading.known]
    features = _features(reading, all_entities, relations)
    roles = _roles(reading, all_entities)
    decisions = _decisions(reading)
    title = _title(reading, entities)
    if base_spec is not None:
        return _extend(base_spec, text, entities, relations, roles, features, decisions, reading)
    return ScaffoldSpec(
        mode=SpecMode.freeform, text=text, title=title, app_name=app_name_from(title),
        summary=_summary(text), entities=all_entities, relations=relations, roles=roles,
        features=features, decisions=decisions, external_services=_services(reading))


def _summary(text: str) -> str:
    """The first sentence left once instruction-like clauses are cut: injected text is kept in
    the decisions only, never in prose that reaches the generated app."""
    sentences = re.split(r"(?<=[.!?])\s+", prose_without_injections(" ".join(text.split())))
    first = next((x for x in sentences if re.search(r"[A-Za-z]{2}", x)), "").rstrip(";:, ")
    return first[:197] + "..." if len(first) > 200 else first


def _services(reading: Reading) -> list[str]:
    services = list(reading.services)
    if reading.ml_mentioned:
        services.append("AI service (not generated)")
    return services


def _refuse(reading: Reading, text: str, injections: list) -> None:
    snippet = " ".join(text.split())
    snippet = snippet[:60] + "..." if len(snippet) > 60 else snippet
    if injections and not reading.phrases:
        raise SpecRefused(
            "The spec holds only instructions to the builder (kept as data, never followed) and "
            f"no application to build; describe the records the app keeps; {PROVIDER_HINT}.")
    raise SpecRefused(
        f"Nothing buildable found in '{snippet}': name the records the app keeps (e.g. 'contacts "
        f"with name, email and phone'); {PROVIDER_HINT}.")


# ---------------------------------------------------------------------------------------------
# Judging each phrase
# ---------------------------------------------------------------------------------------------


def _judge_phrases(r: Reading) -> None:
    for np in r.phrases:
        if np.position not in r.decisions:
            _judge(r, np)


def _add_candidate(r: Reading, np: NounPhrase, name_words: list[str], strength: int,
                   reason: str) -> Candidate | None:
    known = _NamesInUse(r)
    name = entity_name(name_words, known)
    if not name:
        return None
    # a modifier that is itself an entity elsewhere is a parent: "class reservations"
    parent = None
    if len(name_words) > 1:
        modifier = entity_name(name_words[:1], known)
        itself = len(np.words) == 1 and entity_name([np.words[-1]]) == modifier
        mentioned = r.single_word_names[modifier] > itself  # by a phrase other than this one
        if (mentioned or modifier in r.known) and not is_field_head(name_words[:1]):
            parent = modifier
            name = entity_name(name_words[1:], known)
    title_words = {w for t in r.titles if t is not np for w in t.words}
    if len(name_words) > 1 and strength < 3 and title_words and all(
            w in title_words for w in name_words[:-1]) and not is_field_head(name_words[-1:]) \
            and (not drop_reason(name_words[-1:]) or name_words[-1] in _RECORD_PLURALS):
        # "a pet adoption app with adoption applications": the app's subject goes without saying
        name = entity_name(name_words[-1:], known)
    if strength == 0 and np.prep == "with" and (name in table("entity_templates") or name in r.known):
        strength = 1  # a common record noun ("a simple check-in") is worth keeping
    cand = r.candidates.get(name)
    if cand is None:
        cand = Candidate(name=name, strength=strength, position=np.position, parent=parent)
        r.candidates[name] = cand
    else:
        cand.strength = max(cand.strength, strength)
        cand.parent = cand.parent or parent
    cand.phrases.append(np.text)
    r.by_position[np.position] = name
    r.decide(np, "entity", reason)
    return cand


def _owner_of(r: Reading, np: NounPhrase) -> NounPhrase | None:
    """The phrase a with/like/by list hangs off, through "details like ..."."""
    seen = set()
    pos = np.attached_to
    while pos is not None and pos not in seen:
        seen.add(pos)
        owner = r.phrases[pos]
        if singular(owner.words[-1]) in _DETAIL_WORDS and owner.attached_to is not None:
            pos = owner.attached_to
            continue
        return owner
    return None


def _includer(r: Reading, np: NounPhrase) -> NounPhrase | None:
    """ "Each kit includes parts, manuals": the phrase whose fields these are."""
    if np.prep:
        return None
    for p in reversed(r.includers.get(np.sentence, [])):
        if p.position < np.position and set(np.verbs) & set(p.subject_of):
            return p
    return None


def _field_words(np: NounPhrase, words_: list[str] | None = None) -> list[str]:
    """Words of a field name: meaningful adjectives stay ("social time"), fillers go."""
    kept = [w for w in (words_ or np.all_words) if w not in _FIELD_FILLER]
    return kept or np.words


def _synonym_target(r: Reading, np: NounPhrase) -> str | None:
    main = synonym_table().get(" ".join(np.words)) or synonym_table().get(singular(np.words[-1]))
    if main and (main in r.candidates or main in r.known):
        return main
    return None


def _judge(r: Reading, np: NounPhrase) -> None:
    w = np.words
    low_text = " ".join(w)
    dropped = dropped_reasons()
    reason = drop_reason(w)
    if reason and "ML" in reason:
        if set(np.before) & _NEGATIONS:
            r.negated_lists.add(np.list_id)
        if np.list_id not in r.negated_lists:
            r.ml_mentioned = True
        r.decide(np, "dropped", f"'{low_text}': {reason}")
        return
    services = [sv.lower() for sv in r.services + r.refused_services]
    if w[-1] == "api" or any(low_text and sv.startswith(low_text) for sv in services):
        r.decide(np, "dropped", "external service: called by the app, not stored")
        return
    if np.prep == "'s" and np.attached_to is not None and r.phrases[np.attached_to].words[-1] == "api":
        r.decide(np, "dropped", "provided by the external service, not stored")
        return
    if w[-1] in _FILLER and len(w) == 1:
        r.decide(np, "dropped", "greeting or filler word")
        return
    if low_text in dropped or " ".join(np.all_words) in dropped:
        r.decide(np, "dropped", f"'{low_text}': {dropped.get(low_text) or dropped[' '.join(np.all_words)]}")
        return

    # "(servers, switches)": kinds or fields of the phrase before the parentheses
    if np.in_parens_of is not None:
        owner = r.phrases[np.in_parens_of]
        siblings = [p for p in r.phrases if p.in_parens_of == np.in_parens_of]
        if all(is_field_head(p.name_words) for p in siblings):
            _explicit_field(r, np, owner, "listed in parentheses after")
        elif len(w) == 1 and np.original_words[0].isupper() and len(siblings) == 1:
            r.decide(np, "dropped", f"abbreviation of '{owner.text}'")
        else:
            r.decide(np, "field", f"a kind of '{owner.text}': becomes a choice of its kind")
            r.orphans.append(Orphan(np.position, FieldSpec(name=KIND, description=np.head),
                                    owner.position, explicit=False))
        return

    target = _synonym_target(r, np)
    if target is not None:
        _add_candidate(r, np, [target], 2, f"another word for '{target}'")
        return

    includer = _includer(r, np)
    if includer is not None:
        _explicit_field(r, np, includer, "listed as part of")
        return
    owner = _owner_of(r, np)
    if owner is not None and r.decisions.get(owner.position) and "ML" in r.decisions[
            owner.position].reason:
        r.decide(np, "dropped", f"part of '{owner.text}', which the builder does not generate")
        return
    name = entity_name(w)
    strong = name in r.known or name in r.candidates and r.candidates[name].strength >= 1
    owner_name = r.by_position.get(owner.position) if owner is not None else None
    if np.prep in {"with", "like", "including"} and owner_name is not None and (
            owner_name in r.known or r.candidates[owner_name].strength >= 1) \
            and name not in table("entity_templates") \
            and not strong and not reason and not is_person(w) and strip_heads(w)[0] == w \
            and not (_follows_app(r, np) and w[-1] not in _KEEP_PLURAL):
        # "a real estate app with properties, agents and viewings": what an app is built with
        # are its records, not fields of the app's subject
        _explicit_field(r, np, owner, "listed with")
        return
    again = entity_name(w)
    if again in r.known or again in r.candidates and not is_field_head(np.name_words):
        strength = 2 if _managed(np) or again in r.known else 0
        _add_candidate(r, np, w, strength, f"names '{again}' " + (
            "of the base spec" if again in r.known else "again"))
        return


    # people: roles when they act, entities when managed or kept as records
    if is_person(w) and not _managed(np):
        if singular(w[-1]) in {"user", "person", "people"} or low_text in words("generic_people"):
            r.decide(np, "dropped", dropped["user"])
            return
        acting = bool(set(np.subject_of) - _HAVE) or (np.prep == "for" and _follows_app(r, np))
        if acting or "admin" in w or "administrator" in w:
            role = _role_name(r, w)
            r.roles.setdefault(role, {})
            r.role_subjects[np.position] = role
            r.decide(np, "dropped", f"people who use the app: role '{role}'")
            return

    if singular(w[-1]) in words("collection_words") and len(w) == 1:
        r.decide(np, "dropped", f"'{low_text}': a collection word, not a record")
        return

    if len(w) > 1 and singular(w[-1]) in {"field", "column", "attribute", "property"}:
        following = _following(r, np, {"to", "on", "of", "for"})
        spec = field_from_words(_field_words(np)[:-1], "")
        r.orphans.append(Orphan(np.position, spec, following.position if following else None,
                                explicit=True))
        r.decide(np, "field", "named as a field" + (f" of '{following.text}'" if following else ""))
        return

    rest, purpose = strip_heads(w)
    if rest != w and rest:
        if purpose:
            r.titles.append(np)
        _judge_remainder(r, np, rest, purpose, reason or "names what the app is for")
        return
    if reason:
        if singular(w[-1]) in words("purpose_heads") or singular(w[-1]) in table(
                "dropped_nouns")["app"]["words"]:
            r.titles.append(np)
        r.decide(np, "dropped", f"'{low_text}': {reason}")
        return
    if is_field_head(np.name_words):
        _field_phrase(r, np)
        return
    _entity_phrase(r, np)


def _following(r: Reading, np: NounPhrase, preps: set[str]) -> NounPhrase | None:
    """The phrase right after this one, when it hangs off it by one of these prepositions."""
    nxt = r.phrases[np.position + 1] if np.position + 1 < len(r.phrases) else None
    if nxt is not None and nxt.prep in preps and nxt.attached_to == np.position:
        return nxt
    return None


def _role_name(r: Reading, phrase_words: list[str]) -> str:
    """ "tennis players" then "other players": one role."""
    role = entity_name(phrase_words[-2:])
    for existing in r.roles:
        if existing.endswith(f"_{role}") or role.endswith(f"_{existing}"):
            return existing
    return role


def _managed(np: NounPhrase) -> bool:
    return not np.prep and any(v in words("managing_verbs") for v in np.verbs) and not np.subject_of


def _follows_app(r: Reading, np: NounPhrase) -> bool:
    """Hangs off the phrase naming the app ("an app with ..."), also through the one the app is
    for ("an adoption app for an animal shelter with animals")."""
    if np.attached_to is None:
        return False
    owner = r.phrases[np.attached_to]
    head = singular(owner.words[-1])
    if head in words("purpose_heads") or head in table("dropped_nouns")["app"]["words"]:
        return True
    return np.prep == "with" and owner.prep == "for" and owner.attached_to is not None \
        and not is_person(owner.words) and _follows_app(r, owner)


def _judge_remainder(r: Reading, np: NounPhrase, rest: list[str], purpose: bool,
                     reason: str) -> None:
    """What is left of "book library", "contact form", "expiry notifications"."""
    why = drop_reason(rest)
    if why or rest[-1] in _FILLER or singular(rest[-1]) in words("collection_words"):
        r.decide(np, "dropped", f"'{' '.join(rest)}': {why or 'names the app, not a record'}")
        return
    if is_person(rest) and singular(rest[-1]) not in words("person_entities"):
        role = _role_name(r, rest)
        r.roles.setdefault(role, {})
        r.decide(np, "dropped", f"people who use the app: role '{role}'")
        return
    if is_field_head(rest):
        if purpose:
            # "weight tracker": one row per weight logged
            cand = _add_candidate(r, np, [*rest, "entry"], 3, "what the app tracks: one row per entry")
            if cand is not None:
                cand.fields.append(field_from_words(rest, cand.name))
            return
        r.orphans.append(Orphan(np.position, field_from_words(rest, ""), None, explicit=False))
        r.decide(np, "field", f"'{' '.join(rest)}' is a property of a record")
        return
    if purpose:
        strength = 3
    elif _managed(np):
        strength = 2
    elif set(np.verbs) & _CONTAINER_VERBS and not np.prep or np.prep in {"for", "with", "of"}:
        strength = 1
    else:
        strength = 0
    stripped = singular(np.words[len(rest)])
    groups = table("dropped_nouns")
    if not purpose and strength <= 1 and stripped not in groups["presentation"]["words"]:
        strength = -1  # "audio alerts": what is left of a technical word is no record
    _add_candidate(r, np, rest, strength,
                   "names what the app is for" if purpose else f"shown by the app ({reason})")


def _explicit_field(r: Reading, np: NounPhrase, owner: NounPhrase, how: str,
                    explicit: bool = True) -> None:
    for parts in split_slashes_words(_field_words(np)):
        r.orphans.append(Orphan(np.position, field_from_words(parts, ""), owner.position, explicit))
    r.decide(np, "field", f"{how} '{owner.text}'" + (" (field list honoured as written)"
                                                      if explicit else ""))


def _field_phrase(r: Reading, np: NounPhrase) -> None:
    head = singular(np.words[-1])
    owner = _owner_of(r, np)
    if np.prep in {"with", "like", "including"} and owner is not None:
        _explicit_field(r, np, owner, "listed with")
        return
    if np.prep == "by" and owner is not None:
        _explicit_field(r, np, owner, "filtered or grouped by on", explicit=False)
        return
    target = _following(r, np, {"to", "on"})
    if target is not None and np.verbs and set(np.verbs) & {"add", "include", "track", "record"}:
        # "add a priority to deals"
        r.orphans.append(Orphan(np.position, field_from_words(_field_words(np), ""),
                                target.position, explicit=True))
        r.decide(np, "field", f"added to '{target.text}'")
        return
    following = _following(r, np, {"of"})
    if following is not None:
        if is_field_head(following.name_words) or drop_reason(following.words):
            # "hours of sleep": one field
            spec = field_from_words(_field_words(np) + ["of"] + _field_words(following), "")
            r.orphans.append(Orphan(np.position, spec, None, explicit=False))
            r.decide(np, "field", f"'{np.text} of {following.text}' is one field")
            r.decide(following, "field", f"'{np.text} of {following.text}' is one field")
            return
        # "the colour of their cars": a field of what follows
        r.orphans.append(Orphan(np.position, field_from_words(_field_words(np), ""),
                                following.position, explicit=False))
        r.decide(np, "field", f"a property of '{following.text}'")
        return
    if head in _TIME_SPANS and len(_field_words(np)) == 1:
        r.decide(np, "dropped", "a span of time, not a field")
        return
    for parts in split_slashes_words(_field_words(np)):
        r.orphans.append(Orphan(np.position, field_from_words(parts, ""), None, explicit=False))
    r.decide(np, "field", "a property of a record (field word)")


def _entity_phrase(r: Reading, np: NounPhrase) -> None:
    owner = r.phrases[np.attached_to] if np.attached_to is not None else None
    if np.prep == "of" and owner is not None and is_field_head(owner.name_words):
        _add_candidate(r, np, np.words, 2 if any(v in words("managing_verbs") for v in owner.verbs)
                       else 1, f"owns '{owner.text}'")
        return
    if _managed(np):
        _add_candidate(r, np, np.words, 2, f"managed by the app ('{np.verbs[-1]}')")
        return
    if np.prep == "for" and _follows_app(r, np) and singular(np.words[-1]) != np.words[-1]:
        # "a booking system for meeting rooms": the plural things an app is for are its records
        _add_candidate(r, np, np.words, 2, f"what the '{owner.text}' is for")
        return
    if owner is not None and (np.prep == "with" and _follows_app(r, np) or np.prep in {
            "with", "for", "of"} and singular(owner.words[-1]) in table("dropped_nouns")[
                "presentation"]["words"]):
        _add_candidate(r, np, np.words, 2, f"what the '{owner.text}' holds")
        return
    if np.prep in {"into", "to", "onto", "in", "under"} and owner is not None and \
            owner.position in r.by_position and any(v in words("managing_verbs") for v in np.verbs):
        _add_candidate(r, np, np.words, 2, f"'{owner.text}' are put {np.prep} it")
        return
    if np.prep == "by" and set(np.before) & _ORGANIZED:
        _add_candidate(r, np, np.words, 2, "the app's content is organised by it")
        r.organizers.append(np.position)
        return
    if np.prep in {"of", "'s"} and owner is not None and owner.position in r.by_position:
        _add_candidate(r, np, np.words, 1, f"related to '{owner.text}'")
        return
    if np.subject_of and set(np.subject_of) & {"include", "have", "contain"}:
        _add_candidate(r, np, np.words, 2, "described with its own fields")
        return
    if not np.prep and set(np.verbs) & _CONTAINER_VERBS:
        _add_candidate(r, np, np.words, 1, f"a part of the app ('{np.verbs[-1]}')")
        return
    if np.possessive:
        _add_candidate(r, np, np.words, 1, "owns what follows it")
        return
    mates = [p for p in r.phrases if p.list_id == np.list_id]
    if not np.verbs and not np.prep and not np.subject_of and len(mates) >= 2 and all(
            singular(p.words[-1]) != p.words[-1] for p in mates):
        # "...: buildings, units and work orders": a bare list of nouns names the records
        _add_candidate(r, np, np.words, 1, "listed among the records the app keeps")
        return
    has_context = bool(np.verbs or np.prep)
    _add_candidate(r, np, np.words, 0 if has_context else -1,
                   "mentioned without a sign it is managed")


# ---------------------------------------------------------------------------------------------
# Fields, merging, limits
# ---------------------------------------------------------------------------------------------


def _merge_distributed(r: Reading) -> None:
    """ "check-in and check-out movements": one entity whose `kind` is in or out."""
    phrases = r.phrases
    for a, b in pairwise(phrases):
        if b.joiner not in {"and", "or"} or len(a.words) != 1 or len(b.words) < 2 \
                or a.list_id != b.list_id or a.in_parens_of != b.in_parens_of:
            continue
        name_a = r.by_position.get(a.position)
        name_b = r.by_position.get(b.position)
        cand_a = r.candidates.get(name_a) if name_a else None
        cand_b = r.candidates.get(name_b) if name_b else None
        # a plural noun ("units and work orders") is an item of the list, not a shared modifier
        plural_a = singular(a.words[0]) != a.words[0]
        if cand_b is None or name_a in r.known or is_field_head(a.words) or a.words[0] in b.words \
                or plural_a or entity_name(a.words) in table("entity_templates") or (
                cand_a is not None and (cand_a.strength >= 3 or len(cand_a.phrases) > 1)):
            continue
        mod_a, mod_b = a.words[0], b.words[0]
        common = _common_prefix(mod_a, mod_b)
        new_name = entity_name(([common] if common else []) + [b.head])
        cand_b = r.candidates.pop(name_b)
        if name_a:
            r.candidates.pop(name_a, None)
        merged = r.candidates.setdefault(new_name, Candidate(
            name=new_name, strength=cand_b.strength, position=a.position, parent=cand_b.parent))
        merged.phrases += [a.text, b.text]
        merged.kinds += [snake(mod_a), snake(mod_b)]
        # every mention of the merged names now names the merged entity
        for pos, name in list(r.by_position.items()):
            if name in {name_a, name_b}:
                r.by_position[pos] = new_name
        for p in (a, b):
            r.by_position[p.position] = new_name
            r.decisions[p.position] = NounDecision(
                phrase=p.text, decision="entity",
                reason=f"'{a.text} and {b.text}' share one entity '{new_name}' with a kind")


def _common_prefix(a: str, b: str) -> str:
    pa, pb = re.split(r"[-_]", a), re.split(r"[-_]", b)
    common = []
    for x, y in zip(pa, pb):
        if x != y:
            break
        common.append(x)
    return "_".join(common)


def _nearest_entity(r: Reading, position: int) -> str | None:
    """The entity named closest before a phrase in its sentence, else the first one before,
    else the first one after; entities the text manages first, mentioned ones after."""
    for least in (1, -1):
        found = _nearest(r, position, least)
        if found is not None:
            return found
    return None


def _nearest(r: Reading, position: int, least: int) -> str | None:
    sentence = r.phrases[position].sentence

    def kept(p: NounPhrase) -> bool:
        name = r.by_position.get(p.position)
        return name is not None and (name in r.known or r.candidates[name].strength >= least)

    before = [p for p in r.phrases[:position] if kept(p)]
    same = [p for p in before if p.sentence == sentence]
    if same:
        return r.by_position[same[-1].position]
    after = [p for p in r.phrases[position:] if kept(p) and p.sentence == sentence]
    if after:
        return r.by_position[after[0].position]
    if before:
        return r.by_position[before[0].position]
    rest = [p for p in r.phrases[position:] if kept(p)]
    return r.by_position[rest[0].position] if rest else None


def _attach_orphan_fields(r: Reading) -> None:
    log: list[Orphan] = []
    for orphan in r.orphans:
        np = r.phrases[orphan.position]
        owner = r.by_position.get(orphan.owner) if orphan.owner is not None else None
        entry = f"{orphan.spec.name}_entry"
        if entry in r.candidates:
            owner = entry
        if owner is None and orphan.owner is not None:
            owner_np = r.phrases[orphan.owner]
            if set(owner_np.verbs + np.verbs) & _LOG_VERBS:
                log.append(orphan)  # "people enter hours of rest, pain levels, ..."
                continue
        if owner is None:
            logged = set(np.verbs) & _LOG_VERBS and not np.prep and not any(
                p.position in r.by_position and p.sentence == np.sentence
                for p in r.phrases[:orphan.position])
            if logged or any(o.position == orphan.position for o in log):
                log.append(orphan)
                continue
            owner = _nearest_entity(r, orphan.position)
        if owner is None:
            log.append(orphan)
            continue
        _add_field(r, owner, orphan)
    if log:
        names = list(dict.fromkeys(o.spec.name for o in log if o.spec.name != KIND))
        name = safe_entity_name(f"{names[0]}_entry" if len(names) == 1 else (
            "daily_log" if "daily" in r.text.lower() else "log_entry"))
        cand = r.candidates.setdefault(name, Candidate(name=name, strength=2,
                                                       position=log[0].position))
        for orphan in log:
            _add_field(r, name, orphan)
            r.by_position.setdefault(orphan.position, name)
        r.extra_decisions.append(NounDecision(
            phrase=", ".join(names), decision="entity",
            reason=f"values the user logs become one '{name}' row per entry"))
        cand.explicit = True


_STATE_FLOW = re.compile(
    r"\b(?:moves?|moving|goes|go|going|progress(?:es)?|flows?|pass(?:es)?|transitions?|changes?|"
    r"advances?|runs?)\s+from\s+(?P<states>[a-z][a-z -]*?\bto\b[a-z ,-]*)$")
_STATE_LIST = re.compile(
    r"\b(?:status|state|stage)(?:es)?\s+(?:of|is|:)?\s*(?:either\s+)?"
    r"(?P<states>[a-z][a-z -]*(?:,\s*[a-z][a-z -]*)*,?\s+or\s+[a-z][a-z -]*)$")
_STATES_NOTE = "states, as the text lists them"
_STATE_SPLIT = re.compile(r"\s*(?:,|\bto\b|\bor\b|\band\b|\bthen\b)\s*")


def _read_state_flows(r: Reading) -> None:
    """ "work orders go from open to in progress to closed": the record nearest before the
    verb gets a status enum with those states (a workflow), and the state words are no records."""
    for index, sentence in enumerate(tokenize(r.english)):
        text = " ".join(t.low for t in sentence if t.tag != "PUNCT" or t.low == ",")
        m = _STATE_FLOW.search(text) or _STATE_LIST.search(text)
        if m is None:
            continue
        states = [snake(x) for x in _STATE_SPLIT.split(m.group("states")) if snake(x)]
        states = list(dict.fromkeys(x for x in states if x not in {"the", "a", "an"}))
        if len(states) < 2:
            continue
        state_words = {w for x in states for w in x.split("_")}
        in_sentence = r.by_sentence.get(index, [])
        owner = None
        for p in in_sentence:
            name = r.by_position.get(p.position)
            if name is not None and set(p.words) & state_words and name in r.candidates \
                    and all(w in state_words for w in p.words):
                r.candidates.pop(name, None)  # "paid" is a state, not a record
                for pos, n in list(r.by_position.items()):
                    if n == name:
                        del r.by_position[pos]
                r.decisions[p.position] = NounDecision(
                    phrase=p.text, decision="dropped", reason="a state in a status flow")
            elif name is not None and name in r.candidates and not set(p.words) & state_words:
                owner = name
        if owner is None:
            continue
        cand = r.candidates[owner]
        status = FieldSpec(name="status", type=FieldType.enum, choices=states,
                           default=states[0], description=_STATES_NOTE)
        at = next((i for i, f in enumerate(cand.fields) if f.type == FieldType.enum
                   and f.name.split("_")[-1] in {"status", "state", "stage"}), None)
        if at is None:
            cand.fields.append(status)
        else:  # the text's own states win over the usual ones
            cand.fields[at] = cand.fields[at].model_copy(update={
                "choices": states, "default": states[0], "description": _STATES_NOTE})
        r.extra_decisions.append(NounDecision(
            phrase=m.group(0), decision="field",
            reason=f"the states of '{owner}': a status field with a workflow"))


def _add_field(r: Reading, owner: str, orphan: Orphan) -> None:
    cand = r.candidates.get(owner)
    if cand is None:
        known = r.known.get(owner)
        if known is None or orphan.spec.name == KIND or orphan.spec.name in {
                f.name for f in known.fields}:
            return
        # "add a priority to deals": a new column on a base entity
        cand = r.candidates.setdefault(owner, Candidate(name=owner, strength=2,
                                                        position=orphan.position))
    spec = orphan.spec
    if spec.name == KIND:
        if owner.split("_")[-1] in {"category", "type", "kind", "group", "tag"}:
            cand.examples.append(spec.description)  # "categories (mice, keyboards)": rows
        else:
            cand.kinds.append(snake(spec.description))
        return
    for prefix in {owner, owner.split("_")[-1]}:  # "car colours" on car -> colour
        if spec.name.startswith(f"{prefix}_") and len(spec.name) > len(prefix) + 1:
            spec = infer_field(spec.name[len(prefix) + 1:], owner, spec.description)
    existing = {f.name for f in cand.fields}  # at most MAX_FIELDS: linear over the text
    last = spec.name.split("_")[-1]
    if spec.name in existing or (not orphan.explicit and last in existing):
        return
    if len(cand.fields) >= MAX_FIELDS:
        r.decisions[orphan.position] = NounDecision(
            phrase=r.phrases[orphan.position].text, decision="dropped",
            reason=f"over the limit of {MAX_FIELDS} fields on '{owner}'")
        return
    cand.fields.append(spec)
    cand.explicit = cand.explicit or orphan.explicit


def _finish_entities(r: Reading) -> list[EntitySpec]:
    # the items of one list ("products, suppliers and purchase orders") weigh the same
    lists: dict[int, list[Candidate]] = {}
    for pos, name in r.by_position.items():
        if name in r.candidates:
            lists.setdefault(r.phrases[pos].list_id, []).append(r.candidates[name])
    for mates in lists.values():
        top = max(c.strength for c in mates)
        for c in mates:
            if c.strength >= 0:
                c.strength = max(c.strength, min(top, 2))
    cands = list(r.candidates.values())
    strong = [c for c in cands if c.strength >= 1]
    if not strong:
        strong = [c for c in cands if c.strength >= 0]
    # "tickets have a priority and a status": a noun given its own fields is a record
    strong_ids = {id(c) for c in strong}
    strong += [c for c in cands if c.explicit and c.fields and id(c) not in strong_ids]
    strong_ids = {id(c) for c in strong}
    chosen = sorted(strong, key=lambda c: (-min(c.strength, 2), c.position))[:MAX_ENTITIES]
    chosen_names = {c.name for c in chosen}
    positions: dict[str, list[int]] = {}
    for pos, name in r.by_position.items():
        positions.setdefault(name, []).append(pos)
    for c in cands:
        if c.name not in chosen_names:
            for pos in positions.get(c.name, []):
                if r.by_position.get(pos) == c.name:
                    del r.by_position[pos]
                    np = r.phrases[pos]
                    limit = len(strong) > MAX_ENTITIES and id(c) in strong_ids
                    r.decisions[pos] = NounDecision(
                        phrase=np.text, decision="dropped",
                        reason=f"over the limit of {MAX_ENTITIES} entities" if limit else
                        "mentioned without a sign it is data the app manages")
    chosen.sort(key=lambda c: c.position)
    return [_entity_spec(c, r) for c in chosen]


def _entity_spec(c: Candidate, r: Reading) -> EntitySpec:
    known = r.known.get(c.name)
    if known is not None:
        extra = [f for f in c.fields if f.name not in {k.name for k in known.fields}]
        return known.model_copy(update={"fields": [*known.fields, *extra]})
    # enum states depend on the entity ("status" of an invoice), known only now
    fields = [infer_field(f.name, c.name, f.description) if f.type == FieldType.enum
              and f.description != _STATES_NOTE else f for f in c.fields]
    template = table("entity_templates").get(c.name) or table("entity_templates").get(
        c.name.split("_")[-1])
    if not c.explicit or not fields:
        names = list(template) if template else (
            list(vocabulary().raw["person_entity_fields"]) if c.name in words("person_entities")
            else [human_field_for(c.name), "description"])
        base = [infer_field(n, c.name) for n in names if not any(
            f.name == n or f.name.endswith(f"_{n}") or n.endswith(f"_{f.name}") for f in fields)]
        fields = base + fields  # the defaults first: the human-readable field leads
    if c.kinds:
        choices = list(dict.fromkeys(k for k in c.kinds if k))
        fields = [f for f in fields if f.name != "kind"] + [FieldSpec(
            name="kind", type=FieldType.enum, choices=choices, default=choices[0],
            searchable=True, description="kind, as the text lists them")]
    if c.name in words("person_entities") or c.name.split("_")[-1] in words("person_entities"):
        fields = [f.model_copy(update={"pii": True}) if f.name in {"name", "full_name"} else f
                  for f in fields]
    human = next((f for f in fields if f.name in {"name", "title"}), None)
    if human is not None:
        fields = [f.model_copy(update={"required": True}) if f is human else f for f in fields]
    description = f"from: {', '.join(dict.fromkeys(c.phrases))}"
    if c.examples:
        description += f"; for example {', '.join(dict.fromkeys(c.examples))}"
    return EntitySpec(name=c.name, plural=plural(c.name), label=label(c.name), fields=fields,
                      description=description[:200])


# ---------------------------------------------------------------------------------------------
# Relations, features, roles
# ---------------------------------------------------------------------------------------------


def _relations(r: Reading, entities: list[EntitySpec]) -> list[RelationSpec]:
    names = {e.name for e in entities} | set(r.known)
    found: dict[tuple[str, str], RelationSpec] = {}

    def add(parent: str | None, child: str | None, kind=RelationKind.one_to_many) -> None:
        if not parent or not child or parent == child or parent not in names or child not in names:
            return
        if (child, parent) in found or (parent, child) in found:
            return
        found[(parent, child)] = RelationSpec(kind=kind, parent=parent, child=child)

    for c in r.candidates.values():
        add(c.parent, c.name)
    # "the site is organized by product categories": categories group the main content
    content = [e.name for e in entities if e.name not in {r.by_position.get(p) for p in r.organizers}]
    for pos in r.organizers:
        if content and pos in r.by_position:
            add(r.by_position[pos], content[0])
    for np in r.phrases:
        this = r.by_position.get(np.position)
        if this is None or np.attached_to is None:
            continue
        other = r.by_position.get(np.attached_to)
        gap = np.before
        if np.prep in {"into", "under", "in"} or np.prep == "to" and (any(v in {"assign", "add", "link", "attach", "move", "connect"}
                                      for v in np.verbs) or _LINK_WORDS & set(gap)) or np.prep == "of":
            add(this, other)
        elif np.prep == "'s":
            add(other, this)
        elif np.prep == "for" and other and (other in words("record_entities") or other.split(
                "_")[-1] in words("record_entities")):
            add(this, other)
        if "many-to-many" in " ".join(gap) or "many to many" in " ".join(gap):
            key = (other, this)
            found.pop(key, None)
            found.pop((this, other), None)
            add(other, this, RelationKind.many_to_many)
    # tags and labels are shared by many rows: many-to-many
    for key, rel in list(found.items()):
        if {rel.parent, rel.child} & _SHARED_LABELS and rel.kind == RelationKind.one_to_many:
            tag, other = (rel.parent, rel.child) if rel.parent in _SHARED_LABELS else (
                rel.child, rel.parent)
            found[key] = RelationSpec(kind=RelationKind.many_to_many, parent=other, child=tag)
    # "tag links": tags, many-to-many
    for np in r.phrases:
        if "tag" in np.verbs and r.by_position.get(np.position) and "tag" in names:
            add("tag", r.by_position[np.position], RelationKind.many_to_many)
    # records attach to what they record
    primary = next((e.name for e in entities if e.name not in words("record_entities")
                    and e.name.split("_")[-1] not in words("record_entities")), None)
    for e in entities:
        is_record = e.name in words("record_entities") or e.name.split("_")[-1] in words(
            "record_entities")
        if is_record and primary and not any(rel.child == e.name for rel in found.values()):
            add(primary, e.name)
    return list(found.values())


def _sentence_entities(r: Reading, sentence: int) -> list[str]:
    return list(dict.fromkeys(r.by_position[p.position] for p in r.by_sentence.get(sentence, [])
                              if p.position in r.by_position))


def _features(r: Reading, entities: list[EntitySpec], relations: list[RelationSpec]) -> list[FeatureSpec]:
    names = [e.name for e in entities]
    if not names:
        return []
    primary = names[0]
    feature_words = table("feature_words")
    sentences = _sentences_words(r)
    found: dict[tuple[FeatureKind, str], FeatureSpec] = {}

    def add(kind: FeatureKind, entity: str, **options) -> None:
        if entity in names:
            found.setdefault((kind, entity), FeatureSpec(kind=kind, entity=entity, options=options))

    for index, sentence_words in enumerate(sentences):
        present = _sentence_entities(r, index)
        in_sentence = r.by_sentence.get(index, [])
        verbs_objects = {p.position: r.by_position[p.position] for p in in_sentence
                         if p.position in r.by_position}
        for kind_name, kind_words in feature_words.items():
            hit = [verb_lemma(w) or w for w in sentence_words if w in kind_words]
            if not hit and not any(" " in k and k in " ".join(sentence_words) for k in kind_words):
                continue
            kind = FeatureKind(kind_name)
            governed = [r.by_position[p.position] for p in in_sentence
                        if p.position in verbs_objects
                        and set(p.verbs) & set(hit)]
            if kind == FeatureKind.assignment:
                # "assign transactions to categories" is a relation, not an assignment to people
                direct = [r.by_position[p.position] for p in in_sentence
                          if p.position in r.by_position
                          and set(p.verbs) & set(hit) and not p.prep]
                # "tickets are assigned to agents": the record before "to <people>"
                passive = [r.by_position[p.attached_to] for p in in_sentence
                           if p.prep == "to" and p.attached_to is not None
                           and p.attached_to in r.by_position and p.position not in r.by_position
                           and is_person(p.words)]
                for t in direct + passive:
                    if not _assigned_to_entity(r, t):
                        add(kind, t, field="assignee")
                continue
            if kind == FeatureKind.scheduling:
                sched = [n for n in governed + present if n in words("schedulable_entities")
                         or n.split("_")[-1] in words("schedulable_entities")]
                if not sched:
                    sched = [n for n in names if n in words("schedulable_entities")
                             or n.split("_")[-1] in words("schedulable_entities")]
                for t in sched[:2]:
                    parent = next((rel.parent for rel in relations if rel.child == t
                                   and rel.kind == RelationKind.one_to_many), None)
                    add(kind, t, start="starts_at", end="ends_at",
                        resource=f"{parent}_id" if parent else None)
                continue
            if kind == FeatureKind.status_workflow:
                continue  # from the fields below
            targets = governed or present or [primary]
            for t in targets:
                add(kind, t)
    for e in entities:
        status = next((f for f in e.fields if f.type == FieldType.enum and f.name.split("_")[-1]
                       in {"status", "stage", "state"}), None)
        if status is not None:
            states = status.choices
            add(FeatureKind.status_workflow, e.name, field=status.name, states=states,
                transitions={s: [t for t in states if t != s] for s in states})
    return sorted(found.values(), key=lambda f: (names.index(f.entity), f.kind.value))


def _assigned_to_entity(r: Reading, entity: str) -> bool:
    for np in r.phrases:
        if np.prep == "to" and np.attached_to is not None and r.by_position.get(
                np.attached_to) == entity and np.position in r.by_position:
            return True
    return False


def _sentences_words(r: Reading) -> list[list[str]]:
    return [[t.low for t in sentence] for sentence in tokenize(r.english)]


def _roles(r: Reading, entities: list[EntitySpec]) -> list[RoleSpec]:
    names = {e.name for e in entities}
    roles: dict[str, dict[str, set[Action]]] = {k: {e: set(a) for e, a in v.items()}
                                                for k, v in r.roles.items()}
    for pos, role in r.role_subjects.items():
        np = r.phrases[pos]
        perms = roles.setdefault(role, {})
        objects = [p for p in r.by_sentence[np.sentence] if p.position > pos]
        verbs = set(np.subject_of)
        for obj in objects:
            target = r.by_position.get(obj.position)
            if target is None and any(v in {"book", "reserve"} for v in obj.verbs):
                target = next((n for n in names if n.split("_")[-1] in {"reservation", "booking",
                                                                         "appointment"}), None)
            if target is None or target not in names:
                continue
            obj_verbs = [v for v in obj.verbs if v in verbs]
            if obj.prep or not obj_verbs:
                continue
            perms.setdefault(target, set()).update(action_set(obj_verbs) or {Action.read})
    # "an admin screen to manage rooms": the admin manages what follows
    for np in r.phrases:
        if "admin" in np.words and np.position not in r.role_subjects:
            perms = roles.setdefault("admin", {})
            for obj in r.phrases[np.position + 1:]:
                if obj.sentence != np.sentence:
                    break
                if obj.position in r.by_position:
                    perms.setdefault(r.by_position[obj.position], set()).update(set(Action))
    result = []
    for role, perms in roles.items():
        permissions = {"*": [Action.read]} if role != "admin" else {"*": list(Action)}
        for entity, actions in sorted(perms.items()):
            permissions[entity] = sorted(actions | {Action.read}, key=list(Action).index)
        result.append(RoleSpec(name=role, permissions=permissions,
                               description="named in the spec"))
    return result


def _decisions(r: Reading) -> list[NounDecision]:
    ordered = [r.decisions[p] for p in sorted(r.decisions)]
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in r.extra_decisions + ordered:
        key = (d.phrase.lower(), d.decision, d.reason)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _title(r: Reading, entities: list[EntitySpec]) -> str:
    """The phrase that says what the app is ("recipe box system"), else its first entity."""
    for np in r.titles:
        rest, _ = strip_heads(np.words)
        if rest and rest != np.words and not drop_reason(rest) and not is_person(rest):
            return _title_case(" ".join(np.original_words))
        audience = next((p for p in r.phrases[np.position + 1:np.position + 2]
                         if p.prep == "for" and p.attached_to == np.position), None)
        if audience is not None and not is_person(audience.words) and len(np.words) <= 2:
            return _title_case(" ".join(audience.original_words + np.original_words))
        if drop_reason(rest) and any(w.isupper() and len(w) > 1 for w in np.original_words):
            return _title_case(" ".join(np.original_words))  # "CRM system"
    if entities:
        return f"{label(entities[0].name).title()} Tracker"
    return "Application"


def _extend(base: ScaffoldSpec, text: str, entities: list[EntitySpec],
            relations: list[RelationSpec], roles: list[RoleSpec], features: list[FeatureSpec],
            decisions: list[NounDecision], r: Reading) -> ScaffoldSpec:
    """An incremental build keeps everything the base spec had and adds what is new."""
    merged_entities = []
    new_by_name = {e.name: e for e in entities}
    for e in base.entities:
        grown = new_by_name.pop(e.name, None)
        merged_entities.append(grown if grown is not None else e)
    merged_entities += list(new_by_name.values())[:max(0, MAX_ENTITIES - len(merged_entities))]
    names = {e.name for e in merged_entities}
    rel_keys = {(x.parent, x.child) for x in base.relations}
    merged_relations = list(base.relations) + [x for x in relations if (x.parent, x.child)
                                               not in rel_keys and x.parent in names
                                               and x.child in names]
    role_names = {x.name for x in base.roles}
    merged_roles = list(base.roles) + [x for x in roles if x.name not in role_names]
    feature_keys = {(f.kind, f.entity) for f in base.features}
    merged_features = list(base.features) + [f for f in features if (f.kind, f.entity)
                                             not in feature_keys and f.entity in names]
    return base.model_copy(update={
        "text": f"{base.text}\n\n{text}",
        "entities": merged_entities,
        "relations": merged_relations,
        "roles": merged_roles,
        "features": merged_features,
        "decisions": list(base.decisions) + decisions,
        "external_services": list(dict.fromkeys(base.external_services + _services(r))),
    })
