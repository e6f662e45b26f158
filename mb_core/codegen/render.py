"""ScaffoldPlan -> files. Deterministic: the same plan gives byte-identical files, sorted by path."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import jinja2

from mb_core.codegen import naming, rule_tests, sources
from mb_core.codegen.blueprint import Blueprint, Column, Entity, Link, resolve
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.versions import DEV, PINNED, RUNTIME, TOOLS
from mb_core.models import GeneratedFile, ImplementedElement, ScaffoldPlan

TEMPLATES = Path(__file__).parent / "templates"
SAMPLE_VALUES = Path(__file__).parent / "sample_values.py"

# (group, module, names or None for a plain import, pattern that shows the name is used)
IMPORT_RULES: list[tuple[int, str, str, str]] = [
    (0, "import csv", "", r"\bcsv\."),
    (0, "import datetime as dt", "", r"\bdt\."),
    (0, "import decimal", "", r"\bdecimal\."),
    (0, "import io", "", r"\bio\."),
    (0, "typing", "Annotated", r"\bAnnotated\["),
    (0, "typing", "Any", r"\bAny\]"),
    (0, "typing", "Literal", r"\bLiteral\["),
    (0, "typing", "Self", r"-> Self\b"),
    (1, "import sqlalchemy as sa", "", r"\bsa\."),
    (1, "fastapi", "APIRouter", r"\bAPIRouter\("),
    (1, "fastapi", "Depends", r"\bDepends\("),
    (1, "fastapi", "HTTPException", r"\bHTTPException\("),
    (1, "fastapi", "Path", r"\bPath\("),
    (1, "fastapi", "Query", r"\bQuery\("),
    (1, "fastapi", "Response", r"\bResponse\b"),
    (1, "pydantic", "BaseModel", r"\(BaseModel\)"),
    (1, "pydantic", "ConfigDict", r"\bConfigDict\("),
    (1, "pydantic", "Field", r"\bField\("),
    (1, "pydantic", "model_validator", r"@model_validator\("),
    (1, "sqlalchemy", "orm", r"\borm\."),
    (2, "app", "audit", r"\baudit\.record\("),
    (2, "app", "db", r"\bdb\.(Base|TenantScoped)\b"),
    (2, "app.db", "get_session", r"\bget_session\)"),
    (2, "app.listing", "Page", r"\bPage\["),
    (2, "app.listing", "Report", r"\bReport\b"),
    (2, "app.listing", "ReportGroup", r"\bReportGroup\("),
    (2, "app.listing", "csv_cell", r"\bcsv_cell\("),
    (2, "app.listing", "ensure_exists", r"\bensure_exists\("),
    (2, "app.listing", "flush_or_conflict", r"\bflush_or_conflict\("),
    (2, "app.listing", "paginate", r"\bpaginate\("),
    (2, "app.listing", "text_search", r"\btext_search\("),
    (2, "app.listing", "averages", r"averages=averages\("),
    (2, "app.listing", "totals", r"\btotals\("),
    (2, "app.permissions", "is_allowed", r"\bis_allowed\("),
    (2, "app.schemas", "common", r"\bcommon\."),
    (2, "app.security", "Principal", r"\bPrincipal\b"),
    (2, "app.security", "require", r"\brequire\("),
]


SAMPLE_NAMES = ("amount", "day", "email", "moment", "number", "phone", "text", "url")
LINE_LENGTH = 88  # what ruff's default settings check in the generated project


def _import_names(names: list[str]) -> list[str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions and modules."""

    def kind(name: str) -> int:
        if name.isupper() and len(name) > 1:
            return 0
        return 1 if name[:1].isupper() else 2

    return sorted(set(names), key=lambda n: (kind(n), n))


def _from_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def _imports(body: str, extra: list[tuple[int, str, list[str]]]) -> str:
    plain: list[set[str]] = [set(), set(), set()]
    from_names: dict[tuple[int, str], list[str]] = {}
    for group, module, name, pattern in IMPORT_RULES:
        if not re.search(pattern, body):
            continue
        if not name:
            plain[group].add(module)
        else:
            from_names.setdefault((group, module), []).append(name)
    if "#TESTS#" in body:
        used = set(re.findall(r"(?<![\w.])((?:make|payload)_\w+|next_number)\(", body))
        if re.search(r"\bADMIN\b", body):
            used.add("ADMIN")
        if used:
            from_names[(2, "tests.conftest")] = sorted(used)
        samples = [n for n in SAMPLE_NAMES if re.search(rf"(?<![\w.]){n}\(", body)]
        if samples:
            from_names[(2, "tests.sample_values")] = samples
    for group, module, names in extra:
        from_names.setdefault((group, module), []).extend(names)
    blocks = []
    for group in range(3):
        lines = sorted(plain[group], key=lambda line: line.split()[1])
        froms = sorted((m, n) for (g, m), n in from_names.items() if g == group)
        lines += [_from_line(m, _import_names(n)) for m, n in froms]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _with_imports(text: str, extra: list[tuple[int, str, list[str]]]) -> str:
    head, marker, body = text.partition("#IMPORTS#")
    if not marker:
        return text
    return head + _imports(body, extra) + body.replace("#TESTS#\n", "")


def _py(value) -> str:
    return sources.literal(value)


def article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


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
    env.filters.update(article=article, py=_py, pytuple=_pytuple, pyset=_pyset, words=naming.words, attr=naming.attr_name)
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
        from_line=lambda module, names: _from_line(module, _import_names(names)),
        fk=lambda table, column: naming.constraint_name("fk", table, column),
        uq=lambda table, column: naming.constraint_name("uq", table, column),
        ix=lambda table, column: naming.constraint_name("ix", table, column),
    )
    return env


class _Renderer:
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
        text = _with_imports(text, list(extra_imports))
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


def _create_cols(ent: Entity) -> list[Column]:
    return [c for c in ent.columns if c.in_create]


def _update_cols(ent: Entity) -> list[Column]:
    return [c for c in ent.columns if c.in_update]


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
    r = _Renderer(bp)
    _render_application(r, bp)
    return r.result()


def _render_application(r: _Renderer, bp: Blueprint) -> None:
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
            create_cols=_create_cols(ent), update_cols=_update_cols(ent),
        )
        r.render(
            f"app/routers/{ent.module}.py", "app/routers/entity.py.j2", ent=ent,
            extra_imports=_router_imports(bp, ent), filter_type=_filter_type,
            export_columns=["id", *[c.name for c in ent.columns], "created_at", "updated_at"],
        )
    _render_tests(r, bp)
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


# --- generated tests -------------------------------------------------------------------------


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
    comparable = [c for c in _update_cols(ent) if c.kind in ("string", "text", "enum", "integer", "boolean", "email")
                  and not (c.kind == "enum" and len(c.choices) < 2) and c.kind != "fk"]
    schedule_cols = {ent.schedule.start.name, ent.schedule.end.name} if ent.schedule else set()
    comparable = [c for c in comparable if c.name not in schedule_cols]
    if not comparable:
        return None
    col = comparable[0]
    expr = sources.other_value_expr(col)
    return {"col": col, "expr": expr, "compare": True, "uses_n": bool(re.search(r"\bn\b", expr))}


def _entity_test_plan(bp: Blueprint, ent: Entity) -> dict:
    creatable = _create_cols(ent)
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
        injection = next((c for c in _create_cols(ent) if c.kind in ("string", "text") and (c.max_length or 200) >= 12
                          and not c.unique), None)
        return {"read_role": _role_for(bp, ent, "read"), "injection": injection}
    raise ValueError(kind)  # pragma: no cover


def _app_files(ent: Entity) -> list[str]:
    return [f"app/models/{ent.module}.py", f"app/schemas/{ent.module}.py", f"app/routers/{ent.module}.py"]


def _revision_file(bp: Blueprint, revision: str) -> str:
    return next(rev.filename for rev in bp.revisions if rev.revision == revision)


def _entity_elements(r: _Renderer, bp: Blueprint, ent: Entity, t: dict, path: str) -> None:
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


def _feature_elements(r: _Renderer, bp: Blueprint, ent: Entity, kind: str, f: dict, path: str) -> None:
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


def _render_tests(r: _Renderer, bp: Blueprint) -> None:
    r.files["tests/__init__.py"] = ""
    r.files["tests/sample_values.py"] = SAMPLE_VALUES.read_text(encoding="utf-8")
    r.render(
        "tests/conftest.py", "tests/conftest.py.j2", create_cols=_create_cols,
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
    r.render("tests/test_security.py", "tests/test_security.py.j2", s=security, conftest_names=_import_names([*names, 'next_number']))
    r.check_elements()


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
    r = _Renderer(bp)
    _render_devops(r, bp)
    return r.result()


def _render_devops(r: _Renderer, bp: Blueprint) -> None:
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
    r = _Renderer(bp)
    _render_application(r, bp)
    _render_devops(r, bp)
    return r.result()
