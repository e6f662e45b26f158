"""System Designer: ScaffoldSpec -> ScaffoldPlan (entities made complete, REST endpoints, roles,
the files to generate and the Alembic revisions). Pure functions of the spec (and base plan)."""

from __future__ import annotations

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import DesignerInput
from mb_core.models import (
    Action,
    EndpointSpec,
    EntitySpec,
    FeatureKind,
    FieldSpec,
    FieldType,
    MigrationRevision,
    RelationKind,
    RelationSpec,
    RoleSpec,
    ScaffoldPlan,
    ScaffoldSpec,
)
from mb_core.requirements.trace import map_to_plan
from mb_core.spec.fields import human_field_for, infer_field, is_human_readable

DEFAULT_ROLES = (
    RoleSpec(name="admin", permissions={"*": list(Action)}, description="full access"),
    RoleSpec(name="member", permissions={"*": [Action.create, Action.read, Action.update]},
             description="works with the records; cannot delete"),
    RoleSpec(name="viewer", permissions={"*": [Action.read]}, description="reads only"),
)

_CRUD = (
    ("GET", "", "list", Action.read, "List {plural} (paginated; filters and search)"),
    ("GET", "/{id}", "get", Action.read, "Get one {label}"),
    ("POST", "", "create", Action.create, "Create a {label}"),
    ("PATCH", "/{id}", "update", Action.update, "Update a {label}"),
    ("DELETE", "/{id}", "delete", Action.delete, "Delete a {label}"),
)
_FEATURE_ENDPOINTS = {
    FeatureKind.csv_export: ("GET", "/export.csv", "export", Action.read, "Export {plural} as CSV"),
    FeatureKind.reports: ("GET", "/report", "report", Action.read, "Aggregates over {plural}"),
    FeatureKind.status_workflow: ("POST", "/{id}/transition", "transition", Action.update,
                                  "Move a {label} to its next state"),
    FeatureKind.assignment: ("POST", "/{id}/assign", "assign", Action.update,
                             "Assign a {label} to someone"),
}


def complete_entity(entity: EntitySpec, features: list) -> EntitySpec:
    """Every entity gets a required human-readable field, and the columns its features use."""
    fields = list(entity.fields)
    human = next((f for f in fields if is_human_readable(f)), None)
    if human is None:
        human = infer_field(human_field_for(entity.name), entity.name).model_copy(
            update={"required": True})
        fields.insert(0, human)
    elif not human.required:
        fields = [f.model_copy(update={"required": True}) if f is human else f for f in fields]
    names = {f.name for f in fields}
    for feature in features:
        if feature.entity != entity.name:
            continue
        needed: list[FieldSpec] = []
        if feature.kind == FeatureKind.scheduling:
            needed = [FieldSpec(name=feature.options.get("start") or "starts_at",
                                type=FieldType.datetime, required=True),
                      FieldSpec(name=feature.options.get("end") or "ends_at",
                                type=FieldType.datetime, required=True)]
        elif feature.kind == FeatureKind.assignment:
            needed = [FieldSpec(name=feature.options.get("field") or "assignee",
                                type=FieldType.string, max_length=200, searchable=True)]
        elif feature.kind == FeatureKind.date_order:
            needed = [FieldSpec(name=feature.options.get("start") or "starts_on", type=FieldType.date),
                      FieldSpec(name=feature.options.get("end") or "ends_on", type=FieldType.date)]
        elif feature.kind == FeatureKind.due_overdue:
            needed = [FieldSpec(name=feature.options.get("due") or "due_on", type=FieldType.date)]
            if feature.options.get("done_field") and not feature.options.get("done_values"):
                needed.append(FieldSpec(name=feature.options["done_field"], type=FieldType.boolean,
                                        default="false"))
        elif feature.kind == FeatureKind.status_workflow and feature.options.get("field"):
            states = feature.options.get("states") or ["new", "in_progress", "done"]
            needed = [FieldSpec(name=feature.options["field"], type=FieldType.enum,
                                choices=list(states), default=states[0])]
        fields += [f for f in needed if f.name not in names]
        names |= {f.name for f in needed}
    return entity.model_copy(update={"fields": fields})


def complete_capacity(entities: list[EntitySpec], relations: list[RelationSpec],
                      features: list) -> tuple[list[EntitySpec], list[RelationSpec]]:
    """A capacity rule needs its parent relation and, when the limit is per parent, its column."""
    entities, relations = list(entities), list(relations)
    for feature in features:
        if feature.kind != FeatureKind.capacity:
            continue
        parent = feature.options.get("parent")
        if not any(e.name == parent for e in entities):
            continue
        if not any(r.kind == RelationKind.one_to_many and r.parent == parent and r.child == feature.entity
                   for r in relations):
            relations.append(RelationSpec(kind=RelationKind.one_to_many, parent=parent,
                                          child=feature.entity, required=True))
        limit_field = feature.options.get("limit_field")
        if limit_field:
            entities = [e.model_copy(update={"fields": [*e.fields, FieldSpec(
                name=limit_field, type=FieldType.integer, min_value=0, required=True)]})
                if e.name == parent and limit_field not in {f.name for f in e.fields} else e
                for e in entities]
    return entities, relations


def complete_features(spec: ScaffoldSpec, entities: list[EntitySpec]) -> list:
    """Feature options the code generator reads: search fields, report measures."""
    by_name = {e.name: e for e in entities}
    out = []
    for feature in spec.features:
        entity = by_name.get(feature.entity)
        if entity is None:
            continue
        options = dict(feature.options)
        if feature.kind == FeatureKind.search:
            options.setdefault("fields", [f.name for f in entity.fields if f.searchable
                                          or f.type in (FieldType.string, FieldType.text)][:6])
        if feature.kind == FeatureKind.reports:
            options.setdefault("measures", [f.name for f in entity.fields if f.type in (
                FieldType.decimal, FieldType.integer)])
            options.setdefault("group_by", [f.name for f in entity.fields if f.type in (
                FieldType.enum, FieldType.boolean)][:3])
        if feature.kind == FeatureKind.scheduling:
            options = {k: v for k, v in options.items() if v is not None}
            options.setdefault("start", "starts_at")
            options.setdefault("end", "ends_at")
        out.append(feature.model_copy(update={"options": options}))
    return out


def plan_roles(spec: ScaffoldSpec) -> list[RoleSpec]:
    if not spec.roles:
        return [r.model_copy(deep=True) for r in DEFAULT_ROLES]
    roles = [r for r in spec.roles]
    if not any(r.name == "admin" for r in roles):
        roles.insert(0, DEFAULT_ROLES[0].model_copy(deep=True))
    return [r.model_copy(update={"permissions": {"*": list(Action)}}) if r.name == "admin" else r
            for r in roles]


def allowed_roles(roles: list[RoleSpec], entity: str, action: Action) -> list[str]:
    return [r.name for r in roles
            if action in r.permissions.get(entity, []) or action in r.permissions.get("*", [])]


def plan_endpoints(entities: list[EntitySpec], features: list, roles: list[RoleSpec],
                   relations: list[RelationSpec] = ()) -> list[EndpointSpec]:
    endpoints = [EndpointSpec(method="GET", path="/health", action="health",
                              summary="Liveness and database check")]
    for e in entities:
        words = {"plural": e.plural.replace("_", " "), "label": e.label.lower() or e.name}
        base = f"/{e.plural}"
        own = [_FEATURE_ENDPOINTS[f.kind] for f in features
               if f.entity == e.name and f.kind in _FEATURE_ENDPOINTS]
        # fixed paths (/export.csv, /report) come before /{id} so they are matched first
        fixed = [x for x in own if "{id}" not in x[1]]
        rest = [x for x in own if "{id}" in x[1]]
        for method, suffix, action, needed, summary in [*_CRUD[:1], *fixed, *_CRUD[1:], *rest]:
            endpoints.append(EndpointSpec(
                method=method, path=base + suffix, entity=e.name, action=action,
                roles=allowed_roles(roles, e.name, needed), summary=summary.format(**words)))
        readers = allowed_roles(roles, e.name, Action.read)
        for f in features:
            if f.entity != e.name:
                continue
            if f.kind == FeatureKind.due_overdue:
                endpoints.append(EndpointSpec(method="GET", path=f"{base}/overdue", entity=e.name,
                                              action="overdue", roles=readers,
                                              summary=f"{words['plural'].capitalize()} past due, not done"))
            if f.kind == FeatureKind.reports and f.options.get("period"):
                endpoints.append(EndpointSpec(method="GET", path=f"{base}/report/series", entity=e.name,
                                              action="report", roles=readers,
                                              summary=f"Totals of {words['plural']} per day or month"))
            if f.kind == FeatureKind.status_workflow:
                for name, rule in (f.options.get("actions") or {}).items():
                    named = list(rule.get("roles") or []) if isinstance(rule, dict) else []
                    endpoints.append(EndpointSpec(
                        method="POST", path=f"{base}/{{id}}/{name}", entity=e.name, action=str(name),
                        roles=named or allowed_roles(roles, e.name, Action.update),
                        summary=f"{str(name).replace('_', ' ').capitalize()} a {words['label']}"))
        for r in relations:
            if r.kind == RelationKind.one_to_many and r.parent == e.name:
                child = next((c for c in entities if c.name == r.child), None)
                if child is not None:
                    endpoints.append(EndpointSpec(
                        method="GET", path=f"{base}/{{id}}/{child.plural}", entity=e.name,
                        action="list_children", roles=readers,
                        summary=f"{child.plural.replace('_', ' ').capitalize()} of a {words['label']}"))
    endpoints.append(EndpointSpec(method="GET", path="/audit", action="audit",
                                  roles=["admin"], summary="Audit log (admin only)"))
    return endpoints


def link_table(relation: RelationSpec) -> str:
    return f"{relation.parent}_{relation.child}_links"


def plan_files(entities: list[EntitySpec], migrations: list[MigrationRevision]) -> list[str]:
    files = ["README.md", "requirements.txt", ".env.example", "alembic.ini", "Dockerfile",
             ".github/workflows/ci.yml", "seed.py",
             "app/__init__.py", "app/main.py", "app/config.py", "app/db.py", "app/models.py",
             "app/schemas.py", "app/security.py", "app/audit.py", "app/routers/__init__.py",
             "app/routers/health.py", "app/routers/audit.py"]
    files += [f"app/routers/{e.plural}.py" for e in entities]
    files += ["migrations/env.py", "migrations/script.py.mako"]
    files += [f"migrations/versions/{m.revision}_{_slug(m.message)}.py" for m in migrations]
    files += ["tests/__init__.py", "tests/conftest.py", "tests/test_health.py", "tests/test_security.py"]
    files += [f"tests/test_{e.plural}.py" for e in entities]
    return files


def _slug(message: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in message.lower()).split()
    return "_".join(words[:4]) or "revision"


def plan_migrations(entities: list[EntitySpec], relations: list[RelationSpec],
                    base_plan: ScaffoldPlan | None) -> list[MigrationRevision]:
    links = [link_table(r) for r in relations if r.kind == RelationKind.many_to_many]
    if base_plan is None:
        return [MigrationRevision(revision="0001", message="initial tables",
                                  tables=[e.name for e in entities], link_tables=links)]
    revisions = [m.model_copy(deep=True) for m in base_plan.migrations]
    base_entities = {e.name: e for e in base_plan.entities}
    base_links = {link_table(r) for r in base_plan.relations if r.kind == RelationKind.many_to_many}
    base_fks = {(r.parent, r.child) for r in base_plan.relations
                if r.kind == RelationKind.one_to_many}
    new_tables = [e.name for e in entities if e.name not in base_entities]
    columns: dict[str, list[str]] = {}
    for e in entities:
        old = base_entities.get(e.name)
        if old is not None:
            added = [f.name for f in e.fields if f.name not in {x.name for x in old.fields}]
            if added:
                columns[e.name] = added
    for r in relations:  # a new parent for an existing table: its foreign key column
        if r.kind == RelationKind.one_to_many and r.child in base_entities and (
                r.parent, r.child) not in base_fks:
            columns.setdefault(r.child, []).append(f"{r.parent}_id")
    new_links = [x for x in links if x not in base_links]
    if new_tables or columns or new_links:
        number = f"{len(revisions) + 1:04d}"
        what = ", ".join(new_tables + [f"{k} columns" for k in columns] + new_links)
        revisions.append(MigrationRevision(revision=number, message=f"add {what}"[:80],
                                           tables=new_tables, columns=columns,
                                           link_tables=new_links))
    return revisions


def design_plan(spec: ScaffoldSpec, base_plan: ScaffoldPlan | None = None) -> ScaffoldPlan:
    entities = [complete_entity(e, spec.features) for e in spec.entities]
    if base_plan is not None:  # the base's entities stay as they were planned, new fields added
        planned = {e.name: e for e in base_plan.entities}
        entities = [_grow(planned[e.name], e) if e.name in planned else e for e in entities]
        entities = [*[e for e in base_plan.entities if e.name not in {x.name for x in entities}],
                    *entities]
    names = {e.name for e in entities}
    relations = [r for r in spec.relations if r.parent in names and r.child in names]
    features = complete_features(spec, entities)
    entities, relations = complete_capacity(entities, relations, features)
    roles = plan_roles(spec)
    migrations = plan_migrations(entities, relations, base_plan)
    plan = ScaffoldPlan(
        app_name=base_plan.app_name if base_plan else spec.app_name,
        title=spec.title, summary=spec.summary, entities=entities, relations=relations,
        endpoints=plan_endpoints(entities, features, roles, relations),
        files=plan_files(entities, migrations), roles=roles, features=features,
        decisions=list(spec.decisions), external_services=list(spec.external_services),
        migrations=migrations, base_build_id=spec.base_build_id)
    return map_to_plan(plan, spec.requirements)


def _grow(planned: EntitySpec, wanted: EntitySpec) -> EntitySpec:
    known = {f.name for f in planned.fields}
    return planned.model_copy(update={"fields": [*planned.fields, *[
        f for f in wanted.fields if f.name not in known]]})


def offline_answer(inp: DesignerInput) -> ScaffoldPlan:
    return design_plan(inp.spec, inp.base_plan)


DEFINITION = AgentDefinition(
    role=AgentRole.system_designer,
    input_model=DesignerInput,
    output_model=ScaffoldPlan,
    offline_answer=offline_answer,
    purpose="Turn the spec into a FastAPI + SQLAlchemy plan: complete entities, REST and feature "
            "endpoints, roles, files to generate and Alembic revisions.",
)
