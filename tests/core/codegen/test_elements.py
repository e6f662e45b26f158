"""implemented_elements: what the generated code implements, traced to real files and real tests."""

from __future__ import annotations

import ast
import re

from mb_core.codegen import implemented_elements, render_all, resolve
from mb_core.models import Action, FeatureKind, FeatureSpec, RoleSpec
from tests.core.codegen.conftest import booking_plan, crm_plan, rules_plan

KEY = re.compile(
    r"^(entity:\w+|field:\w+\.\w+|choices:\w+\.\w+|unique:\w+\.\w+|length:\w+\.\w+|relation:\w+->\w+|relation:\w+<->\w+"
    r"|feature:(" + "|".join(k.value for k in FeatureKind) + r"):\w+|role:[\w-]+:\w+:\w+|action_roles:\w+:\w+)$"
)


def _defined_tests(files) -> set[str]:
    found = set()
    for f in files:
        if f.path.startswith("tests/test_") and f.path.endswith(".py"):
            for node in ast.parse(f.content).body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    found.add(f"{f.path}::{node.name}")
    return found


def test_every_listed_test_and_file_exists(any_plan):
    files = render_all(any_plan)
    paths = {f.path for f in files}
    defined = _defined_tests(files)
    elements = implemented_elements(any_plan)
    assert elements, "a plan with entities implements something"
    for element in elements:
        assert KEY.match(element.key), element.key
        assert element.tests, f"{element.key} names no test"
        assert set(element.tests) <= defined, (element.key, set(element.tests) - defined)
        assert set(element.files) <= paths, (element.key, set(element.files) - paths)
    assert [e.key for e in elements] == sorted({e.key for e in elements})  # sorted, each key once


def test_crm_deal_belongs_to_contact():
    keys = {e.key: e for e in implemented_elements(crm_plan())}
    relation = keys["relation:contact->deal"]
    assert "tests/test_relations.py::test_list_deals_of_contact" in relation.tests
    assert "tests/test_relations.py::test_deal_with_missing_contact_is_422" in relation.tests
    assert any(f.startswith("migrations/versions/") for f in relation.files)
    assert "field:deal.contact_id" in keys
    contact_router = next(f.content for f in render_all(crm_plan()) if f.path == "app/routers/contact.py")
    assert '@router.get("/{item_id}/deals"' in contact_router


def test_every_kind_of_rule_is_listed():
    keys = {e.key for e in implemented_elements(rules_plan())}
    for key in (
        "feature:capacity:enrollment", "feature:date_order:rental", "feature:due_overdue:rental",
        "feature:value_range:payment", "feature:reports:payment", "feature:csv_export:payment",
        "feature:status_workflow:leave_request", "choices:member.level", "unique:member.email",
        "relation:class_session->enrollment", "role:manager:leave_request:approve",
        "role:staff:enrollment:create", "choices:leave_request.status",
    ):
        assert key in keys, key
    # Exactly what the plan grants: the staff role may not delete enrollments, nor approve leave.
    assert "role:staff:enrollment:delete" not in keys
    assert "role:staff:leave_request:approve" not in keys
    assert "role:manager:member:update" not in keys


def test_scheduling_and_links_are_listed():
    keys = {e.key for e in implemented_elements(booking_plan())}
    assert {"feature:scheduling:booking", "relation:booking<->equipment", "relation:room->booking"} <= keys


def test_roles_follow_the_plan_exactly():
    plan = crm_plan()
    plan.roles.append(RoleSpec(name="closer", permissions={"deal": [Action.update]}))
    keys = {e.key for e in implemented_elements(plan)}
    assert "role:closer:deal:update" in keys
    assert not {"role:closer:deal:read", "role:closer:deal:create", "role:closer:contact:read"} & keys
    roles_test = next(f.content for f in render_all(plan) if f.path == "tests/test_roles.py")
    body = roles_test.split("def test_role_closer_on_deal(")[1].split("\ndef ")[0]
    assert "== 403" in body and "== 200" in body


def test_workflow_without_listed_transitions_moves_one_step_at_a_time():
    plan = crm_plan()
    plan.features = [f for f in plan.features if f.kind != FeatureKind.status_workflow]
    plan.features.append(FeatureSpec(kind=FeatureKind.status_workflow, entity="deal", options={"field": "stage"}))
    deal = resolve(plan).entity("deal")
    assert dict(deal.workflow.transitions) == {"open": ("won",), "won": ("lost",), "lost": ()}


def test_a_stated_text_length_is_traced_to_a_test_of_one_character_more():
    files = {f.path: f.content for f in render_all(crm_plan())}
    elements = {e.key: e for e in implemented_elements(crm_plan())}
    # contact.name is 120 characters at most in the plan; deal.title keeps the default length
    assert elements["length:contact.name"].tests == [
        "tests/test_entity_contact.py::test_name_longer_than_120_characters_is_422"]
    assert "length:deal.title" not in elements
    source = files["tests/test_entity_contact.py"]
    body = source[source.index("def test_name_longer_than_120_characters_is_422"):]
    assert '"x" * 120' in body and 'longest + "x"' in body and "== 422" in body
