"""From judged phrases to entities: merged lists, orphan fields attached to their owners, status
flows, the entity limit, default fields."""

from __future__ import annotations

import re
from itertools import pairwise

from mb_core.models import (
    EntitySpec,
    FieldSpec,
    FieldType,
    NounDecision,
)
from mb_core.spec.compounds import compound_parts, is_head_of, kept_name, refers_back
from mb_core.spec.fields import human_field_for, infer_field
from mb_core.spec.naming import (
    label,
    plural,
    safe_entity_name,
    singular,
    snake,
)
from mb_core.spec.noun_rules import entity_name, is_field_head
from mb_core.spec.phrases import NounPhrase, tokenize
from mb_core.spec.reading_state import (
    _LOG_VERBS,
    KIND,
    MAX_ENTITIES,
    MAX_FIELDS,
    Candidate,
    Orphan,
    Reading,
)
from mb_core.spec.values import listed_values
from mb_core.spec.vocabulary import table, vocabulary, words

_CHOICES_AFTER_COLON = re.compile(
    r"[a-z]\s*:\s*(?P<values>[a-z][\w -]*(?:,\s*[a-z][\w -]*)*,?\s+or\s+[a-z][\w -]*?)\s*(?:[.;!?\n]|$)",
    re.IGNORECASE)


def _drop_listed_values(r: Reading) -> None:
    """ "a channel: email, phone or chat", "Species is one of dog, cat or rabbit": the words a
    clause offers as a field's values are values, not fields or records."""
    values: set[str] = set()
    for m in _CHOICES_AFTER_COLON.finditer(r.english):
        values |= {v.strip().lower() for v in re.split(r",|\bor\b", m.group("values")) if v.strip()}
    by_clause: set[str] = set()
    for sentence in re.split(r"[.!?;\n]+", r.english):
        for listed in listed_values(sentence):
            by_clause |= set(listed.values)
    if not values and not by_clause:
        return
    for phrases in r.by_sentence.values():
        if len(phrases) >= 2 and all(p.text.lower() in values for p in phrases):
            listed = phrases
        else:  # the values of a "one of" clause, whatever else the sentence names
            listed = [p for p in phrases if p.text.lower() in by_clause]
        if not listed:
            continue
        at = {p.position for p in listed}
        r.orphans = [o for o in r.orphans if o.position not in at]
        for p in listed:
            name = r.by_position.pop(p.position, None)
            if name is not None and name in r.candidates and not any(
                    n == name for n in r.by_position.values()):
                r.candidates.pop(name)
            r.decisions[p.position] = NounDecision(
                phrase=p.text, decision="dropped",
                reason="a value of the choice the text lists for a field")


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
    opener = next(p for p in r.phrases if p.list_id == r.phrases[position].list_id)
    if len(same) >= 2 and _has_again(opener, same[-1]):
        return r.by_position[same[0].position]
    if same:
        return r.by_position[same[-1].position]
    after = [p for p in r.phrases[position:] if kept(p) and p.sentence == sentence]
    if after:
        return r.by_position[after[0].position]
    if before:
        return r.by_position[before[0].position]
    rest = [p for p in r.phrases[position:] if kept(p)]
    return r.by_position[rest[0].position] if rest else None


def _has_again(np: NounPhrase, last: NounPhrase) -> bool:
    """ "A payslip is linked to exactly one employee and has a net amount": after a record that
    a preposition governs, "and has" speaks of the clause's subject again (np opens the list)."""
    said = " ".join(np.before)
    return "have" in np.verbs and bool(re.search(r"\band (?:also )?(?:has|have)\b", said)) and (
        bool(last.prep) or bool(set(last.before[-3:]) & words("prepositions")))


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
    r"\b(?:status|state|stage)(?:es)?\s+(?:(?:that|which)\s+)?(?:of|is|are|can be|:)?\s*"
    r"(?:(?:one|any) of\s+|either\s+)?"
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
    # "each room has a room number", "a roast has a roast level": the record's own list says the
    # field's whole name (bench/fidelity_specs_dev6.yaml states the naming rule); elsewhere the
    # record's name in front is its owner
    for prefix in () if orphan.explicit else {owner, owner.split("_")[-1]}:  # "car colours" -> colour
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


# "a parent category", "a sub-project": another row of the record named, never a record of its own
_OWN_KIND = ("parent", "sub", "child")


def _fold_own_kind(r: Reading) -> None:
    """ "a category may sit under a parent category": the parent is a category too."""
    for name in list(r.candidates):
        mod, _, rest = name.partition("_")
        if mod not in _OWN_KIND or rest not in r.candidates:
            continue
        r.candidates.pop(name)
        for pos, named in list(r.by_position.items()):
            if named == name:
                del r.by_position[pos]
                r.decisions[pos] = NounDecision(
                    phrase=r.phrases[pos].text, decision="dropped",
                    reason=f"another {rest.replace('_', ' ')}: a tie of a record to its own kind")


def _finish_entities(r: Reading) -> list[EntitySpec]:
    _fold_own_kind(r)
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
    _whole_names_back(r, chosen)
    return [_entity_spec(c, r) for c in chosen]


def _whole_names_back(r: Reading, chosen: list[Candidate]) -> None:
    """ "a repair order" named "order" because "repair" looked like its parent record: when
    that parent is not kept, the record keeps its whole name."""
    names = {c.name for c in chosen}
    for c in chosen:
        if not c.parent or c.parent in names or not c.compound or c.compound in names \
                or c.compound in r.known:
            continue
        old = c.name
        r.candidates.pop(old, None)
        c.name, c.parent = c.compound, None
        r.candidates[c.name] = c
        names = (names - {old}) | {c.name}
        for pos, name in list(r.by_position.items()):
            if name == old:
                r.by_position[pos] = c.name


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


def _fold_heads_said_again(r: Reading) -> None:
    """ "Drivers log fuel purchases. Each purchase records the date": the head noun said after
    its compound with a word that points back is the same record (one record, one name, as
    mb_core.spec.compounds decides)."""
    for compound in [c for c in r.candidates.values() if compound_parts(c.name)]:
        head_name = compound_parts(compound.name)[1]
        bare = r.candidates.get(head_name)
        records = set(r.candidates) | set(r.known)
        if bare is None or compound.name not in r.candidates or head_name in r.known \
                or compound.name in r.known or compound.strength >= 3 \
                or not is_head_of(compound.name, head_name, records):
            continue  # the app's own name ("a parking permit system") is no record to fold
        if sum(1 for c in r.candidates if is_head_of(c, head_name, records)) != 1:
            continue  # "fuel purchases and office purchases": the head alone is either
        first = min(p for p, n in r.by_position.items() if n == compound.name)
        heads = [r.phrases[p] for p, n in r.by_position.items() if n == head_name]
        if not heads or not all(np.position > first and refers_back(np.before) for np in heads):
            continue  # "meeting rooms: rooms and bookings" may list another record
        keep_name = kept_name(compound.name, head_name, bare.explicit, compound.explicit)
        keep, fold = (bare, compound) if keep_name == head_name else (compound, bare)
        names = {f.name for f in keep.fields}
        keep.fields += [f for f in fold.fields if f.name not in names]
        keep.strength = max(keep.strength, fold.strength)
        keep.position = min(keep.position, fold.position)
        keep.explicit = keep.explicit or fold.explicit
        keep.phrases += fold.phrases
        keep.kinds += fold.kinds
        r.candidates.pop(fold.name)
        for pos, name in list(r.by_position.items()):
            if name == fold.name:
                r.by_position[pos] = keep.name
        r.extra_decisions.append(NounDecision(
            phrase=f"{label(compound.name)} / {head_name}", decision="entity",
            reason=f"the head noun said again after its compound is the same record '{keep.name}'"))
