"""The entities of a blueprint: each plan entity's columns and features, resolved once.

A field becomes a Column (its kind, length, range, default and the revision that adds it); a
one-to-many relation adds the child's foreign key; a feature adds the columns it needs and the rule
the templates print (workflow, schedule, report, capacity, date order, overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mb_core.codegen import naming, rules
from mb_core.codegen.columns import DEFAULT_LENGTH, STRING_KINDS, Column
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.rules import Capacity, DateOrder, Overdue, Report, Schedule, Workflow
from mb_core.models import FeatureKind, FieldSpec, RelationKind, RelationSpec


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


def create_columns(ent: Entity) -> list[Column]:
    """What a create request sets."""
    return [c for c in ent.columns if c.in_create]


def update_columns(ent: Entity) -> list[Column]:
    """What a PATCH request may change."""
    return [c for c in ent.columns if c.in_update]


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


def resolve_entity(spec, relations, features, table_rev, column_rev, specs) -> Entity:
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


def resolve_link(rel: RelationSpec, entities: dict[str, Entity], link_rev) -> Link:
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


def with_links(ent: Entity, links: tuple[Link, ...], children: tuple[Child, ...]) -> Entity:
    return Entity(**{**ent.__dict__, "links": links, "children": children})


def children_of(name: str, entities: dict[str, Entity]) -> tuple[Child, ...]:
    return tuple(
        Child(entity=other.name, column=col.name, required=col.required)
        for other in entities.values() for col in other.fks if col.ref_entity == name
    )
