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

from mb_core.errors import SpecRefused
from mb_core.models import (
    EntitySpec,
    FeatureSpec,
    NounDecision,
    RelationSpec,
    RoleSpec,
    ScaffoldSpec,
    SpecMode,
)
from mb_core.spec.entities import (
    _attach_orphan_fields,
    _drop_listed_values,
    _finish_entities,
    _fold_heads_said_again,
    _merge_distributed,
    _read_state_flows,
)
from mb_core.spec.fields import flatten_field_lists
from mb_core.spec.flags import blank_clauses, with_yes_no_fields, yes_no_clauses
from mb_core.spec.injection import (
    INJECTION_REASON,
    find_injections,
    prose_without_injections,
    without_injections,
)
from mb_core.spec.judging import _judge_phrases
from mb_core.spec.languages import translate_if_foreign
from mb_core.spec.layout import plain_layout
from mb_core.spec.lines import bullets_as_sentences
from mb_core.spec.links import _features, _relations, _roles
from mb_core.spec.naming import app_name_from, label
from mb_core.spec.noun_rules import _title_case, drop_reason, entity_name, is_person, strip_heads
from mb_core.spec.phrases import noun_phrases
from mb_core.spec.reading_state import MAX_ENTITIES, MAX_FIELDS, PROVIDER_HINT, Reading
from mb_core.spec.related import promote_linked_nouns
from mb_core.spec.services import find_services

# what other modules import from the reader
__all__ = ["MAX_ENTITIES", "MAX_FIELDS", "PROVIDER_HINT", "drop_reason", "entity_name",
           "read_freeform"]


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
    english = bullets_as_sentences(plain_layout(english))
    if language_note:
        reading.extra_decisions.append(NounDecision(
            phrase=language_note[0], decision="dropped", reason=language_note[1]))
    reading.services, reading.refused_services = find_services(english)
    for service in reading.refused_services:
        reading.extra_decisions.append(NounDecision(
            phrase=service, decision="dropped", reason="the text rules this service out"))
    english = flatten_field_lists(english, whole_items=True)
    flags = yes_no_clauses(english)
    reading.english = english = blank_clauses(english, flags)
    reading.phrases = noun_phrases(english)
    _judge_phrases(reading)
    _drop_listed_values(reading)
    _merge_distributed(reading)
    _attach_orphan_fields(reading)
    _read_state_flows(reading)
    _fold_heads_said_again(reading)
    promote_linked_nouns(reading)
    entities = with_yes_no_fields(_finish_entities(reading), english, flags)
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
