"""Relations, features and roles read from the judged phrases."""

from __future__ import annotations

from mb_core.models import (
    Action,
    EntitySpec,
    FeatureKind,
    FeatureSpec,
    FieldType,
    RelationKind,
    RelationSpec,
    RoleSpec,
)
from mb_core.spec.noun_rules import action_set, is_person
from mb_core.spec.phrases import tokenize, verb_lemma
from mb_core.spec.reading_state import _LINK_WORDS, _SHARED_LABELS, Reading
from mb_core.spec.vocabulary import table, words


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
    # (a party kept only because records are linked to it is not what the text is about)
    primary = next((e.name for e in entities if e.name not in words("record_entities")
                    and e.name.split("_")[-1] not in words("record_entities")
                    and e.name not in r.linked), None)
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
