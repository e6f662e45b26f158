"""The generated tests: what each test file of the application checks, and what it traces.

Each entity gets a CRUD test file and one per feature, planned here as plain data the templates
print; while they are rendered, every implemented element (entity, field, value list, rule, role,
relation) is recorded with the generated tests that exercise it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from mb_core.codegen import rule_tests, sources
from mb_core.codegen.blueprint import Blueprint
from mb_core.codegen.columns import Column
from mb_core.codegen.entities import Entity, create_columns, update_columns
from mb_core.codegen.import_blocks import import_names

if TYPE_CHECKING:
    from mb_core.codegen.render import Renderer

SAMPLE_VALUES = Path(__file__).parent / "sample_values.py"


def _role_for(bp: Blueprint, ent: Entity, action: str) -> str:
    """A role allowed to do it, preferring one that is not the admin (so RBAC is really exercised)."""
    allowed = [r.name for r in bp.roles if r.allows(ent.name, action)]
    others = [name for name in allowed if name != bp.admin_role]
    return (others or allowed or [bp.admin_role])[0]


def _denied(bp: Blueprint, ent: Entity) -> tuple[str, str]:
    for action in ("create", "delete", "update", "read"):
        for role in bp.roles:
            if not role.allows(ent.name, action) and role.allows(ent.name, "read"):
                return role.name, action
    for role in bp.roles:
        for action in ("create", "delete", "update", "read"):
            if not role.allows(ent.name, action):
                return role.name, action
    return "guest", "read"  # no role lacks anything: a role outside the plan has no rights at all


def _needle_column(ent: Entity) -> Column | None:
    return next(
        (c for c in ent.searchable if c.in_create and c.kind in ("string", "text") and (c.max_length or 200) >= 12),
        None,
    )


def _change_plan(ent: Entity) -> dict | None:
    """The one field a test changes with PATCH, and the value it sends (None: nothing to change)."""
    comparable = [c for c in update_columns(ent) if c.kind in ("string", "text", "enum", "integer", "boolean", "email")
                  and not (c.kind == "enum" and len(c.choices) < 2) and c.kind != "fk"]
    schedule_cols = {ent.schedule.start.name, ent.schedule.end.name} if ent.schedule else set()
    comparable = [c for c in comparable if c.name not in schedule_cols]
    if not comparable:
        return None
    col = comparable[0]
    expr = sources.other_value_expr(col)
    return {"col": col, "expr": expr, "compare": True, "uses_n": bool(re.search(r"\bn\b", expr))}


def _entity_test_plan(bp: Blueprint, ent: Entity) -> dict:
    creatable = create_columns(ent)
    schedule_cols = {ent.schedule.start.name, ent.schedule.end.name} if ent.schedule else set()
    update = _change_plan(ent)
    invalid_col = next((c for c in creatable if c.name not in schedule_cols), None)
    invalid = {"col": invalid_col, "expr": sources.invalid_json(invalid_col)} if invalid_col else None
    # One test per filter the README lists that a create request can set (enum, boolean, parent).
    filters = []
    for col in ent.filters:
        if not col.in_create:
            # Set by the service (a workflow's state): every new row has the default, which the
            # filter must find, and another value must find none of them.
            if col.has_default and col.kind == "enum" and len(col.choices) >= 2:
                other = next(c for c in col.choices if c != col.default)
                filters.append({"col": col, "default": sources.literal(col.default),
                                "other": sources.literal(other)})
            continue
        if col.kind == "enum" and len(col.choices) >= 2:
            a, b = sources.literal(col.choices[0]), sources.literal(col.choices[-1])
            filters.append({"col": col, "a": a, "b": b, "query": a})
        elif col.kind == "boolean":
            filters.append({"col": col, "a": "True", "b": "False", "query": '"true"'})
        elif col.kind == "fk" and col.ref_entity != ent.name:
            filters.append({"col": col})
    if not any(f["col"].kind == "fk" for f in filters):
        fk = next((c for c in ent.fks if c.ref_entity != ent.name), None)
        if fk is not None:
            filters.append({"col": fk})
    filt = filters[0] if filters else None
    needle = _needle_column(ent)
    unique = next((c for c in ent.unique_columns if c.in_create and c.kind != "boolean"), None)
    restrict = next(
        ({"entity": other.name, "column": c.name} for other in bp.entities for c in other.fks
         if c.ref_entity == ent.name and c.required and other.name != ent.name),
        None,
    )
    fk_iso = next((c for c in ent.fks if c.ref_entity != ent.name), None)
    denied_role, denied_action = _denied(bp, ent)
    factories = {f["col"].ref_entity for f in filters if f["col"].kind == "fk"}
    if restrict:
        factories.add(restrict["entity"])
    if fk_iso:
        factories.add(fk_iso.ref_entity)
    factories.discard(ent.name)
    uses_samples = bool(needle) or bool(update and re.search(r"\w+\(", update["expr"]))
    return {
        "create_role": _role_for(bp, ent, "create"), "read_role": _role_for(bp, ent, "read"),
        "update_role": _role_for(bp, ent, "update"), "delete_role": _role_for(bp, ent, "delete"),
        "change": update, "invalid": invalid, "filter": filt, "filters": filters, "search": needle, "unique": unique, "restrict_child": restrict,
        "fk_isolation": fk_iso, "denied_role": denied_role, "denied_action": denied_action,
        "required_missing": [c for c in creatable if c.required][:1], "extra_factories": sorted(factories),
        "uses_samples": uses_samples, "fields": rule_tests.field_checks(ent),
        "unique_tests": rule_tests.unique_tests(ent), "choice_tests": rule_tests.choice_tests(ent),
        "length_tests": rule_tests.length_tests(ent),
    }


def _feature_plan(bp: Blueprint, ent: Entity, kind: str) -> dict:
    if kind == "search":
        return {"search": _needle_column(ent)}
    if kind == "status_workflow":
        w = ent.workflow
        targets = dict(w.free_transitions)[w.initial]
        every = dict(w.transitions)[w.initial]
        disallowed = next((s for s in w.states if s not in every and s != w.initial), w.initial)
        update_role = _role_for(bp, ent, "update")
        return {"allowed": targets[0] if targets else None, "disallowed": disallowed, "update_role": update_role,
                "actions": rule_tests.workflow_action_tests(bp, ent, update_role),
                "locks": rule_tests.edit_lock_tests(ent, _change_plan(ent))}
    if kind == "assignment":
        denied = next((r.name for r in bp.roles if r.allows(ent.name, "read") and not r.allows(ent.name, "update")), None)
        return {"update_role": _role_for(bp, ent, "update"), "denied_role": denied}
    if kind == "scheduling":
        s = ent.schedule
        parent = s.resource.ref_entity if s.resource is not None and s.resource.kind == "fk" else None
        return {
            "time_helper": "moment" if s.start.kind == "datetime" else "day",
            "resource_parent": parent,
            "resource_text": s.resource is not None and parent is None,
        }
    if kind == "reports":
        return rule_tests.report_plan(bp, ent)
    if kind == "capacity":
        return rule_tests.capacity_plan(bp, ent)
    if kind == "date_order":
        return rule_tests.date_order_plan(ent)
    if kind == "value_range":
        return {"tests": rule_tests.range_tests(ent)}
    if kind == "due_overdue":
        return rule_tests.overdue_plan(ent)
    if kind == "csv_export":
        injection = next((c for c in create_columns(ent) if c.kind in ("string", "text") and (c.max_length or 200) >= 12
                          and not c.unique), None)
        return {"read_role": _role_for(bp, ent, "read"), "injection": injection}
    raise ValueError(kind)  # pragma: no cover


def _app_files(ent: Entity) -> list[str]:
    return [f"app/models/{ent.module}.py", f"app/schemas/{ent.module}.py", f"app/routers/{ent.module}.py"]


def _revision_file(bp: Blueprint, revision: str) -> str:
    return next(rev.filename for rev in bp.revisions if rev.revision == revision)


def _entity_elements(r: Renderer, bp: Blueprint, ent: Entity, t: dict, path: str) -> None:
    files = _app_files(ent)
    crud = (path, "test_create_read_update_delete")
    r.element(f"entity:{ent.name}", [*files, _revision_file(bp, ent.revision)],
              [crud, (path, "test_other_tenant_rows_are_invisible"), (path, "test_list_paginates")])
    for name in [*t["fields"]["echoed"], *t["fields"]["present"]]:
        col = ent.column(name)
        if col.kind != "fk":  # a foreign key is traced with its relation
            r.element(f"field:{ent.name}.{name}", [*files, _revision_file(bp, col.revision)], [crud])
    for c in t["choice_tests"]:
        r.element(f"choices:{ent.name}.{c['col'].name}", files, [(path, c["name"])], note=", ".join(c["col"].choices))
    for n in t["length_tests"]:
        r.element(f"length:{ent.name}.{n['col'].name}", files, [(path, n["name"])], note=f"{n['longest']} characters")
    for u in t["unique_tests"]:
        r.element(f"unique:{ent.name}.{u['col'].name}", [*files, _revision_file(bp, u["col"].revision)], [(path, u["name"])])
    if t["search"]:
        r.element(f"feature:search:{ent.name}", files, [(path, "test_list_searches_text")])


def _test_names(text: str) -> list[str]:
    return re.findall(r"^def (test_\w+)\(", text, re.MULTILINE)


def _feature_elements(r: Renderer, bp: Blueprint, ent: Entity, kind: str, f: dict, path: str) -> None:
    files = _app_files(ent)
    tests = [(path, name) for name in _test_names(r.files[path])]
    r.element(f"feature:{kind}:{ent.name}", files, tests)
    if kind == "status_workflow":
        w = ent.workflow
        col = w.column
        workflow_tests = [(path, "test_new_rows_start_in_the_initial_state")]
        r.element(f"field:{ent.name}.{col.name}", [*files, _revision_file(bp, col.revision)], workflow_tests)
        r.element(f"choices:{ent.name}.{col.name}", files, [(path, "test_disallowed_transition_is_409")],
                  note=", ".join(w.states))
        for lock in f["locks"]:  # the test fails when the guard on PATCH is gone
            r.element(f"edit_lock:{ent.name}:{lock['state']}", files, [(path, lock["name"])])
        for a in f["actions"]:
            for role in bp.roles:
                if role.allows(ent.name, a["action"].name):
                    r.element(f"role:{role.name}:{ent.name}:{a['action'].name}", ["app/permissions.py", files[2]],
                              [(path, a["name"])])
            if a["action"].roles:  # the action is its roles' alone: any other role gets 403
                r.element(f"action_roles:{ent.name}:{a['action'].name}", ["app/permissions.py", files[2]],
                          [(path, a["name"])], note=f"{a['denied']} is refused {a['action'].name}"
                          if a["denied"] else "every role of the app holds it")
    if kind == "assignment":
        col = ent.assignment
        r.element(f"field:{ent.name}.{col.name}", [*files, _revision_file(bp, col.revision)], [(path, "test_assign_and_unassign")])


def _schedule_expr(col: Column, n: str, offset: int) -> str:
    return f"{'moment' if col.kind == 'datetime' else 'day'}({n}, {offset})"


def render_tests(r: Renderer, bp: Blueprint) -> None:
    r.files["tests/__init__.py"] = ""
    r.files["tests/sample_values.py"] = SAMPLE_VALUES.read_text(encoding="utf-8")
    r.render(
        "tests/conftest.py", "tests/conftest.py.j2", create_cols=create_columns,
        required_parents=lambda ent: [c for c in ent.fks if c.required], schedule_expr=_schedule_expr,
    )
    for ent in bp.entities:
        t = _entity_test_plan(bp, ent)
        path = f"tests/test_entity_{ent.name}.py"
        r.render(path, "tests/test_entity.py.j2", ent=ent, t=t)
        _entity_elements(r, bp, ent, t, path)
        for kind in ent.features:
            f = _feature_plan(bp, ent, kind)
            fpath = f"tests/test_feature_{kind}_{ent.name}.py"
            r.render(fpath, "tests/test_feature.py.j2", ent=ent, kind=kind, f=f)
            _feature_elements(r, bp, ent, kind, f, fpath)
    if bp.links:
        factories = sorted({link.parent for link in bp.links} | {link.child for link in bp.links})
        r.render("tests/test_links.py", "tests/test_links.py.j2", link_factories=factories)
        for link in bp.links:
            r.element(f"relation:{link.parent}<->{link.child}", ["app/models/links.py", _app_files(bp.entity(link.parent))[2],
                      _revision_file(bp, link.revision)],
                      [("tests/test_links.py", f"test_link_{link.parent}_and_{link.child}"),
                       ("tests/test_links.py", f"test_link_{link.parent}_to_another_tenants_{link.child}_is_404")])
    relations = rule_tests.relation_tests(bp)
    if relations:
        r.render("tests/test_relations.py", "tests/test_relations.py.j2", tests=relations)
        for t in relations:
            parent, child, col = t["parent"], t["child"], t["column"]
            files = [*_app_files(child), _app_files(parent)[2], _revision_file(bp, col.revision)]
            tests = [("tests/test_relations.py", t["missing"]), ("tests/test_relations.py", t["listing"])]
            r.element(f"relation:{parent.name}->{child.name}", files, tests,
                      note=f"{child.name}.{col.name} references {parent.table}; GET {parent.path}/{{id}}/{child.plural}")
            r.element(f"field:{child.name}.{col.name}", files, tests)
    roles = rule_tests.role_tests(bp)
    r.render("tests/test_roles.py", "tests/test_roles.py.j2", tests=roles)
    for t in roles:
        for action, allowed in t["allowed"].items():
            # a right the role lacks is tested too (403): "can edit but not delete" is two elements
            r.element(f"role:{t['role']}:{t['ent'].name}:{'' if allowed else 'not_'}{action}",
                      ["app/permissions.py", _app_files(t["ent"])[2]], [("tests/test_roles.py", t["name"])])
    pii_entity = next((e for e in bp.entities if e.pii and any(c.pii and c.in_create for c in e.columns)), None)
    security = {
        "entity": bp.entities[0],
        "pii_entity": pii_entity,
        "pii": next((c for c in pii_entity.columns if c.pii and c.in_create), None) if pii_entity else None,
        "non_admin": next((role.name for role in bp.roles if role.name != bp.admin_role), None),
    }
    names = ["ADMIN", f"make_{security['entity'].name}"] + ([f"payload_{pii_entity.name}"] if security["pii"] else [])
    r.render("tests/test_security.py", "tests/test_security.py.j2", s=security, conftest_names=import_names([*names, 'next_number']))
    r.check_elements()
