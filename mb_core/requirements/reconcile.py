"""Make the spec say what its requirements say: the generator builds from entities, fields,
relations, roles and features, so a requirement that is not in them is not built.

Each step is small and only adds or narrows: a value list becomes the field's choices, a relation
becomes a RelationSpec (turned the right way round), a state machine keeps only the listed moves,
a no-overlap rule becomes scheduling on the booked record, a role gets the actions it was given.
"""

from __future__ import annotations

from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.naming import check_name
from mb_core.models import (
    Action,
    FeatureKind,
    FeatureSpec,
    FieldSpec,
    FieldType,
    RelationKind,
    RelationSpec,
    Requirement,
    RequirementKind,
    RoleSpec,
    RuleKind,
    ScaffoldSpec,
)
from mb_core.spec.fields import infer_field

MAX_NAME = 40


def _usable(name: str | None) -> bool:
    if not name or len(name) > MAX_NAME:
        return False
    try:
        check_name(name, "field")
    except PlanNotRenderable:
        return False
    return True


class _Spec:
    def __init__(self, spec: ScaffoldSpec):
        self.entities = {e.name: e.model_copy(deep=True) for e in spec.entities}
        self.order = [e.name for e in spec.entities]
        self.relations = list(spec.relations)
        self.roles = {r.name: r.model_copy(deep=True) for r in spec.roles}
        self.features = {(f.kind, f.entity): f.model_copy(deep=True) for f in spec.features}

    def field(self, entity: str, name: str) -> FieldSpec | None:
        e = self.entities.get(entity)
        return next((f for f in e.fields if f.name == name), None) if e else None

    def put_field(self, entity: str, new: FieldSpec) -> None:
        e = self.entities[entity]
        fields = [new if f.name == new.name else f for f in e.fields]
        if all(f.name != new.name for f in e.fields):
            fields.append(new)
        self.entities[entity] = e.model_copy(update={"fields": fields})

    def feature(self, kind: FeatureKind, entity: str, **options) -> None:
        current = self.features.get((kind, entity))
        merged = {**(current.options if current else {}), **{k: v for k, v in options.items()
                                                             if v is not None}}
        self.features[(kind, entity)] = FeatureSpec(kind=kind, entity=entity, options=merged)

    def relation(self, parent: str, child: str, kind: RelationKind) -> None:
        """Add it, or turn the one between the same two entities round, in its place (the order
        of relations is the order of migrations: an existing one must not move)."""
        wanted = RelationSpec(kind=kind, parent=parent, child=child)
        for i, r in enumerate(self.relations):
            if {r.parent, r.child} == {parent, child}:
                if (r.parent, r.child, r.kind) != (parent, child, kind):
                    self.relations[i] = wanted
                return
        self.relations.append(wanted)

    def spec(self, base: ScaffoldSpec) -> ScaffoldSpec:
        return base.model_copy(update={
            "entities": [self.entities[n] for n in self.order],
            "relations": self.relations, "roles": list(self.roles.values()),
            "features": list(self.features.values())})


_DATED = (FieldType.date, FieldType.datetime)


def _rule_options(s: _Spec, req: Requirement) -> dict | None:
    """The generator's options for a capacity, date-order or overdue rule, or None when the spec
    cannot carry it (the trace then says the rule is not implemented, and why)."""
    entity = req.entity
    if req.rule == RuleKind.capacity:
        container = req.params.get("container")
        if container not in s.entities or container == entity:
            return None  # a limit on rows of nothing: no parent to count them under
        if not any(r.parent == container and r.child == entity and r.kind == RelationKind.one_to_many
                   for r in s.relations):
            s.relation(container, entity, RelationKind.one_to_many)
        limit = req.params.get("limit")
        if isinstance(limit, int) and limit > 0:
            return {"parent": container, "limit": limit}
        current = s.field(container, "capacity")
        if current is not None and current.type != FieldType.integer:
            return None
        if current is None:
            s.put_field(container, FieldSpec(name="capacity", type=FieldType.integer, required=True,
                                             min_value=1, description="how many it takes"))
        return {"parent": container, "limit_field": "capacity"}
    if req.rule == RuleKind.date_order:
        start, end = req.params.get("earlier"), req.params.get("later")
        if not _usable(start) or not _usable(end) or start == end:
            return None
        kinds = {f.type for f in (s.field(entity, start), s.field(entity, end)) if f is not None}
        if not kinds <= set(_DATED) or len(kinds) > 1:
            return None  # the generator orders two dates (or two times), nothing else
        return {"start": start, "end": end}
    if req.rule == RuleKind.due_overdue:
        due = next((f.name for f in s.entities[entity].fields if f.type in _DATED
                    and (f.name.startswith("due") or f.name.endswith("due_date"))), None)
        return {"due": due} if due else {}
    return None


def reconcile(spec: ScaffoldSpec, requirements: list[Requirement]) -> ScaffoldSpec:
    s = _Spec(spec)
    for req in requirements:
        entity = req.entity
        if req.kind == RequirementKind.relation and req.owner in s.entities and req.other in s.entities:
            if req.cardinality == RelationKind.many_to_many:
                s.relation(req.owner, req.other, RelationKind.many_to_many)
            else:
                s.relation(req.owner, req.other, RelationKind.one_to_many)
            continue
        if entity not in s.entities:
            continue
        if req.kind == RequirementKind.value_list and _usable(req.field):
            current = s.field(entity, req.field)
            s.put_field(entity, (current or FieldSpec(name=req.field)).model_copy(update={
                "type": FieldType.enum, "choices": list(req.values), "default": req.values[0],
                "max_length": None, "description": "allowed values as the text lists them"}))
        elif req.kind == RequirementKind.rule and req.rule == RuleKind.state_machine:
            field = req.field or "status"
            if not _usable(field):
                continue
            current = s.field(entity, field)
            states = list(dict.fromkeys([*req.values, *(current.choices if current and
                                                         current.type == FieldType.enum else [])]))
            s.put_field(entity, (current or FieldSpec(name=field)).model_copy(update={
                "type": FieldType.enum, "choices": states, "default": req.values[0],
                "max_length": None}))
            transitions = {state: list(req.params.get("transitions", {}).get(state, []))
                           for state in states}
            s.feature(FeatureKind.status_workflow, entity, field=field, states=states,
                      transitions=transitions, initial=req.values[0])
        elif req.kind == RequirementKind.rule and req.rule == RuleKind.uniqueness and _usable(req.field):
            current = s.field(entity, req.field) or infer_field(req.field, entity)
            s.put_field(entity, current.model_copy(update={"unique": True, "required": True}))
        elif req.kind == RequirementKind.rule and req.rule == RuleKind.value_range and _usable(req.field):
            current = s.field(entity, req.field)
            if current is None:
                current = FieldSpec(name=req.field, type=FieldType.integer)
            if current.type not in (FieldType.integer, FieldType.decimal):
                current = current.model_copy(update={"type": FieldType.decimal, "max_length": None,
                                                     "choices": []})
            s.put_field(entity, current.model_copy(update={
                "min_value": req.params.get("min"), "max_value": req.params.get("max")}))
            s.feature(FeatureKind.value_range, entity, field=req.field, min=req.params.get("min"),
                      max=req.params.get("max"))
        elif req.kind == RequirementKind.rule and req.rule == RuleKind.no_overlap:
            resource = req.params.get("resource")
            if resource in s.entities and resource != entity and not any(
                    {r.parent, r.child} == {resource, entity} for r in s.relations):
                s.relation(resource, entity, RelationKind.one_to_many)
            s.feature(FeatureKind.scheduling, entity, start="starts_at", end="ends_at",
                      resource=f"{resource}_id" if resource in s.entities else None)
        elif req.kind == RequirementKind.rule and req.rule in (RuleKind.capacity, RuleKind.date_order,
                                                               RuleKind.due_overdue):
            options = _rule_options(s, req)
            if options is not None:
                s.feature(FeatureKind(req.rule.value), entity, **options)
        elif req.kind == RequirementKind.report and not req.params.get("ui"):
            group = req.params.get("group_by")
            field = s.field(entity, group) if group else None
            options = {"per": group} if group in s.entities else {}
            if field is not None and field.type in (FieldType.enum, FieldType.boolean):
                options = {"group_by": group}
            s.feature(FeatureKind.reports, entity, **options)
        elif req.kind == RequirementKind.export and req.params.get("format", "csv") == "csv":
            s.feature(FeatureKind.csv_export, entity)
        elif req.kind == RequirementKind.search_filter:
            s.feature(FeatureKind.search, entity)
            for name in req.params.get("fields", []):
                current = s.field(entity, name)
                if current is not None:
                    s.put_field(entity, current.model_copy(update={"searchable": True}))
        elif req.kind == RequirementKind.role and req.role and _usable(req.role):
            role = s.roles.get(req.role) or RoleSpec(name=req.role, permissions={"*": [Action.read]},
                                                     description="named in the spec")
            perms = dict(role.permissions)
            granted = set(perms.get(entity, [])) | set(req.actions) | {Action.read}
            perms[entity] = sorted(granted, key=list(Action).index)
            s.roles[req.role] = role.model_copy(update={"permissions": perms})
        elif req.kind == RequirementKind.workflow:
            action = req.params.get("action")
            if action == "assign":
                s.feature(FeatureKind.assignment, entity, field="assignee")
            elif action in {"approve_reject", "check_in_out", "borrow_return"}:
                _workflow_states(s, entity, action)
    return s.spec(spec)


_WORKFLOW_STATES = {
    "approve_reject": (["pending", "approved", "rejected"], {"pending": ["approved", "rejected"]}),
    "check_in_out": (["checked_in", "checked_out"], {"checked_in": ["checked_out"],
                                                     "checked_out": ["checked_in"]}),
    "borrow_return": (["borrowed", "returned"], {"borrowed": ["returned"]}),
}


def _workflow_states(s: _Spec, entity: str, action: str) -> None:
    """approve/reject, check in/out, borrow/return: a status with exactly those moves, unless
    the entity already has a workflow that holds the states."""
    states, moves = _WORKFLOW_STATES[action]
    current = s.features.get((FeatureKind.status_workflow, entity))
    if current and set(states) <= set(current.options.get("states", [])):
        return
    field = "status"
    existing = s.field(entity, field)
    if current is not None or (existing is not None and existing.type == FieldType.enum
                               and not set(states) <= set(existing.choices)):
        field = f"{action.split('_')[0]}_status"
    s.put_field(entity, FieldSpec(name=field, type=FieldType.enum, choices=states, default=states[0],
                                  description=f"{action.replace('_', '/')} as the text asks"))
    s.feature(FeatureKind.status_workflow, entity, field=field, states=states,
              transitions={x: moves.get(x, []) for x in states}, initial=states[0])

