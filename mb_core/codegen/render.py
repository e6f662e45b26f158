"""ScaffoldPlan -> files. Deterministic: the same plan gives byte-identical files, sorted by path."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import jinja2

from mb_core.codegen import naming, sources
from mb_core.codegen.blueprint import Blueprint, resolve
from mb_core.codegen.columns import Column
from mb_core.codegen.entities import Entity, Link, create_columns, update_columns
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.generated_tests import render_tests
from mb_core.codegen.import_blocks import from_line, import_names, with_imports
from mb_core.codegen.versions import DEV, PINNED, RUNTIME, TOOLS
from mb_core.models import GeneratedFile, ImplementedElement, ScaffoldPlan
from mb_core.spec.naming import with_article

TEMPLATES = Path(__file__).parent / "templates"


def _py(value) -> str:
    return sources.literal(value)


def _pytuple(values) -> str:
    items = [_py(v) for v in values]
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def _pyset(values) -> str:
    items = [_py(v) for v in values]
    return "{" + ", ".join(items) + "}" if items else "set()"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        # The output is Python, YAML and Markdown; escaping HTML would corrupt it.
        autoescape=jinja2.select_autoescape(enabled_extensions=(), default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(article=with_article, py=_py, pytuple=_pytuple, pyset=_pyset, words=naming.words, attr=naming.attr_name)
    env.globals.update(
        model_line=sources.model_line,
        create_line=sources.create_line,
        update_line=sources.update_line,
        read_line=sources.read_line,
        enum_literal=sources.enum_literal,
        migration_column=sources.migration_column,
        sample_expr=sources.sample_expr,
        fk_name=sources.fk_name,
        uq_name=sources.uq_name,
        ix_name=sources.ix_name,
        indexed=sources.indexed,
        from_line=lambda module, names: from_line(module, import_names(names)),
        fk=lambda table, column: naming.constraint_name("fk", table, column),
        uq=lambda table, column: naming.constraint_name("uq", table, column),
        ix=lambda table, column: naming.constraint_name("ix", table, column),
    )
    return env


class Renderer:
    def __init__(self, bp: Blueprint):
        self.bp = bp
        self.by_name = {e.name: e for e in bp.entities}
        self.files: dict[str, str] = {}
        self.elements: dict[str, ImplementedElement] = {}

    def element(self, key: str, files: list[str], tests: list[tuple[str, str]], note: str = "") -> None:
        """Records what implements `key` and which generated tests (file, name) exercise it."""
        nodeids = [f"{path}::{name}" for path, name in tests]
        found = self.elements.get(key)
        if found is None:
            self.elements[key] = ImplementedElement(key=key, files=list(dict.fromkeys(files)), tests=nodeids, note=note)
        else:
            found.files = list(dict.fromkeys([*found.files, *files]))
            found.tests = list(dict.fromkeys([*found.tests, *nodeids]))

    def check_elements(self) -> None:
        """Every test an element names must be defined in the file it names (a template bug otherwise)."""
        for element in self.elements.values():
            for nodeid in element.tests:
                path, _, name = nodeid.partition("::")
                if not re.search(rf"^def {re.escape(name)}\(", self.files.get(path, ""), re.MULTILINE):
                    raise PlanNotRenderable(f"element {element.key} names test {nodeid}, which was not generated")

    def render(self, path: str, template: str, extra_imports=(), **context) -> None:
        env = _environment()
        text = env.get_template(template).render(
            bp=self.bp,
            entity_of=self.by_name.__getitem__,
            cls_of=lambda name: self.by_name[name].cls,
            table_of=lambda name: self.by_name[name].table,
            **context,
        )
        text = with_imports(text, list(extra_imports))
        text = re.sub(r"\n{4,}", "\n\n\n", text).rstrip("\n") + "\n"
        if path.endswith(".py"):
            try:
                ast.parse(text, filename=path)
            except SyntaxError as exc:  # a template bug; refuse rather than emit broken code
                raise PlanNotRenderable(f"generated {path} is not valid Python (line {exc.lineno}): {exc.msg}") from exc
        if path in self.files:
            raise PlanNotRenderable(f"two generated files share the path {path}")
        self.files[path] = text

    def result(self) -> list[GeneratedFile]:
        return [GeneratedFile(path=p, content=self.files[p]) for p in sorted(self.files)]


# --- the application -------------------------------------------------------------------------


def _table_args(ent: Entity) -> list[str]:
    lit = sources.literal
    args = [
        f"sa.UniqueConstraint(\"tenant_id\", {lit(c.name)}, name={lit(sources.uq_name(ent, c))})"
        for c in ent.columns if c.unique
    ]
    args += [f"sa.Index({lit(sources.ix_name(ent.table, c.name))}, {lit(c.name)})" for c in ent.columns if sources.indexed(c)]
    return args


def _link_line(bp: Blueprint, link: Link, side: str) -> str:
    by_name = {e.name: e for e in bp.entities}
    column = link.parent_column if side == "parent" else link.child_column
    target = by_name[link.parent if side == "parent" else link.child].table
    lit = sources.literal
    attr = naming.attr_name(column)
    args = [lit(column)] if attr != column else []
    fk = naming.constraint_name("fk", link.table, column)
    args.append(f"sa.ForeignKey({lit(target + '.id')}, ondelete=\"CASCADE\", name={lit(fk)})")
    return f"{attr}: orm.Mapped[int] = orm.mapped_column({', '.join(args)})"


def _router_imports(bp: Blueprint, ent: Entity) -> list[tuple[int, str, list[str]]]:
    by_name = {e.name: e for e in bp.entities}
    models = {ent.cls}
    models |= {by_name[c.ref_entity].cls for c in ent.fks}
    for link in ent.links:
        models |= {link.cls, by_name[link.child].cls}
    for child in ent.children:
        models.add(by_name[child.entity].cls)
    own = [ent.cls + s for s in ("Create", "Read", "Update")]
    if ent.workflow:
        own.append(ent.cls + "Transition")
    if ent.assignment:
        own.append(ent.cls + "Assignment")
    schemas = {ent.module: own}
    for child in [by_name[link.child] for link in ent.links] + [by_name[c.entity] for c in ent.children]:
        if child.name != ent.name and child.cls + "Read" not in schemas.setdefault(child.module, []):
            schemas[child.module].append(child.cls + "Read")
    return [(2, "app.models", sorted(models))] + [(2, f"app.schemas.{m}", names) for m, names in schemas.items()]


def _filter_type(col: Column) -> str:
    if col.kind == "enum":
        return sources.enum_literal(col)
    return {"boolean": "bool", "fk": "int", "assignee": "str"}.get(col.kind, "str")


def render_application(plan: ScaffoldPlan) -> list[GeneratedFile]:
    """The app package, its tests, README and project files."""
    bp = resolve(plan)
    r = Renderer(bp)
    _render_application(r, bp)
    return r.result()


def _render_application(r: Renderer, bp: Blueprint) -> None:
    for name in ("__init__", "settings", "db", "permissions", "security", "ratelimit", "audit", "listing", "main", "tokens"):
        r.render(f"app/{name}.py", f"app/{name}.py.j2")
    r.render("app/schemas/__init__.py", "app/__init__.py.j2")
    r.render("app/schemas/common.py", "app/schemas/common.py.j2")
    r.render("app/routers/__init__.py", "app/routers/__init__.py.j2")
    all_names = ["AuditEntry", *[e.cls for e in bp.entities], *[link.cls for link in bp.links]]
    modules = [("app.audit", ["AuditEntry"])] + [(f"app.models.{e.module}", [e.cls]) for e in bp.entities]
    if bp.links:
        modules.append(("app.models.links", [link.cls for link in bp.links]))
    r.render("app/models/__init__.py", "app/models/__init__.py.j2", all_names=sorted(all_names),
             model_modules=sorted(modules))
    if bp.links:
        r.render("app/models/links.py", "app/models/links.py.j2", link_line=lambda link, side: _link_line(bp, link, side))
    for ent in bp.entities:
        r.render(f"app/models/{ent.module}.py", "app/models/entity.py.j2", ent=ent, table_args=_table_args(ent))
        r.render(
            f"app/schemas/{ent.module}.py", "app/schemas/entity.py.j2", ent=ent,
            create_cols=create_columns(ent), update_cols=update_columns(ent),
        )
        r.render(
            f"app/routers/{ent.module}.py", "app/routers/entity.py.j2", ent=ent,
            extra_imports=_router_imports(bp, ent), filter_type=_filter_type,
            export_columns=["id", *[c.name for c in ent.columns], "created_at", "updated_at"],
        )
    render_tests(r, bp)
    r.render("README.md", "README.md.j2", endpoints=_endpoint_rows(bp), any_search=any(e.searchable for e in bp.entities),
             pii_fields=[f"{e.name}.{c}" for e in bp.entities for c in e.pii])
    r.render("pyproject.toml", "pyproject.toml.j2")
    r.render(".gitignore", "gitignore.j2")


def _endpoint_rows(bp: Blueprint) -> list[dict[str, str]]:
    def who(ent: Entity, action: str) -> str:
        names = [role.name for role in bp.roles if role.allows(ent.name, action)]
        return ", ".join(f"`{n}`" for n in names) or "nobody"

    rows = []
    for ent in bp.entities:
        p, label = ent.path, naming.words(ent.plural)
        rows.append({"method": "GET", "path": p, "what": f"list {label}", "permission": who(ent, "read")})
        if ent.report:
            rows.append({"method": "GET", "path": f"{p}/report", "what": "counts and sums per group", "permission": who(ent, "read")})
        if ent.report and ent.report.series:
            rows.append({"method": "GET", "path": f"{p}/report/series", "what": f"counts and sums per {' or '.join(ent.report.periods)}",
                         "permission": who(ent, "read")})
        if ent.overdue:
            rows.append({"method": "GET", "path": f"{p}/overdue", "what": f"past their {naming.words(ent.overdue.due.name)}, not done",
                         "permission": who(ent, "read")})
        if ent.csv_export:
            rows.append({"method": "GET", "path": f"{p}/export.csv", "what": "CSV export", "permission": who(ent, "read")})
        rows.append({"method": "POST", "path": p, "what": f"create a {naming.words(ent.name)}", "permission": who(ent, "create")})
        rows.append({"method": "GET", "path": f"{p}/{{id}}", "what": "read one", "permission": who(ent, "read")})
        rows.append({"method": "PATCH", "path": f"{p}/{{id}}", "what": "change fields", "permission": who(ent, "update")})
        rows.append({"method": "DELETE", "path": f"{p}/{{id}}", "what": "delete", "permission": who(ent, "delete")})
        if ent.workflow:
            w = ent.workflow
            moves = "; ".join(f"{s} -> {', '.join(t) or 'nothing'}" for s, t in w.transitions)
            rows.append({"method": "POST", "path": f"{p}/{{id}}/transition", "what": f"move {w.column.name} ({moves})",
                             "permission": who(ent, "update")})
            for action in w.actions:
                rows.append({"method": "POST", "path": f"{p}/{{id}}/{action.name}",
                             "what": f"{', '.join(action.sources)} -> {action.target}", "permission": who(ent, action.name)})
        for child in ent.children:
            plural = next(e.plural for e in bp.entities if e.name == child.entity)
            rows.append({"method": "GET", "path": f"{p}/{{id}}/{plural}", "what": f"its {naming.words(plural)}",
                         "permission": who(ent, "read")})
        if ent.assignment:
            rows.append({"method": "POST", "path": f"{p}/{{id}}/assign", "what": "assign to a user id", "permission": who(ent, "update")})
        for link in ent.links:
            child = next(e for e in bp.entities if e.name == link.child)
            rows.append({"method": "GET", "path": f"{p}/{{id}}/{child.plural}", "what": f"linked {naming.words(child.plural)}",
                             "permission": who(ent, "read")})
            rows.append({"method": "PUT", "path": f"{p}/{{id}}/{child.plural}/{{child_id}}", "what": "link",
                             "permission": who(ent, "update")})
            rows.append({"method": "DELETE", "path": f"{p}/{{id}}/{child.plural}/{{child_id}}", "what": "unlink",
                             "permission": who(ent, "update")})
    return rows


# --- devops ----------------------------------------------------------------------------------


def _seed_rows(bp: Blueprint, ent: Entity, order: list[str]) -> list[str]:
    lit = sources.literal
    rows = []
    for i in range(1, 4):
        parts = []
        for col in ent.columns:
            if col.kind == "fk":
                if col.ref_entity == ent.name or order.index(col.ref_entity) > order.index(ent.name):
                    continue  # a parent seeded later (or the row itself) cannot be referred to yet
                parts.append(f"{lit(col.attr)}: {col.ref_entity}_rows[{i - 1} % len({col.ref_entity}_rows)].id")
            elif ent.workflow and col.name == ent.workflow.column.name:
                parts.append(f"{lit(col.attr)}: {lit(ent.workflow.initial)}")
            elif col.kind == "assignee":
                continue
            elif (ent.schedule and col.name == ent.schedule.end.name) or (ent.date_order and col.name == ent.date_order.end.name):
                parts.append(f"{lit(col.attr)}: {_seed_end(col, i)}")
            else:
                parts.append(f"{lit(col.attr)}: {sources.sample_python(col, i)}")
        rows.append("{" + ", ".join(parts) + "}")
    return rows


def _seed_end(col: Column, i: int) -> str:
    from datetime import date

    from mb_core.codegen import sample_values

    d = date.fromisoformat(sample_values.day(i))
    if col.kind == "datetime":
        return f"dt.datetime({d.year}, {d.month}, {d.day}, 11, 0, tzinfo=dt.UTC)"
    d = date.fromisoformat(sample_values.day(i, 2))
    return f"dt.date({d.year}, {d.month}, {d.day})"


def render_devops(plan: ScaffoldPlan) -> list[GeneratedFile]:
    """Alembic environment and revisions, seed script, .env.example, Dockerfile, CI, requirements."""
    bp = resolve(plan)
    r = Renderer(bp)
    _render_devops(r, bp)
    return r.result()


def _render_devops(r: Renderer, bp: Blueprint) -> None:
    r.render("alembic.ini", "devops/alembic.ini.j2")
    r.render("migrations/env.py", "devops/env.py.j2")
    r.files["migrations/script.py.mako"] = (TEMPLATES / "devops" / "script.py.mako").read_text(encoding="utf-8")
    for rev in bp.revisions:
        r.render(rev.filename, "devops/revision.py.j2", rev=_ordered_revision(rev))
    order = [e.name for e in bp.creation_order()]
    r.render(
        "seed.py", "devops/seed.py.j2", order=bp.creation_order(),
        seed_rows={e.name: _seed_rows(bp, e, order) for e in bp.entities},
        model_names=sorted([e.cls for e in bp.entities] + [link.cls for link in bp.links]),
    )
    r.render(".env.example", "devops/env.example.j2")
    r.render("Dockerfile", "devops/Dockerfile.j2")
    r.render(".github/workflows/ci.yml", "devops/ci.yml.j2", versions=dict(runtime=PINNED, **TOOLS))
    r.render("requirements.txt", "devops/requirements.txt.j2", versions={"runtime": RUNTIME})
    r.render("requirements-dev.txt", "devops/requirements-dev.txt.j2", versions={"dev": DEV})
    tables = ["audit_log", *[e.table for e in bp.entities], *[link.table for link in bp.links]]
    r.render("tests/test_migrations.py", "devops/test_migrations.py.j2", tables=tables)
    r.render("tests/test_seed.py", "devops/test_seed.py.j2")


def _ordered_revision(rev):
    """Tables of a revision with referenced ones first (PostgreSQL checks foreign keys at creation)."""
    from dataclasses import replace

    pending = list(rev.tables)
    done: list = []
    names = {e.name for e in pending}
    while pending:
        for ent in pending:
            needs = {c.ref_entity for c in ent.fks if c.revision == rev.revision and c.ref_entity != ent.name}
            if needs & names <= {d.name for d in done}:
                done.append(ent)
                pending.remove(ent)
                break
        else:
            done.extend(pending)  # a cycle of optional references: SQLite accepts it, keep plan order
            break
    return replace(rev, tables=tuple(done))


def render_all(plan: ScaffoldPlan) -> list[GeneratedFile]:
    """Application and devops files together, sorted by path."""
    bp = resolve(plan)
    r = Renderer(bp)
    _render_application(r, bp)
    _render_devops(r, bp)
    return r.result()
