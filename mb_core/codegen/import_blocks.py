"""The import block of a generated module, derived from the names its body uses.

Templates write `#IMPORTS#` where the block goes; the block is then exactly what the body needs,
grouped and ordered the way isort orders it, so the generated project passes its own ruff check.
"""

from __future__ import annotations

import re

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


def import_names(names: list[str]) -> list[str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions and modules."""

    def kind(name: str) -> int:
        if name.isupper() and len(name) > 1:
            return 0
        return 1 if name[:1].isupper() else 2

    return sorted(set(names), key=lambda n: (kind(n), n))


def from_line(module: str, names: list[str]) -> str:
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
        lines += [from_line(m, import_names(n)) for m, n in froms]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def with_imports(text: str, extra: list[tuple[int, str, list[str]]]) -> str:
    head, marker, body = text.partition("#IMPORTS#")
    if not marker:
        return text
    return head + _imports(body, extra) + body.replace("#TESTS#\n", "")
