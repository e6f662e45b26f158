"""The plan, resolved into what the templates print: columns, features, roles and revisions.

Everything the generated code depends on is decided here, once, as plain data; the templates only
print it. Resolution is strict where a guess would produce wrong code (unknown entities, clashing
names) and fills in the obvious where the plan leaves something out (a workflow's states are the
enum field's choices, an entity no revision creates gets a trailing revision).

This module checks the plan as a whole and puts the parts together; each part is resolved in its
own module: entities and their columns (entities), the migration layout (revisions), roles (roles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mb_core.codegen import naming, rules
from mb_core.codegen.entities import Entity, Link, children_of, resolve_entity, resolve_link, with_links
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.revisions import Revision, resolved_revisions, revision_layout
from mb_core.codegen.roles import Role, grant_workflow_actions, resolve_roles
from mb_core.models import EntitySpec, FeatureKind, FeatureSpec, RelationKind, RelationSpec, ScaffoldPlan
from mb_core.spec.injection import prose_without_injections


@dataclass(frozen=True)
class Blueprint:
    app_name: str
    title: str
    summary: str
    entities: tuple[Entity, ...]
    links: tuple[Link, ...]
    roles: tuple[Role, ...]
    admin_role: str
    revisions: tuple[Revision, ...]
    notes: tuple[str, ...] = field(default=())

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    def creation_order(self) -> tuple[Entity, ...]:
        """Entities with every required parent before its children (what seeding needs)."""
        done: list[Entity] = []
        pending = list(self.entities)
        while pending:
            for ent in pending:
                parents = {c.ref_entity for c in ent.fks if c.required and c.ref_entity != ent.name}
                if parents <= {d.name for d in done}:
                    done.append(ent)
                    pending.remove(ent)
                    break
            else:  # pragma: no cover - cycles are refused in resolve()
                raise PlanNotRenderable("required relations form a cycle")
        return tuple(done)

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)


def resolve(plan: ScaffoldPlan) -> Blueprint:
    """Check the plan and resolve it; raises PlanNotRenderable with the first problem found."""
    naming.check_name(plan.app_name, "app name")
    if not plan.entities:
        raise PlanNotRenderable("the plan has no entities to generate")
    specs = rules.with_value_ranges(plan, _entity_specs(plan))
    relations = _relations(plan, specs)
    features = _features(plan, specs)
    notes: list[str] = []
    revisions, table_rev, column_rev, link_rev = revision_layout(plan, specs, relations, notes)

    entities_wo_links = {
        name: resolve_entity(spec, relations, features.get(name, {}), table_rev, column_rev, specs)
        for name, spec in specs.items()
    }
    links = tuple(
        resolve_link(rel, entities_wo_links, link_rev) for rel in relations if rel.kind == RelationKind.many_to_many
    )
    entities = {
        name: with_links(ent, tuple(link for link in links if link.parent == name), children_of(name, entities_wo_links))
        for name, ent in entities_wo_links.items()
    }
    _check_unique_names(entities, links)
    roles, admin = resolve_roles(plan, specs, notes)
    roles = grant_workflow_actions(roles, admin, entities, notes)
    ordered = tuple(entities[name] for name in specs)
    blueprint = Blueprint(
        app_name=plan.app_name,
        title=prose_without_injections(plan.title) or naming.words(plan.app_name).capitalize(),
        summary=prose_without_injections(plan.summary),
        entities=ordered,
        links=links,
        roles=roles,
        admin_role=admin,
        revisions=(),
        notes=tuple(notes),
    )
    blueprint.creation_order()  # a cycle of required relations fails here, before any rendering
    return Blueprint(**{**blueprint.__dict__, "revisions": resolved_revisions(ordered, links, revisions)})


def _entity_specs(plan: ScaffoldPlan) -> dict[str, EntitySpec]:
    specs: dict[str, EntitySpec] = {}
    tables: set[str] = set()
    for spec in plan.entities:
        naming.check_name(spec.name, "entity")
        naming.check_name(spec.plural, f"plural of entity {spec.name!r}")
        if spec.name in specs:
            raise PlanNotRenderable(f"entity {spec.name!r} appears twice in the plan")
        if spec.plural in tables or spec.plural in naming.RESERVED_TABLES:
            raise PlanNotRenderable(f"table name {spec.plural!r} of entity {spec.name!r} is already taken")
        if spec.plural in naming.RESERVED_PATHS:
            raise PlanNotRenderable(f"path /{spec.plural} of entity {spec.name!r} is reserved by the application")
        seen: set[str] = set()
        for fld in spec.fields:
            naming.check_name(fld.name, f"field of {spec.name!r}")
            if fld.name in seen:
                raise PlanNotRenderable(f"field {fld.name!r} appears twice in entity {spec.name!r}")
            seen.add(fld.name)
        specs[spec.name] = spec
        tables.add(spec.plural)
    return specs


def _relations(plan: ScaffoldPlan, specs: dict[str, EntitySpec]) -> tuple[RelationSpec, ...]:
    found: list[RelationSpec] = []
    keys: set[tuple[str, str, str]] = set()
    for rel in plan.relations:
        for side in (rel.parent, rel.child):
            if side not in specs:
                raise PlanNotRenderable(f"relation {rel.parent} -> {rel.child} names unknown entity {side!r}")
        key = (rel.kind.value, rel.parent, rel.child)
        if key in keys:
            continue  # the same relation twice is one relation
        keys.add(key)
        if rel.kind == RelationKind.many_to_many and rel.parent == rel.child:
            raise PlanNotRenderable(f"many-to-many relation of {rel.parent!r} with itself is not supported")
        found.append(rel)
    return tuple(found)


def _features(plan: ScaffoldPlan, specs: dict[str, EntitySpec]) -> dict[str, dict[FeatureKind, FeatureSpec]]:
    found: dict[str, dict[FeatureKind, FeatureSpec]] = {}
    for feat in plan.features:
        if feat.entity not in specs:
            raise PlanNotRenderable(f"feature {feat.kind.value} names unknown entity {feat.entity!r}")
        found.setdefault(feat.entity, {}).setdefault(feat.kind, feat)
    return found


def _check_unique_names(entities: dict[str, Entity], links: tuple[Link, ...]) -> None:
    tables = [e.table for e in entities.values()] + [link.table for link in links]
    for t in tables:
        if tables.count(t) > 1 or t in naming.RESERVED_TABLES:
            raise PlanNotRenderable(f"table name {t!r} is used twice")
    classes: list[str] = [link.cls for link in links]
    for e in entities.values():
        classes += [e.cls] + [e.cls + s for s in ("Create", "Update", "Read", "Transition", "Assignment")]
    for c in classes:
        if classes.count(c) > 1:
            raise PlanNotRenderable(f"generated class name {c!r} would be defined twice; rename an entity")
    modules = [e.module for e in entities.values()]
    for m in modules:
        if modules.count(m) > 1:
            raise PlanNotRenderable(f"module name {m!r} would be used twice; rename an entity")
    for e in entities.values():
        paths = [link_child_path(entities, link) for link in e.links] + [entities[c.entity].plural for c in e.children]
        if len(set(paths)) != len(paths):
            raise PlanNotRenderable(f"entity {e.name!r} links two entities under the same path")
        actions = [a.name for a in e.workflow.actions] if e.workflow else []
        if set(actions) & set(paths):
            raise PlanNotRenderable(f"workflow action of {e.name!r} clashes with a linked entity's path")


def link_child_path(entities: dict[str, Entity], link: Link) -> str:
    return entities[link.child].plural
