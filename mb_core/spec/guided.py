"""Guided specs: YAML the user writes by hand, validated and turned into a ScaffoldSpec.

    title: Clinic
    entities:
      patient: [name, birthday, phone]            # field names; types inferred
      visit:
        visited_on: date
        notes: {type: text, required: false}
        status: {type: enum, choices: [booked, done]}
    relations:
      - patient has many visits                    # or {parent: patient, child: visit}
      - {parent: visit, child: tag, kind: many_to_many}
    roles:
      admin: ["*"]                                 # actions on every entity
      doctor: {visit: [create, read, update]}
    features:
      - {kind: search, entity: patient}
      - csv_export: visit
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError

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
from mb_core.spec.fields import field_name, infer_field
from mb_core.spec.injection import INJECTION_REASON, find_injections
from mb_core.spec.naming import app_name_from, label, plural, safe_entity_name, singular, snake
from mb_core.spec.reading import MAX_ENTITIES

_KEYS = {"title", "entities", "relations", "roles", "features", "summary", "external_services"}
_RELATION = re.compile(
    r"^\s*(?:each\s+|an?\s+)?(\w[\w ]*?)\s+(has many|have many|belongs to|belong to|"
    r"many[_ -]to[_ -]many)\s+(?:an?\s+|the\s+)?(\w[\w ]*?)\s*$", re.IGNORECASE)


def _bad(problem: str) -> SpecRefused:
    return SpecRefused(f"Guided spec: {problem}")


def _entity(raw: Any) -> str:
    if not isinstance(raw, str) or not snake(raw):
        raise _bad(f"entity name {raw!r} is not a word")
    return safe_entity_name(singular(snake(raw)))


def _field(entity: str, name: Any, value: Any) -> FieldSpec:
    if not isinstance(name, str) or not snake(name):
        raise _bad(f"entity '{entity}': field name {name!r} is not a word")
    fname = field_name(name)
    inferred = infer_field(fname, entity)
    if value is None:
        return inferred
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict):
        raise _bad(f"field '{entity}.{fname}' must be a type name or a mapping, not {value!r}")
    unknown = set(value) - set(FieldSpec.model_fields) - {"type"}
    if unknown:
        raise _bad(f"field '{entity}.{fname}' has unknown keys: {', '.join(sorted(unknown))}")
    data = inferred.model_dump()
    data.update(value)
    data["name"] = fname
    if "type" in value and value["type"] not in {t.value for t in FieldType}:
        raise _bad(f"field '{entity}.{fname}' has unknown type {value['type']!r} (use one of "
                   f"{', '.join(t.value for t in FieldType)})")
    if "type" in value and value["type"] != inferred.type.value and "choices" not in value:
        data["choices"] = []
        data["default"] = value.get("default")
    if "default" not in value and data.get("choices") and data.get("default") not in data["choices"]:
        data["default"] = None  # a default guessed from the name must be one of the listed values
    if data.get("type") == "enum" and not data.get("choices"):
        raise _bad(f"enum field '{entity}.{fname}' needs choices")
    try:
        return FieldSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _bad(f"field '{entity}.{fname}': {first['loc'][0]}: {first['msg']}") from None


def _fields(entity: str, raw: Any) -> list[FieldSpec]:
    if raw is None:
        return []
    if isinstance(raw, list):
        items = []
        for item in raw:
            if isinstance(item, dict) and len(item) == 1:
                items.append(next(iter(item.items())))
            else:
                items.append((item, None))
    elif isinstance(raw, dict):
        items = list(raw.items())
    else:
        raise _bad(f"entity '{entity}' must list its fields (a list or a mapping), not {raw!r}")
    fields = [_field(entity, name, value) for name, value in items]
    names = [f.name for f in fields]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise _bad(f"entity '{entity}' repeats field(s) {', '.join(sorted(duplicates))}")
    return fields


def _relations(raw: Any, names: set[str]) -> list[RelationSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("relations must be a list")
    out = []
    for item in raw:
        if isinstance(item, str):
            m = _RELATION.match(item)
            if not m:
                raise _bad(f"relation {item!r} is not 'A has many B', 'B belongs to A' or "
                           "'A many_to_many B'")
            a, verb, b = _entity(m.group(1)), m.group(2).lower(), _entity(m.group(3))
            if verb.startswith("belong"):
                item = {"parent": b, "child": a}
            elif verb.startswith("many"):
                item = {"parent": a, "child": b, "kind": "many_to_many"}
            else:
                item = {"parent": a, "child": b}
        if not isinstance(item, dict) or not {"parent", "child"} <= set(item):
            raise _bad(f"relation {item!r} needs parent and child")
        kind = item.get("kind", "one_to_many")
        if kind not in {k.value for k in RelationKind}:
            raise _bad(f"relation kind {kind!r} is not one_to_many or many_to_many")
        parent, child = _entity(item["parent"]), _entity(item["child"])
        for end in (parent, child):
            if end not in names:
                raise _bad(f"relation names unknown entity '{end}'")
        out.append(RelationSpec(kind=RelationKind(kind), parent=parent, child=child,
                                required=bool(item.get("required", False))))
    return out


def _actions(role: str, raw: Any) -> list[Action]:
    if raw in ("*", "all") or raw == ["*"]:
        return list(Action)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise _bad(f"role '{role}': actions must be a list, not {raw!r}")
    try:
        return [Action(a) for a in raw]
    except ValueError:
        raise _bad(f"role '{role}': actions must be among create, read, update, delete "
                   f"(got {raw!r})") from None


def _roles(raw: Any, names: set[str]) -> list[RoleSpec]:
    if raw is None:
        return []
    if isinstance(raw, list):
        raw = {r: ["read"] if r != "admin" else "*" for r in raw}
    if not isinstance(raw, dict):
        raise _bad("roles must be a mapping of role -> actions")
    out = []
    for name, perms in raw.items():
        role = snake(str(name))
        if not role:
            raise _bad(f"role name {name!r} is not a word")
        if isinstance(perms, dict):
            permissions = {}
            for entity, actions in perms.items():
                target = "*" if entity == "*" else _entity(entity)
                if target != "*" and target not in names:
                    raise _bad(f"role '{role}' names unknown entity '{target}'")
                permissions[target] = _actions(role, actions)
        else:
            permissions = {"*": _actions(role, perms)}
        out.append(RoleSpec(name=role, permissions=permissions, description="from the guided spec"))
    return out


def _features(raw: Any, names: set[str]) -> list[FeatureSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("features must be a list")
    out = []
    for item in raw:
        if isinstance(item, dict) and "kind" not in item and len(item) == 1:
            kind, target = next(iter(item.items()))
            targets = target if isinstance(target, list) else [target]
            item = [{"kind": kind, "entity": t} for t in targets]
        for one in item if isinstance(item, list) else [item]:
            if not isinstance(one, dict) or "kind" not in one or "entity" not in one:
                raise _bad(f"feature {one!r} needs kind and entity")
            if one["kind"] not in {k.value for k in FeatureKind}:
                raise _bad(f"feature kind {one['kind']!r} is not one of "
                           f"{', '.join(k.value for k in FeatureKind)}")
            entity = _entity(one["entity"])
            if entity not in names:
                raise _bad(f"feature {one['kind']} names unknown entity '{entity}'")
            options = one.get("options") or {}
            if not isinstance(options, dict):
                raise _bad(f"feature {one['kind']} options must be a mapping")
            out.append(FeatureSpec(kind=FeatureKind(one["kind"]), entity=entity, options=options))
    return out


def read_guided(text: str) -> ScaffoldSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise _bad(f"invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise _bad("the YAML must be a mapping with title and entities")
    unknown = set(data) - _KEYS
    if unknown:
        raise _bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; expected "
                   f"{', '.join(sorted(_KEYS))}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _bad("title is missing or not text")
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, dict) or not raw_entities:
        raise _bad("entities must be a non-empty mapping of entity -> fields")
    if len(raw_entities) > MAX_ENTITIES:
        raise _bad(f"{len(raw_entities)} entities is over the limit of {MAX_ENTITIES}")
    injections = find_injections(text)
    if injections:
        raise _bad(f"{INJECTION_REASON} ({injections[0].kind}) in '{injections[0].excerpt}': "
                   "remove it; the spec is data, not instructions")
    entities = []
    for raw_name, raw_fields in raw_entities.items():
        name = _entity(raw_name)
        if name in {e.name for e in entities}:
            raise _bad(f"entity '{name}' is given twice")
        fields = _fields(name, raw_fields)
        entities.append(EntitySpec(name=name, plural=plural(name), label=label(name),
                                   fields=fields, description="from the guided spec"))
    names = {e.name for e in entities}
    decisions = [NounDecision(phrase=str(raw), decision="entity",
                              reason="listed under entities in the guided spec")
                 for raw in raw_entities]
    services = data.get("external_services") or []
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise _bad("external_services must be a list of names")
    return ScaffoldSpec(
        mode=SpecMode.guided, text=text, title=title.strip(), app_name=app_name_from(title),
        summary=str(data.get("summary") or title).strip(), entities=entities,
        relations=_relations(data.get("relations"), names), roles=_roles(data.get("roles"), names),
        features=_features(data.get("features"), names), decisions=decisions,
        external_services=services)
