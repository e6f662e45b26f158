"""Python and SQL names for whatever a spec calls its entities and fields.

A plan's names are snake_case words chosen by people ("class", "order", "type", "json"); the
generated code must stay valid and unsurprising for every one of them. Columns keep the plan's name
in the database (SQLAlchemy quotes reserved words) and in JSON (pydantic aliases); only the Python
attribute gets a trailing underscore when the bare word would break or shadow something.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re

from mb_core.codegen.errors import PlanNotRenderable

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# Names imported at module level in the generated models and schemas: a class attribute with one of
# these names would shadow the import for the annotations below it in the same class body.
MODULE_IMPORTS = frozenset({"sa", "orm", "db", "dt", "decimal", "common"})

# Attributes that SQLAlchemy's declarative base or pydantic's BaseModel already own.
BASE_CLASS_ATTRS = frozenset(
    {
        "metadata", "registry", "query", "copy", "dict", "json", "schema", "schema_json", "validate",
        "construct", "fields", "from_orm", "parse_obj", "parse_raw", "parse_file",
        "update_forward_refs",
    }
)

# Parameter and local names of the generated router functions.
ROUTER_LOCALS = frozenset(
    {
        "session", "principal", "limit", "offset", "q", "item_id", "child_id", "payload", "request",
        "response", "stmt", "row", "rows", "values", "changes", "items", "total", "group_by",
        "buffer", "writer", "router", "audit", "select", "func", "sa", "orm", "csv", "io", "key",
        "value", "conditions", "start", "end", "resource", "current", "sums", "groups", "data", "link",
        "filters", "common", "found", "clash",
    }
)

# Class names the generated modules import; an entity class may not take one of them.
RESERVED_CLASS_NAMES = frozenset(
    {
        "Annotated", "Any", "APIRouter", "Base", "BaseModel", "ConfigDict", "Database", "Decimal",
        "Depends", "Email", "Field", "FastAPI", "HTTPException", "Iterator", "JSONResponse",
        "Literal", "Page", "Phone", "Principal", "Query", "Report", "ReportGroup", "Request",
        "Response", "Session", "SessionDep", "Settings", "TenantScoped", "Url", "UtcDatetime",
        "AuditEntry", "AuditRead", "Health", "SlidingWindowLimiter", "Path", "CanRead", "CanCreate",
        "CanUpdate", "CanDelete", "FiltersDep", "Self",
    }
)

# Module names the generated packages use for themselves.
RESERVED_MODULES = frozenset({"links", "common", "__init__"})

# Columns every entity table has; a plan field of the same name is the same thing.
BASE_COLUMNS = ("id", "tenant_id", "created_at", "updated_at")

# Tables and paths the generated application keeps for itself.
RESERVED_TABLES = frozenset({"audit_log", "alembic_version"})
RESERVED_PATHS = frozenset({"audit", "health", "docs", "redoc", "openapi.json"})

MAX_NAME = 40  # keeps every derived constraint name inside PostgreSQL's 63-character limit


def check_name(name: str, what: str) -> str:
    if not SNAKE.match(name or ""):
        raise PlanNotRenderable(f"{what} {name!r} is not a snake_case name (a-z, 0-9, _; starts with a letter)")
    if len(name) > MAX_NAME:
        raise PlanNotRenderable(f"{what} {name!r} is longer than {MAX_NAME} characters")
    return name


def _reserved_attr(name: str) -> bool:
    return (
        keyword.iskeyword(name)
        or name in MODULE_IMPORTS
        or name in BASE_CLASS_ATTRS
        or name.startswith("model_")
    )


def attr_name(name: str) -> str:
    """The Python attribute for a column: the plan's name unless that would break or shadow."""
    return f"{name}_" if _reserved_attr(name) else name


def param_name(name: str) -> str:
    """A router function parameter: also keeps clear of builtins and the router's own locals."""
    if _reserved_attr(name) or name in ROUTER_LOCALS or hasattr(builtins, name):
        return f"{name}_"
    return name


def module_name(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name in RESERVED_MODULES else name


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def class_name(name: str) -> str:
    base = camel(name)
    return f"{base}Record" if base in RESERVED_CLASS_NAMES else base


def constraint_name(prefix: str, *parts: str) -> str:
    """A deterministic constraint/index name; long ones end in a short hash instead of overflowing."""
    name = "_".join((prefix, *parts))
    if len(name) <= 60:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{name[:51]}_{digest}"


def words(name: str) -> str:
    return name.replace("_", " ")
