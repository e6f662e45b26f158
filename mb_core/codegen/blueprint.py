"""The plan, resolved into what the templates print: columns, features, roles and revisions.

Everything the generated code depends on is decided here, once, as plain data; the templates only
print it. Resolution is strict where a guess would produce wrong code (unknown entities, clashing
names) and fills in the obvious where the plan leaves something out (a workflow's states are the
enum field's choices, an entity no revision creates gets a trailing revision).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mb_core.codegen import naming, rules
from mb_core.codegen.columns import ACTIONS, DEFAULT_LENGTH, STRING_KINDS, Column
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.rules import Capacity, DateOrder, Overdue, Report, Schedule, Workflow, WorkflowAction
from mb_core.models import (
    EntitySpec,
    FeatureKind,
    FeatureSpec,
    FieldSpec,
    MigrationRevision,
    RelationKind,
    RelationSpec,
    ScaffoldPlan,
)
from mb_core.spec.injection import prose_without_injections

# Re-exported: the renderer and the tests read these from the blueprint.
__all__ = ["ACTIONS", "Blueprint", "Capacity", "Child", "Column", "DateOrder", "Entity", "Link", "Overdue", "Report",
           "Role", "Schedule", "Workflow", "WorkflowAction", "resolve"]


@dataclass(frozen=True)
class Child:
    """A one-to-many child: `GET /{parent plural}/{id}/{child plural}` lists it."""

    entity: str
    column: str
    required: bool


@dataclass(frozen=True)
class Link:
    table: str
    cls: str
    parent: str
    child: str
    parent_column: str
    child_column: str
    revision: str


@dataclass(frozen=True)
class Entity:
    name: str
    plural: str
    label: str
    description: str
    cls: str
    module: str
    table: str
    columns: tuple[Column, ...]
    revision: str
    workflow: Workflow | None = None
    assignment: Column | None = None
    schedule: Schedule | None = None
    report: Report | None = None
    csv_export: bool = False
    search: bool = False
    links: tuple[Link, ...] = ()  # many-to-many links this entity is the parent side of
    capacity: Capacity | None = None
    date_order: DateOrder | None = None
    overdue: Overdue | None = None
    value_range: bool = False  # the plan asked for a range rule explicitly
    children: tuple[Child, ...] = ()  # one-to-many children, listed under this entity's rows

    @property
    def path(self) -> str:
        return f"/{self.plural}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def fks(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "fk")

    @property
    def searchable(self) -> tuple[Column, ...]:
        marked = tuple(c for c in self.columns if c.searchable and c.is_text)
        return marked or tuple(c for c in self.columns if c.kind in ("string", "text", "email"))

    @property
    def filters(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.filterable and c.name not in ("limit", "offset", "q"))

    @property
    def ranged(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.in_create and (c.min_value is not None or c.max_value is not None))

    @property
    def unique_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.unique)

    @property
    def pii(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    @property
    def features(self) -> tuple[str, ...]:
        found = []
        if self.search:
            found.append("search")
        if self.workflow:
            found.append("status_workflow")
        if self.assignment:
            found.append("assignment")
        if self.schedule:
            found.append("scheduling")
        if self.report:
            found.append("reports")
        if self.csv_export:
            found.append("csv_export")
        if self.capacity:
            found.append("capacity")
        if self.date_order:
            found.append("date_order")
        if self.ranged:
            found.append("value_range")
        if self.overdue:
            found.append("due_overdue")
        return tuple(found)


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[tuple[str, tuple[str, ...]], ...]  # entity or "*" -> actions

    def allows(self, entity: str, action: str) -> bool:
        granted = dict(self.permissions)
        return action in granted.get(entity, ()) or action in granted.get("*", ())


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str
    slug: str
    creates_audit: bool
    tables: tuple[Entity, ...]
    added: tuple[tuple[Entity, tuple[Column, ...]], ...]
    links: tuple[Link, ...]

    @property
    def filename(self) -> str:
        return f"migrations/versions/{self.revision}_{self.slug}.py"


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


# ---------------------------------------------------------------------------------------------


def resolve(plan: ScaffoldPlan) -> Blueprint:
    """Check the plan and resolve it; raises PlanNotRenderable with the first problem found."""
    naming.check_name(plan.app_name, "app name")
    if not plan.entities:
        raise PlanNotRenderable("the plan has no entities to generate")
    specs = rules.with_value_ranges(plan, _entity_specs(plan))
    relations = _relations(plan, specs)
    features = _features(plan, specs)
    notes: list[str] = []
    revisions, table_rev, column_rev, link_rev = _revision_layout(plan, specs, relations, notes)

    entities_wo_links = {
        name: _entity(spec, relations, features.get(name, {}), table_rev, column_rev, specs)
        for name, spec in specs.items()
    }
    links = tuple(
        _link(rel, entities_wo_links, link_rev) for rel in relations if rel.kind == RelationKind.many_to_many
    )
    entities = {
        name: _with_links(ent, tuple(link for link in links if link.parent == name), _children(name, entities_wo_links))
        for name, ent in entities_wo_links.items()
    }
    _check_unique_names(entities, links)
    roles, admin = _roles(plan, specs, notes)
    roles = _grant_workflow_actions(roles, admin, entities, notes)
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
    return _with_revisions(blueprint, revisions)


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


# --- migrations ------------------------------------------------------------------------------


def _link_candidates(rel: RelationSpec, specs: dict[str, EntitySpec]) -> list[str]:
    p, c = specs[rel.parent], specs[rel.child]
    return [
        f"{p.name}_{c.name}", f"{p.plural}_{c.plural}", f"{c.name}_{p.name}", f"{c.plural}_{p.plural}",
        f"{p.name}_{c.name}_links", f"{p.name}_{c.name}_link", f"{p.plural}_{c.plural}_links",
    ]


def link_table_name(rel: RelationSpec) -> str:
    """The association table's name when the plan's migrations do not name it."""
    return f"{rel.parent}_{rel.child}"


def _revision_layout(plan, specs, relations, notes):
    """Which revision creates each table, column and link table.

    A column belongs to the revision that lists it, else to the revision that could first hold it
    (the later of its table's and, for a foreign key, its parent table's). An earlier revision's file
    is therefore a function of the earlier plan only, which keeps it byte-identical across builds.
    """
    revisions = list(plan.migrations)
    ids: list[str] = []
    for rev in revisions:
        if not re.match(r"^[0-9a-z_]{1,32}$", rev.revision):
            raise PlanNotRenderable(f"migration revision {rev.revision!r} is not a short lowercase id")
        if rev.revision in ids:
            raise PlanNotRenderable(f"migration revision {rev.revision!r} appears twice")
        ids.append(rev.revision)

    table_rev: dict[str, str] = {}
    for rev in revisions:
        for table in rev.tables:
            name = table if table in specs else next((s.name for s in specs.values() if s.plural == table), None)
            if name is None:
                raise PlanNotRenderable(f"migration {rev.revision} creates unknown entity {table!r}")
            if name in table_rev:
                raise PlanNotRenderable(f"entity {name!r} is created by two migrations")
            table_rev[name] = rev.revision

    m2m = [r for r in relations if r.kind == RelationKind.many_to_many]
    link_rev: dict[tuple[str, str], tuple[str, str]] = {}  # (parent, child) -> (table, revision)
    for rev in revisions:
        for link_name in rev.link_tables:
            rel = next((r for r in m2m if link_name in _link_candidates(r, specs)), None)
            if rel is None:
                raise PlanNotRenderable(
                    f"migration {rev.revision} creates link table {link_name!r} that matches no many-to-many relation"
                )
            link_rev.setdefault((rel.parent, rel.child), (link_name, rev.revision))

    missing = [name for name in specs if name not in table_rev]
    if missing:
        next_id = _next_revision_id(ids)
        message = "create " + ", ".join(specs[m].plural for m in missing)
        if revisions:
            notes.append(f"plan.migrations created no table for {', '.join(missing)}: added revision {next_id}")
        revisions.append(MigrationRevision(revision=next_id, message=message, tables=missing))
        ids.append(next_id)
        for name in missing:
            table_rev[name] = next_id

    column_rev: dict[tuple[str, str], str] = {}
    for rev in revisions:
        for ent, cols in rev.columns.items():
            name = ent if ent in specs else next((s.name for s in specs.values() if s.plural == ent), None)
            if name is None:
                raise PlanNotRenderable(f"migration {rev.revision} adds columns to unknown entity {ent!r}")
            for col in cols:
                if col not in naming.BASE_COLUMNS:
                    column_rev.setdefault((name, col), rev.revision)

    order = {rid: i for i, rid in enumerate(ids)}

    def later(*rids: str) -> str:
        return max(rids, key=order.__getitem__)

    for rel in m2m:
        key = (rel.parent, rel.child)
        if key not in link_rev:
            link_rev[key] = (link_table_name(rel), later(table_rev[rel.parent], table_rev[rel.child]))
    for (ent, col), rid in list(column_rev.items()):
        if order[rid] < order[table_rev[ent]]:
            raise PlanNotRenderable(f"migration {rid} adds column {ent}.{col} before the table exists")
    return revisions, table_rev, (column_rev, later), link_rev


def _next_revision_id(ids: list[str]) -> str:
    numbers = [int(i) for i in ids if i.isdigit()]
    return f"{(max(numbers) + 1) if numbers else 1:04d}"


def _slug(message: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    return (slug[:40].rstrip("_")) or "revision"


def _with_revisions(bp: Blueprint, revisions: list[MigrationRevision]) -> Blueprint:
    resolved: list[Revision] = []
    previous: str | None = None
    for i, rev in enumerate(revisions):
        rid = rev.revision
        tables = tuple(e for e in bp.entities if e.revision == rid)
        added = tuple(
            (e, cols)
            for e in bp.entities
            if e.revision != rid
            for cols in [tuple(c for c in e.columns if c.revision == rid)]
            if cols
        )
        links = tuple(link for link in bp.links if link.revision == rid)
        resolved.append(
            Revision(
                revision=rid,
                down_revision=previous,
                message=rev.message or f"revision {rid}",
                slug=_slug(rev.message or rid),
                creates_audit=i == 0,
                tables=tables,
                added=added,
                links=links,
            )
        )
        previous = rid
    return Blueprint(**{**bp.__dict__, "revisions": tuple(resolved)})


# --- entities --------------------------------------------------------------------------------


def _parse_default(fld: FieldSpec, kind: str, choices: tuple[str, ...]) -> tuple[bool, Any]:
    if fld.default is None:
        return False, None
    raw = fld.default
    where = f"default {raw!r} of field {fld.name!r}"
    try:
        if kind == "integer":
            return True, int(raw)
        if kind == "decimal":
            return True, Decimal(raw)
        if kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return True, raw.lower() in ("true", "1", "yes")
        if kind == "date":
            return True, date.fromisoformat(raw)
        if kind == "datetime":
            return False, None  # "now"-like defaults belong to the caller, not to a constant
        if kind == "enum" and raw not in choices:
            raise PlanNotRenderable(f"{where} is not one of its choices")
    except (ValueError, InvalidOperation) as exc:
        raise PlanNotRenderable(f"{where} does not fit type {kind}") from exc
    return True, raw


def _field_column(fld: FieldSpec, entity: str, revision: str, added_later: bool) -> Column:
    kind = fld.type.value
    choices = tuple(dict.fromkeys(fld.choices))
    if kind == "enum" and not choices:
        kind = "string"  # an enum without choices cannot be validated; it is a plain string
    max_length = fld.max_length
    if kind in DEFAULT_LENGTH and not max_length:
        max_length = DEFAULT_LENGTH[kind]
    if kind == "enum":
        max_length = max(32, max(len(c) for c in choices))
    if max_length is not None and max_length < 1:
        raise PlanNotRenderable(f"field {entity}.{fld.name} has max_length below 1")
    if fld.min_value is not None and fld.max_value is not None and fld.min_value > fld.max_value:
        raise PlanNotRenderable(f"field {entity}.{fld.name} has min_value above max_value")
    if kind == "email" and max_length < 12:
        raise PlanNotRenderable(f"email field {entity}.{fld.name} needs max_length of at least 12")
    has_default, default = _parse_default(fld, kind, choices)
    return Column(
        name=fld.name,
        attr=naming.attr_name(fld.name),
        param=naming.param_name(fld.name),
        kind=kind,
        label=naming.words(fld.name),
        required=fld.required and not has_default,
        nullable=not fld.required or added_later,
        revision=revision,
        unique=fld.unique,
        pii=fld.pii,
        searchable=fld.searchable,
        max_length=max_length if kind in STRING_KINDS or kind == "enum" else None,
        min_value=fld.min_value if kind in ("integer", "decimal") else None,
        max_value=fld.max_value if kind in ("integer", "decimal") else None,
        choices=choices if kind == "enum" else (),
        default=default,
        has_default=has_default,
        description=fld.description,
    )


def _entity(spec, relations, features, table_rev, column_rev, specs) -> Entity:
    col_revs, later = column_rev
    own_rev = table_rev[spec.name]

    def rev_of(col: str, natural: str) -> str:
        return col_revs.get((spec.name, col), natural)

    columns: list[Column] = []
    taken = set(naming.BASE_COLUMNS)

    fk_names = {f"{r.parent}_id" for r in relations if r.kind == RelationKind.one_to_many and r.child == spec.name}
    for fld in spec.fields:
        if fld.name in taken or fld.name in fk_names:
            continue  # the base column or the relation's foreign key is this field
        rid = rev_of(fld.name, own_rev)
        columns.append(_field_column(fld, spec.name, rid, rid != own_rev))
        taken.add(fld.name)

    for rel in relations:
        if rel.kind != RelationKind.one_to_many or rel.child != spec.name:
            continue
        name = f"{rel.parent}_id"
        if name in taken:
            continue
        rid = rev_of(name, later(own_rev, table_rev[rel.parent]))
        # A row cannot require a parent of its own kind (the first row would have none).
        required = rel.required and rel.parent != spec.name
        columns.append(
            Column(
                name=name, attr=naming.attr_name(name), param=naming.param_name(name), kind="fk",
                label=naming.words(rel.parent), required=required,
                nullable=not required or rid != own_rev, revision=rid,
                ref_entity=rel.parent, ref_table=specs[rel.parent].plural, ondelete="RESTRICT" if required else "SET NULL",
            )
        )
        taken.add(name)

    workflow = schedule = report = None
    assignment = None

    def extra(name: str, kind: str, required: bool, **kw) -> Column:
        rid = rev_of(name, own_rev)
        col = Column(
            name=name, attr=naming.attr_name(name), param=naming.param_name(name), kind=kind,
            label=naming.words(name), required=required, nullable=not required or rid != own_rev,
            revision=rid, **kw,
        )
        columns.append(col)
        taken.add(name)
        return col

    if FeatureKind.status_workflow in features:
        opts = features[FeatureKind.status_workflow].options
        workflow = rules.workflow(spec, opts, columns, extra)
        columns[:] = [
            # Always set (to the initial state, then by transitions), so NOT NULL unless added later.
            _replace(c, in_create=False, in_update=False, required=False, nullable=c.revision != own_rev)
            if c.name == workflow.column.name
            else c
            for c in columns
        ]
        workflow = Workflow(
            column=next(c for c in columns if c.name == workflow.column.name),
            states=workflow.states, transitions=workflow.transitions, initial=workflow.initial,
            actions=workflow.actions, locked=workflow.locked,
        )
    if FeatureKind.assignment in features:
        name = str(features[FeatureKind.assignment].options.get("field") or "assignee_id")
        naming.check_name(name, f"assignment field of {spec.name!r}")
        found = next((c for c in columns if c.name == name), None)
        if found is None:
            found = extra(name, "assignee", False, max_length=64, in_create=False, in_update=False)
        elif not found.is_text:
            raise PlanNotRenderable(f"assignment field {spec.name}.{name} must hold a user id (a string)")
        assignment = found
    if FeatureKind.scheduling in features:
        schedule = rules.schedule(spec, features[FeatureKind.scheduling].options, columns, extra)
    if FeatureKind.reports in features:
        report = rules.report(spec, features[FeatureKind.reports].options, columns)
    capacity = date_order = overdue = None
    if FeatureKind.capacity in features:
        capacity = rules.capacity(spec, features[FeatureKind.capacity].options, columns, specs)
    if FeatureKind.date_order in features:
        date_order = rules.date_order(spec, features[FeatureKind.date_order].options, columns, extra)
    if FeatureKind.due_overdue in features:
        overdue = rules.overdue(spec, features[FeatureKind.due_overdue].options, columns, extra, workflow)

    table = spec.plural
    return Entity(
        name=spec.name,
        plural=spec.plural,
        label=spec.label or naming.words(spec.name).capitalize(),
        description=spec.description,
        cls=naming.class_name(spec.name),
        module=naming.module_name(spec.name),
        table=table,
        columns=tuple(columns),
        revision=own_rev,
        workflow=workflow,
        assignment=assignment,
        schedule=schedule,
        report=report,
        csv_export=FeatureKind.csv_export in features,
        search=FeatureKind.search in features,
        capacity=capacity,
        date_order=date_order,
        overdue=overdue,
        value_range=FeatureKind.value_range in features,
    )


def _replace(col: Column, **changes) -> Column:
    return Column(**{**col.__dict__, **changes})


def _link(rel: RelationSpec, entities: dict[str, Entity], link_rev) -> Link:
    table, rid = link_rev[(rel.parent, rel.child)]
    naming.check_name(table, "link table")
    return Link(
        table=table,
        cls=naming.class_name(table) + "Link",
        parent=rel.parent,
        child=rel.child,
        parent_column=f"{rel.parent}_id",
        child_column=f"{rel.child}_id",
        revision=rid,
    )


def _with_links(ent: Entity, links: tuple[Link, ...], children: tuple[Child, ...]) -> Entity:
    return Entity(**{**ent.__dict__, "links": links, "children": children})


def _children(name: str, entities: dict[str, Entity]) -> tuple[Child, ...]:
    return tuple(
        Child(entity=other.name, column=col.name, required=col.required)
        for other in entities.values() for col in other.fks if col.ref_entity == name
    )


def _grant_workflow_actions(roles: tuple[Role, ...], admin: str, entities: dict[str, Entity], notes: list[str]):
    """Each workflow action goes to the roles the plan names (and the admin), else to those who may update."""
    grants: dict[str, dict[str, list[str]]] = {}
    for ent in entities.values():
        for action in ent.workflow.actions if ent.workflow else ():
            known = {r.name for r in roles}
            for name in action.roles:
                if name not in known:
                    raise PlanNotRenderable(f"workflow action {action.name!r} of {ent.name!r} names unknown role {name!r}")
            holders = [r.name for r in roles if (r.name in action.roles or r.name == admin)] if action.roles else [
                r.name for r in roles if r.allows(ent.name, "update")]
            for name in holders:
                grants.setdefault(name, {}).setdefault(ent.name, []).append(action.name)
    if not grants:
        return roles
    out = []
    for role in roles:
        extra = grants.get(role.name, {})
        perms = dict(role.permissions)
        for entity, names in extra.items():
            perms[entity] = tuple(dict.fromkeys([*perms.get(entity, ()), *names]))
        out.append(Role(role.name, role.description, tuple(sorted(perms.items()))))
    return tuple(out)


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


def _roles(plan: ScaffoldPlan, specs: dict[str, EntitySpec], notes: list[str]) -> tuple[tuple[Role, ...], str]:
    roles: list[Role] = []
    for spec in plan.roles:
        if not re.match(r"^[a-z][a-z0-9_-]{0,39}$", spec.name):
            raise PlanNotRenderable(f"role name {spec.name!r} must be lowercase letters, digits, - or _")
        if any(r.name == spec.name for r in roles):
            raise PlanNotRenderable(f"role {spec.name!r} appears twice")
        perms = []
        for target in sorted(spec.permissions):
            if target != "*" and target not in specs:
                raise PlanNotRenderable(f"role {spec.name!r} grants access to unknown entity {target!r}")
            granted = {a.value for a in spec.permissions[target]}
            perms.append((target, tuple(a for a in ACTIONS if a in granted)))
        roles.append(Role(name=spec.name, description=spec.description, permissions=tuple(perms)))
    if not roles:
        roles = [
            Role("admin", "Full access, including the audit log.", (("*", ACTIONS),)),
            Role("viewer", "Read-only access.", (("*", ("read",)),)),
        ]
        notes.append("the plan named no roles: generated admin and viewer")

    def is_admin(role: Role) -> bool:
        return all(role.allows(e, a) for e in specs for a in ACTIONS)

    admin = next((r.name for r in roles if r.name == "admin" and is_admin(r)), None) or next(
        (r.name for r in roles if is_admin(r)), None
    )
    if admin is None:
        name = "admin" if not any(r.name == "admin" for r in roles) else "platform_admin"
        roles.append(Role(name, "Full access, including the audit log.", (("*", ACTIONS),)))
        notes.append(f"no role had full access: added {name!r} to read the audit log")
        admin = name
    return tuple(roles), admin
