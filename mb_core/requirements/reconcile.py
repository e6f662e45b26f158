"""Make the spec say what its requirements say: the generator builds from entities, fields,
relations, roles and features, so a requirement that is not in them is not built.

Each step is small and only adds or narrows: a value list becomes the field's choices, a relation
becomes a RelationSpec (turned the right way round), a state machine keeps only the listed moves,
a no-overlap rule becomes scheduling on the booked record, a role gets the actions it was given.
"""

from __future__ import annotations

from mb_core.models import (
    FeatureKind,
    FeatureSpec,
    FieldSpec,
    RelationKind,
    RelationSpec,
    Requirement,
    RequirementKind,
    RuleKind,
    ScaffoldSpec,
)
from mb_core.requirements.catalog import CATALOG


class _Spec:
    def __init__(self, spec: ScaffoldSpec):
        self.entities = {e.name: e.model_copy(deep=True) for e in spec.entities}
        self.order = [e.name for e in spec.entities]
        self.relations = list(spec.relations)
        self.roles = {r.name: r.model_copy(deep=True) for r in spec.roles}
        self.features = {(f.kind, f.entity): f.model_copy(deep=True) for f in spec.features}
        # features a requirement of the text put there (the others are the reader's defaults)
        self.asked: set[tuple[FeatureKind, str]] = set()

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


def reconcile(spec: ScaffoldSpec, requirements: list[Requirement]) -> ScaffoldSpec:
    s = _Spec(spec)
    # a lock fixes rows in states of whichever workflow the other requirements leave: last
    # (sorted is stable: the others keep their order)
    for req in sorted(requirements, key=lambda r: r.rule == RuleKind.edit_lock):
        if req.kind == RequirementKind.relation and req.owner in s.entities and req.other in s.entities:
            kind = (RelationKind.many_to_many if req.cardinality == RelationKind.many_to_many
                    else RelationKind.one_to_many)
            s.relation(req.owner, req.other, kind)
            continue
        if req.entity not in s.entities and not (req.kind == RequirementKind.role
                                                 and req.entity == "*"):
            continue
        rule = CATALOG.get(f"rule:{req.rule.value}" if req.rule else req.kind.value)
        if rule is not None:
            rule.apply(s, req)
    return s.spec(spec)
