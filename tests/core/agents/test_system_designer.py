from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import DesignerInput
from mb_core.agents.system_designer import DEFINITION, design_plan
from mb_core.models import Action, FeatureKind, FieldType, RelationKind, SpecMode
from mb_core.providers.offline import OfflineProvider
from mb_core.spec import read_spec

GUIDED = """
title: Bookmarks
entities:
  bookmark: {url: url, visited: boolean}
  tag: [name]
  collection: [name]
relations:
  - collection has many bookmarks
  - bookmark many_to_many tag
roles:
  admin: "*"
  curator: {bookmark: [create, read, update]}
features:
  - csv_export: bookmark
  - reports: bookmark
  - {kind: status_workflow, entity: collection, options: {field: state, states: [open, closed]}}
  - {kind: assignment, entity: collection}
  - {kind: scheduling, entity: collection}
"""


def routes(plan):
    return {(e.method, e.path) for e in plan.endpoints}


def test_crud_and_feature_endpoints():
    plan = design_plan(read_spec(GUIDED, SpecMode.guided))
    got = routes(plan)
    for path, ids in (("/bookmarks", "/bookmarks/{id}"), ("/collections", "/collections/{id}")):
        assert {("GET", path), ("POST", path), ("GET", ids), ("PATCH", ids), ("DELETE", ids)} <= got
    assert {("GET", "/bookmarks/export.csv"), ("GET", "/bookmarks/report"),
            ("POST", "/collections/{id}/transition"), ("POST", "/collections/{id}/assign"),
            ("GET", "/health"), ("GET", "/audit")} <= got
    paths = [e.path for e in plan.endpoints]
    assert paths.index("/bookmarks/export.csv") < paths.index("/bookmarks/{id}")


def test_every_entity_has_a_required_human_field_and_feature_columns():
    plan = design_plan(read_spec(GUIDED, SpecMode.guided))
    bookmark = next(e for e in plan.entities if e.name == "bookmark")
    assert bookmark.fields[0].name == "title" and bookmark.fields[0].required
    collection = {f.name: f for f in next(e for e in plan.entities if e.name == "collection").fields}
    assert collection["state"].type == FieldType.enum and collection["state"].choices == ["open", "closed"]
    assert collection["assignee"].type == FieldType.string
    assert collection["starts_at"].type == FieldType.datetime and collection["ends_at"].required


def test_roles_from_the_spec_keep_admin_and_endpoint_roles_follow_permissions():
    plan = design_plan(read_spec(GUIDED, SpecMode.guided))
    assert [r.name for r in plan.roles] == ["admin", "curator"]
    by_route = {(e.method, e.path): e.roles for e in plan.endpoints}
    assert by_route[("POST", "/bookmarks")] == ["admin", "curator"]
    assert by_route[("DELETE", "/bookmarks/{id}")] == ["admin"]
    assert by_route[("POST", "/tags")] == ["admin"]


def test_default_roles_when_the_text_names_none():
    plan = design_plan(read_spec("Build a CRM system with contacts and deals"))
    roles = {r.name: r.permissions["*"] for r in plan.roles}
    assert roles == {"admin": list(Action), "member": [Action.create, Action.read, Action.update],
                     "viewer": [Action.read]}


def test_files_and_first_migration():
    plan = design_plan(read_spec(GUIDED, SpecMode.guided))
    assert {"app/models.py", "app/routers/bookmarks.py", "tests/test_bookmarks.py",
            "migrations/versions/0001_initial_tables.py"} <= set(plan.files)
    (rev,) = plan.migrations
    assert rev.revision == "0001" and rev.tables == ["bookmark", "tag", "collection"]
    assert rev.link_tables == ["bookmark_tag_links"]
    kinds = {(r.parent, r.child): r.kind for r in plan.relations}
    assert kinds[("bookmark", "tag")] == RelationKind.many_to_many


def test_feature_options_are_filled_for_the_code_generator():
    plan = design_plan(read_spec(GUIDED, SpecMode.guided))
    report = next(f for f in plan.features if f.kind == FeatureKind.reports)
    assert report.options["group_by"] == ["visited"]


def test_incremental_plan_keeps_base_revisions_and_appends_one():
    base_spec = read_spec("Build a CRM system with contacts and deals")
    base = design_plan(base_spec)
    grown = read_spec("Add invoices linked to deals and a priority field to contacts",
                      base_spec=base_spec)
    plan = run_agent(DEFINITION, DesignerInput(spec=grown, base_plan=base),
                     AgentContext(provider=OfflineProvider()))
    assert plan.migrations[0] == base.migrations[0]
    new = plan.migrations[1]
    assert new.revision == "0002" and new.tables == ["invoice"]
    assert new.columns == {"contact": ["priority"]}
    assert [e.name for e in plan.entities][:2] == ["contact", "deal"]
    assert next(e for e in plan.entities if e.name == "deal") == next(
        e for e in base.entities if e.name == "deal")
    assert f"migrations/versions/0002_{'add_invoice_contact_columns'}.py" in plan.files


def test_nothing_new_adds_no_revision():
    spec = read_spec("Build a CRM system with contacts and deals")
    base = design_plan(spec)
    assert design_plan(spec, base).migrations == base.migrations


RULES = """
title: Evening courses
entities:
  course: [title]
  seat: [note]
  loan: {item: string, taken_on: date}
  request:
    subject: string
    phase: {type: enum, choices: [waiting, granted, declined]}
roles:
  admin: "*"
  tutor: {request: [read]}
features:
  - {kind: capacity, entity: seat, options: {parent: course, limit_field: places}}
  - {kind: date_order, entity: loan, options: {start: taken_on, end: back_on}}
  - {kind: due_overdue, entity: loan, options: {due: back_on, done_field: brought_back}}
  - kind: status_workflow
    entity: request
    options:
      field: phase
      states: [waiting, granted, declined]
      actions: {grant: {from: [waiting], to: granted, roles: [tutor]}}
"""


def test_rules_get_their_columns_relation_and_endpoints():
    plan = design_plan(read_spec(RULES, SpecMode.guided))
    fields = {e.name: {f.name: f for f in e.fields} for e in plan.entities}
    assert fields["course"]["places"].type == FieldType.integer  # the capacity's limit column
    assert fields["loan"]["back_on"].type == FieldType.date
    assert fields["loan"]["brought_back"].type == FieldType.boolean
    assert any(r.kind == RelationKind.one_to_many and (r.parent, r.child) == ("course", "seat")
               for r in plan.relations)  # a capacity is per parent: the relation is planned
    got = {(e.method, e.path): e for e in plan.endpoints}
    assert ("GET", "/loans/overdue") in got
    assert ("GET", "/courses/{id}/seats") in got
    assert got[("POST", "/requests/{id}/grant")].roles == ["tutor"]
    from mb_core.codegen import implemented_elements

    keys = {e.key for e in implemented_elements(plan)}
    assert {"feature:capacity:seat", "feature:date_order:loan", "feature:due_overdue:loan",
            "role:tutor:request:grant", "relation:course->seat"} <= keys
    assert "role:tutor:request:update" not in keys
