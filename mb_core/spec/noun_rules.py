"""Small pure judgements over a phrase's words: its entity name, why it is dropped, whether it
 names a field, a person, or the app itself."""

from __future__ import annotations

from collections.abc import Container

from mb_core.models import Action, FieldSpec
from mb_core.spec.fields import UNIT_PLURALS, field_name, infer_field
from mb_core.spec.naming import safe_entity_name, singular, snake
from mb_core.spec.vocabulary import (
    dropped_reasons,
    synonym_table,
    table,
    words,
)

_FIELD_CANON = {"completion": "is_completed", "expiry": "expiry_date", "expiration":
                "expiry_date", "due": "due_date", "availability":
                "is_available", "birthday": "birthday", "start": "starts_at", "end": "ends_at"}
_KEEP_PLURAL = {"ingredients", "instructions", "notes", "details", "meanings", "readings",
                "tags", "comments", "steps", "hours", "minutes", "symptoms", "remarks", "skills",
                "requirements", "categories", "keywords", "genres", "allergies", "amenities"}
_RECORD_PLURALS = {"applications"}


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


COUNTABLE_REASONS = frozenset({"abstract word, not a thing to manage",
                               "names the application itself"})


def counted_drop_reason(np) -> str | None:
    """drop_reason of a phrase, except that a word usually naming the app or an abstraction
    ("tool", "case") is a record when the text counts it one by one: "each case has a channel",
    "every case belongs to a customer" (English speaks of abstractions and of the app itself
    in the singular, without "each")."""
    reason = drop_reason(np.words)
    if reason in COUNTABLE_REASONS and (np.before[-1:] in (["each"], ["every"])
                                        or "belong" in np.subject_of):
        return None
    if reason == "abstract word, not a thing to manage" and len(np.words) > 1 and \
            singular(np.words[-1]) != np.words[-1] and "have" in np.subject_of:
        return None  # "lab results have a value": many of them, each with fields, are records
    return reason


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
    # in "number of seats" the head is "number": the words after "of" stay as written
    if last not in _KEEP_PLURAL and last not in UNIT_PLURALS and "of" not in phrase_words[:-1]:
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
