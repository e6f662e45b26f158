"""What the generator implements for a plan, read from the files it renders.

The generator's own `implemented_elements` is the authority when it has one; until then this reads
the rendered files: which model, schema and router files hold an entity, a column, a choice list, a
unique constraint, a foreign key or a feature, and which generated test functions exercise each
(a test exercises an element when its body names it). Pure: a plan in, elements out.
"""

from __future__ import annotations

import re

from mb_core.models import (
    Action,
    FeatureKind,
    FieldType,
    ImplementedElement,
    RelationKind,
    ScaffoldPlan,
)


def implemented_elements(plan: ScaffoldPlan) -> list[ImplementedElement]:
    try:  # the generator's rule catalog, when it declares what it implements
        from mb_core.codegen import implemented_elements as declared  # type: ignore[attr-defined]
    except ImportError:
        return rendered_elements(plan)
    return declared(plan)


def _tests(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """test file -> test function name -> its body."""
    out: dict[str, dict[str, str]] = {}
    for path, text in files.items():
        if not re.match(r"tests/test_[^/]+\.py$", path):
            continue
        parts = re.split(r"^def (test_\w+)\(", text, flags=re.MULTILINE)
        out[path] = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    return out


def _node(path: str, name: str) -> str:
    return f"{path}::{name}"


def rendered_elements(plan: ScaffoldPlan) -> list[ImplementedElement]:
    from mb_core.codegen import render_all

    files = {f.path: f.content for f in render_all(plan)}
    tests = _tests(files)
    out: list[ImplementedElement] = []

    def add(key: str, paths: list[str], nodes: list[str], note: str = "") -> None:
        out.append(ImplementedElement(key=key, files=[p for p in paths if p in files],
                                      tests=list(dict.fromkeys(nodes)), note=note))

    def naming(path: str, word: str, only: tuple[str, ...] = ()) -> list[str]:
        return [_node(path, n) for n, body in tests.get(path, {}).items()
                if (not only or n in only) and re.search(rf"\b{re.escape(word)}\b", body)]

    for ent in plan.entities:
        model, schema, router = (f"app/models/{ent.name}.py", f"app/schemas/{ent.name}.py",
                                 f"app/routers/{ent.name}.py")
        test_file = f"tests/test_entity_{ent.name}.py"
        crud = [_node(test_file, n) for n in tests.get(test_file, {})
                if n in ("test_create_read_update_delete", "test_missing_row_is_404")]
        if model in files:
            add(f"entity:{ent.name}", [model, schema, router], crud)
        payload_fn = re.search(rf"^def payload_{ent.name}\(.*?(?=^def |\Z)", files.get(
            "tests/conftest.py", ""), re.MULTILINE | re.DOTALL)
        payload = payload_fn.group() if payload_fn else ""
        for fld in ent.fields:
            if not re.search(rf"\b{re.escape(fld.name)}\b", files.get(model, "")):
                continue
            # the CRUD test posts the conftest payload: a field in it is written and read back
            written = crud[:1] if re.search(rf"\b{re.escape(fld.name)}\b", payload) else []
            workflow = f"tests/test_feature_status_workflow_{ent.name}.py"
            # a workflow column is moved through its states by the workflow's own tests
            moved = naming(workflow, fld.name) if any(
                f.kind == FeatureKind.status_workflow and f.entity == ent.name
                and f.options.get("field", fld.name) == fld.name for f in plan.features) else []
            add(f"field:{ent.name}.{fld.name}", [model, schema], written + naming(
                test_file, fld.name, ("test_invalid_payload_is_422", "test_list_filters_exactly"))
                + moved)
            if fld.type == FieldType.enum and fld.choices and all(
                    re.search(rf"['\"]{re.escape(c)}['\"]", files.get(schema, "") + files.get(model, ""))
                    for c in fld.choices):
                add(f"choices:{ent.name}.{fld.name}", [model, schema], naming(
                    test_file, fld.name, ("test_invalid_payload_is_422",)) + moved)
            if fld.unique:
                add(f"unique:{ent.name}.{fld.name}", [model], naming(
                    test_file, fld.name, ("test_duplicate_unique_value_is_409",)))
        for kind in FeatureKind:
            path = f"tests/test_feature_{kind.value}_{ent.name}.py"
            planned = next((f for f in plan.features if f.kind == kind and f.entity == ent.name), None)
            if kind == FeatureKind.reports and planned is not None and planned.options.get("per"):
                continue  # totals per parent row: this generator groups by fields only
            if path in tests:
                add(f"feature:{kind.value}:{ent.name}", [router],
                    [_node(path, n) for n in tests[path]])
        sched = f"tests/test_feature_scheduling_{ent.name}.py"
        if "test_end_before_start_is_422" in tests.get(sched, {}):
            add(f"feature:date_order:{ent.name}", [router],
                [_node(sched, "test_end_before_start_is_422")], note="the end comes after the start")
    for rel in plan.relations:
        if rel.kind == RelationKind.one_to_many:
            child_model = f"app/models/{rel.child}.py"
            column = f"{rel.parent}_id"
            if not re.search(rf"\b{column}\b", files.get(child_model, "")):
                continue
            child_tests = f"tests/test_entity_{rel.child}.py"
            parent_tests = f"tests/test_entity_{rel.parent}.py"
            add(f"relation:{rel.parent}->{rel.child}", [child_model, f"app/routers/{rel.child}.py"],
                naming(child_tests, column) + [_node(parent_tests, n) for n in tests.get(
                    parent_tests, {}) if n == f"test_delete_refused_while_required_by_{rel.child}"])
        else:
            nodes = [_node("tests/test_links.py", n) for n in tests.get("tests/test_links.py", {})
                     if n.startswith((f"test_link_{rel.parent}_", f"test_link_{rel.child}_"))]
            if nodes:
                add(f"relation:{rel.parent}<->{rel.child}", ["app/models/links.py"], nodes)
    methods = {"post": Action.create, "get": Action.read, "patch": Action.update,
               "put": Action.update, "delete": Action.delete}
    for role in plan.roles:
        for ent in plan.entities:
            granted = set(role.permissions.get(ent.name, [])) | set(role.permissions.get("*", []))
            test_file = f"tests/test_entity_{ent.name}.py"
            acting: dict[Action, list[str]] = {}
            # a test exercises a role's action when it calls that endpoint as that role
            for n, body in tests.get(test_file, {}).items():
                for m in re.finditer(r"client\.(post|get|patch|put|delete)\((?:[^()]|\([^()]*\))*"
                                     rf"auth\(['\"]{re.escape(role.name)}['\"]\)", body):
                    acting.setdefault(methods[m.group(1)], []).append(_node(test_file, n))
            for action in Action:
                if action in granted:
                    add(f"role:{role.name}:{ent.name}:{action.value}", ["app/permissions.py"],
                        acting.get(action, []))
    return out
