"""Each noun phrase judged once: an entity, a field, a role, or dropped with the reason."""

from __future__ import annotations

from mb_core.models import FieldSpec
from mb_core.spec.naming import singular
from mb_core.spec.noun_rules import (
    _KEEP_PLURAL,
    _RECORD_PLURALS,
    counted_drop_reason,
    drop_reason,
    entity_name,
    field_from_words,
    is_field_head,
    is_person,
    split_slashes_words,
    strip_heads,
)
from mb_core.spec.phrases import NounPhrase
from mb_core.spec.reading_state import (
    _CONTAINER_VERBS,
    _DETAIL_WORDS,
    _FIELD_FILLER,
    _FILLER,
    _HAVE,
    _NEGATIONS,
    _ORGANIZED,
    _TIME_SPANS,
    KIND,
    Candidate,
    Orphan,
    Reading,
    _lists_own_fields,
    _NamesInUse,
)
from mb_core.spec.vocabulary import (
    dropped_reasons,
    synonym_table,
    table,
    words,
)


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
    compound = None
    # a modifier that is itself an entity elsewhere is a parent: "class reservations"
    parent = None
    if len(name_words) > 1:
        modifier = entity_name(name_words[:1], known)
        itself = len(np.words) == 1 and entity_name([np.words[-1]]) == modifier
        mentioned = r.single_word_names[modifier] > itself  # by a phrase other than this one
        if (mentioned or modifier in r.known) and not is_field_head(name_words[:1]):
            parent = modifier
            compound = name
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
        cand = Candidate(name=name, strength=strength, position=np.position, parent=parent,
                         compound=compound)
        r.candidates[name] = cand
    else:
        cand.strength = max(cand.strength, strength)
        cand.parent = cand.parent or parent
        cand.compound = cand.compound or compound
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
            if not set(p.subject_of) & _HAVE and not _determined_list(r, np):
                continue  # "a shop keeps customers and orders": bare plurals kept are records
            return p
    return None


def _keeps_fields(r: Reading, np: NounPhrase) -> bool:
    """ "A book stores its ISBN": a record that stores the determined things after it."""
    nxt = r.phrases[np.position + 1] if np.position + 1 < len(r.phrases) else None
    return _lists_own_fields(np) and nxt is not None and nxt.sentence == np.sentence and \
        _determined_list(r, nxt)


def _determined_list(r: Reading, np: NounPhrase) -> bool:
    """The list np is in opens with a determiner: "stores its ISBN, title", "records the date"."""
    first = next(p for p in r.phrases if p.list_id == np.list_id)
    return first.before[-1:] in (["its"], ["their"], ["the"], ["a"], ["an"], ["his"], ["her"])


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
    reason = counted_drop_reason(np)
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
    includer = _includer(r, np)
    if includer is not None and reason and len(w) == 1 and r.by_position.get(
            includer.position) is not None and "ML" not in reason:
        # "each course has a code, a title": what a record has is its field, even a word that
        # alone would name the app, a page or a login ("code", "section", "registration")
        _explicit_field(r, np, includer, "listed as part of")
        return
    possessor = _possessor(r, np)
    if possessor is not None and "ML" not in (reason or ""):
        # "the customer's phone number", "a vehicle's mileage": what a record owns is its field
        _explicit_field(r, np, possessor, "owned by", explicit=False)
        return
    if (low_text in dropped or " ".join(np.all_words) in dropped) and (
            reason or counted_drop_reason(np) == drop_reason(w)):
        r.decide(np, "dropped", f"'{low_text}': {dropped.get(low_text) or dropped[' '.join(np.all_words)]}")
        return

    # "(servers, switches)": kinds or fields of the phrase before the parentheses
    if np.in_parens_of is not None:
        owner = r.phrases[np.in_parens_of]
        siblings = [p for p in r.phrases if p.in_parens_of == np.in_parens_of]
        if is_field_head(owner.name_words) and not all(is_field_head(p.name_words) for p in siblings):
            r.decide(np, "dropped", f"a value of '{owner.text}', listed in parentheses")
            return
        if all(is_field_head(p.name_words) for p in siblings):
            _explicit_field(r, np, owner, "listed in parentheses after")
        elif len(w) == 1 and np.original_words[0].isupper() and len(siblings) == 1:
            r.decide(np, "dropped", f"abbreviation of '{owner.text}'")
        else:
            r.decide(np, "field", f"a kind of '{owner.text}': becomes a choice of its kind")
            r.orphans.append(Orphan(np.position, FieldSpec(name=KIND, description=np.head),
                                    owner.position, explicit=False))
        return

    if np.prep == "in" and np.before[-1:] == ["in"] and np.attached_to is not None and \
            singular(w[-1]) != w[-1] and is_field_head(r.phrases[np.attached_to].name_words):
        # "a size in square metres", "a length in minutes": the unit a field is measured in
        r.decide(np, "dropped", f"the unit of '{r.phrases[np.attached_to].text}'")
        return

    target = _synonym_target(r, np)
    if target is not None:
        _add_candidate(r, np, [target], 2, f"another word for '{target}'")
        return

    if not reason and not is_person(w) and _owns_many(r, np):
        _add_candidate(r, np, w, 2, "has many of the records after it")
        return
    if not reason and np.all_words[0] in _MANY and set(np.verbs) & _HAVE:
        _add_candidate(r, np, w, 2, "counted as many: rows of their own, not a field")
        return
    if not reason and is_field_head(np.name_words) and _managed(np) and singular(w[-1]) != w[-1] \
            and _listed_with_records(r, np):
        _add_candidate(r, np, w, 2, f"managed with other records ('{np.verbs[-1]}')")
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
    nxt = r.phrases[np.position + 1] if np.position + 1 < len(r.phrases) else None
    grantee = nxt is not None and _grants_access(r, nxt)  # only people are given access
    if (is_person(w) or grantee) and not _managed(np):
        if singular(w[-1]) in {"user", "person", "people"} or low_text in words("generic_people"):
            r.decide(np, "dropped", dropped["user"])
            return
        acting = bool(set(np.subject_of) - _HAVE) or (np.prep == "for" and _follows_app(r, np)) \
            or grantee
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


_MANY = {"many", "several", "multiple", "various"}
_RIGHT_WORDS = {"access", "permission", "right", "privilege"}


def _grants_access(r: Reading, np: NounPhrase) -> bool:
    """ "HR staff have read-only access to ...", "editors have full rights": what people have
    that is a right, not a field of theirs."""
    if singular(np.words[-1]) not in _RIGHT_WORDS or np.prep or np.position == 0:
        return False
    before = r.phrases[np.position - 1]
    return before.sentence == np.sentence and not before.prep and bool(
        set(before.subject_of) & _HAVE)


def _owns_many(r: Reading, np: NounPhrase) -> bool:
    """ "An author has many books": the subject of a have-verb whose object is counted as many."""
    nxt = r.phrases[np.position + 1] if np.position + 1 < len(r.phrases) else None
    return bool(set(np.subject_of) & _HAVE) and nxt is not None and nxt.sentence == np.sentence \
        and not nxt.prep and nxt.all_words[0] in _MANY


def _listed_with_records(r: Reading, np: NounPhrase) -> bool:
    """ "Catalogue authors and books": a plural the text manages in one list with a record."""
    mates = [p for p in r.phrases if p.list_id == np.list_id and p is not np]
    return bool(mates) and all(not is_field_head(p.name_words) and not drop_reason(p.words)
                               and singular(p.words[-1]) != p.words[-1] for p in mates)


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


def _per_unit(r: Reading, np: NounPhrase) -> list[str]:
    """ "the price per litre", "a rate per hour": one field with its unit, which is no record."""
    unit = _following(r, np, {"per"})
    if unit is None or singular(unit.words[-1]) != unit.words[-1] or len(unit.words) > 2:
        return []
    r.decide(unit, "field", f"the unit of '{np.text} per {unit.text}'")
    return ["per", *unit.words]


def _explicit_field(r: Reading, np: NounPhrase, owner: NounPhrase, how: str,
                    explicit: bool = True) -> None:
    per = _per_unit(r, np)
    if per:
        r.orphans.append(Orphan(np.position, field_from_words(_field_words(np) + per, ""),
                                owner.position, explicit))
        r.decide(np, "field", f"{how} '{owner.text}'")
        return
    of = _of_kind(r, np)
    for parts in split_slashes_words(_field_words(np) + of):
        r.orphans.append(Orphan(np.position, field_from_words(parts, ""), owner.position, explicit))
    r.decide(np, "field", f"{how} '{owner.text}'" + (" (field list honoured as written)"
                                                      if explicit else ""))


# "a number of guests": a count of things, whatever they are
_COUNT_HEADS = {"number", "count", "amount", "quantity", "total"}


def _of_kind(r: Reading, np: NounPhrase) -> list[str]:
    """ "a date of birth", "a number of seats", "a country of origin": the "of" phrase is part of
    the field's one name, not a record (a kind after "of", or another field word)."""
    following = _following(r, np, {"of"})
    bare = following is not None and following.before[-1:] == ["of"] and not _opens_list(
        r, following)
    if following is None or not (_bare_singular(r, following) or bare and (is_field_head(
            following.name_words) or np.head in _COUNT_HEADS)):
        return []
    r.decide(following, "field", f"part of the field '{np.text} of {following.text}'")
    return ["of", *_field_words(following)]


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
        if is_field_head(following.name_words) or drop_reason(following.words) or \
                _bare_singular(r, following):
            # "hours of sleep", "a date of birth": one field
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


def _possessor(r: Reading, np: NounPhrase) -> NounPhrase | None:
    """The record whose possessive a singular phrase follows ("a vehicle's mileage"); never for
    plurals ("a customer's orders" are records of their own) nor for records and people."""
    if np.prep != "'s" or np.attached_to is None or np.head != np.words[-1]:
        return None
    owner = r.phrases[np.attached_to]
    name = entity_name(np.words)
    if owner.position not in r.by_position or name in r.known or name in r.candidates or \
            is_person(np.words):
        return None
    return owner


def _bare_singular(r: Reading, np: NounPhrase) -> bool:
    """ "of birth", "of issue", "of origin": a singular noun right after "of", with no article,
    names a kind of thing, never one record (unless the text keeps it as one)."""
    return np.before[-1:] == ["of"] and np.head == np.words[-1] and len(np.words) == 1 and \
        np.words[-1] not in r.known and np.words[-1] not in r.candidates and not _opens_list(r, np)


def _opens_list(r: Reading, np: NounPhrase) -> bool:
    """ "a flat type of studio, loft or duplex": the words after "of" are the values offered."""
    return any(p.list_id == np.list_id and p.position > np.position for p in r.phrases)


# "deleting a contract is restricted to administrators": whom a right is kept to, not a record
# the other is put into
_RESTRICTED = {"restricted", "limited", "reserved", "confined"}


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
            owner.position in r.by_position and any(v in words("managing_verbs") for v in np.verbs) \
            and not set(np.before) & _RESTRICTED:
        _add_candidate(r, np, np.words, 2, f"'{owner.text}' are put {np.prep} it")
        return
    if np.prep == "by" and set(np.before) & _ORGANIZED:
        _add_candidate(r, np, np.words, 2, "the app's content is organised by it")
        r.organizers.append(np.position)
        return
    if np.prep in {"of", "'s"} and owner is not None and owner.position in r.by_position:
        _add_candidate(r, np, np.words, 1, f"related to '{owner.text}'")
        return
    if np.subject_of and set(np.subject_of) & {"include", "have", "contain"} or _keeps_fields(r, np):
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
