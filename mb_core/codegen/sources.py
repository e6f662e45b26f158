"""Python source fragments for one column: its SQLAlchemy type, its pydantic annotation, samples.

Kept apart from the templates so each rule (a money column is Numeric(18, 4) and Decimal in the API,
a required string has min_length=1...) is written once and used by models, migrations and tests.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from mb_core.codegen import sample_values
from mb_core.codegen.columns import Column
from mb_core.codegen.entities import Entity
from mb_core.codegen.naming import constraint_name

PY_TYPES = {
    "string": "str", "text": "str", "email": "str", "phone": "str", "url": "str", "enum": "str",
    "assignee": "str", "integer": "int", "fk": "int", "decimal": "decimal.Decimal", "boolean": "bool",
    "date": "dt.date", "datetime": "dt.datetime",
}
INPUT_TYPES = {**PY_TYPES, "email": "common.Email", "phone": "common.Phone", "url": "common.Url",
               "datetime": "common.UtcDatetime"}
READ_TYPES = {**PY_TYPES, "datetime": "common.UtcDatetime"}


def pystr(text: str) -> str:
    """A string literal in double quotes, the usual style of Python projects."""
    literal = repr(text)
    if literal.startswith("'"):
        literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return literal


def literal(value) -> str:
    """A Python literal for a constant, spelled with the generated modules' imports."""
    if isinstance(value, str):
        return pystr(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, date):
        return f"dt.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, float):
        return repr(value)
    raise TypeError(f"no literal for {value!r}")  # pragma: no cover - only the types above reach here


def sa_type(col: Column) -> str:
    if col.kind in ("string", "email", "phone", "url", "enum", "assignee"):
        return f"sa.String({col.max_length})"
    return {
        "text": "sa.Text()", "integer": "sa.Integer()", "fk": "sa.Integer()",
        "decimal": "sa.Numeric(18, 4)", "boolean": "sa.Boolean()", "date": "sa.Date()",
        "datetime": "sa.DateTime(timezone=True)",
    }[col.kind]


def enum_literal(col: Column) -> str:
    return "Literal[" + ", ".join(literal(c) for c in col.choices) + "]"


def fk_name(ent: Entity, col: Column) -> str:
    return constraint_name("fk", ent.table, col.name)


def uq_name(ent: Entity, col: Column) -> str:
    return constraint_name("uq", ent.table, col.name)


def ix_name(table: str, column: str) -> str:
    return constraint_name("ix", table, column)


def indexed(col: Column) -> bool:
    # Foreign keys and exact-match filters are what list queries filter on.
    return col.filterable and not col.unique


def model_line(ent: Entity, col: Column) -> str:
    args = []
    if col.attr != col.name:
        args.append(literal(col.name))
    args.append(sa_type(col))
    if col.kind == "fk":
        args.append(f"sa.ForeignKey({literal(col.ref_table + '.id')}, ondelete={literal(col.ondelete)}, name={literal(fk_name(ent, col))})")
    if col.nullable:
        args.append("nullable=True")
    py = PY_TYPES[col.kind] + (" | None" if col.nullable else "")
    return f"{col.attr}: orm.Mapped[{py}] = orm.mapped_column({', '.join(args)})"


def migration_column(ent: Entity, col: Column, *, inline_fk: bool = True) -> str:
    args = [literal(col.name), sa_type(col)]
    if col.kind == "fk" and inline_fk:
        args.append(f"sa.ForeignKey({literal(col.ref_table + '.id')}, name={literal(fk_name(ent, col))}, ondelete={literal(col.ondelete)})")
    args.append(f"nullable={col.nullable}")
    return f"sa.Column({', '.join(args)})"


INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # sa.Integer is 32-bit on PostgreSQL


def _field_kwargs(col: Column, *, default: str | None) -> list[str]:
    kw = []
    if default is not None:
        kw.append(f"default={default}")
    if col.attr != col.name:
        kw.append(f"alias={literal(col.name)}")
    if col.kind in ("string", "text", "email", "phone", "url", "assignee") and col.max_length:
        kw.append(f"max_length={col.max_length}")
    if col.kind in ("string", "text") and col.required:
        kw.append("min_length=1")
    if col.kind == "integer":
        # Unbounded ints would reach the database as values its INTEGER column cannot hold (500).
        low = math.ceil(col.min_value) if col.min_value is not None else INT_MIN
        high = math.floor(col.max_value) if col.max_value is not None else INT_MAX
        kw += [f"ge={max(low, INT_MIN)}", f"le={min(high, INT_MAX)}"]
    if col.kind == "decimal":
        kw += ["max_digits=18", "decimal_places=4"]
        if col.min_value is not None:
            kw.append(f"ge={literal(Decimal(str(col.min_value)))}")
        if col.max_value is not None:
            kw.append(f"le={literal(Decimal(str(col.max_value)))}")
    if col.kind == "fk":
        kw += ["gt=0", f"le={INT_MAX}"]
    if col.description:
        kw.append(f"description={literal(col.description)}")
    return kw


def _input_type(col: Column) -> str:
    return enum_literal(col) if col.kind == "enum" else INPUT_TYPES[col.kind]


def create_line(col: Column) -> str:
    if col.required:
        default = None
        ann = _input_type(col)
    elif col.has_default:
        default = literal(col.default)
        ann = _input_type(col)
    else:
        default = "None"
        ann = _input_type(col) + " | None"
    kw = _field_kwargs(col, default=default)
    return f"{col.attr}: {ann} = Field({', '.join(kw)})" if kw else f"{col.attr}: {ann}"


def update_line(col: Column) -> str:
    # Omitted means "leave as is"; null is refused for required fields because the type has no None.
    ann = _input_type(col) + ("" if col.required else " | None")
    return f"{col.attr}: {ann} = Field({', '.join(_field_kwargs(col, default='None'))})"


def read_line(col: Column) -> str:
    base = enum_literal(col) if col.kind == "enum" else READ_TYPES[col.kind]
    ann = base + (" | None" if col.nullable else "")
    if col.attr != col.name:
        return f"{col.attr}: {ann} = Field(alias={literal(col.name)})"
    return f"{col.attr}: {ann}"


# --- samples ---------------------------------------------------------------------------------


def _int_range(col: Column) -> tuple[int, int]:
    low = math.ceil(col.min_value) if col.min_value is not None else 1
    high = math.floor(col.max_value) if col.max_value is not None else max(low, 0) + 100_000
    return low, max(low, high)


def _dec_range(col: Column) -> tuple[str, str]:
    low = Decimal(str(col.min_value)) if col.min_value is not None else Decimal(1)
    high = Decimal(str(col.max_value)) if col.max_value is not None else low + Decimal(10000)
    return str(low), str(max(low, high))


def sample_expr(col: Column, n: str = "n", *, prefix: str | None = None) -> str:
    """A Python expression (over the int `n`) for a valid JSON value of the column."""
    label = prefix or col.label.capitalize()
    k = col.kind
    if k in ("string", "text", "assignee"):
        return f"text({literal(label)}, {n}, {col.max_length or 200})"
    if k == "email":
        return f"email({n}, {col.max_length})"
    if k == "phone":
        return f"phone({n})"
    if k == "url":
        return f"url({n}, {col.max_length})"
    if k == "integer":
        low, high = _int_range(col)
        return f"number({n}, {low}, {high})"
    if k == "decimal":
        low, high = _dec_range(col)
        return f"amount({n}, {literal(low)}, {literal(high)})"
    if k == "boolean":
        return "True"
    if k == "date":
        return f"day({n})"
    if k == "datetime":
        return f"moment({n})"
    if k == "enum":
        return literal(col.choices[0])
    raise ValueError(k)  # pragma: no cover - foreign keys are filled by the factories


def other_value_expr(col: Column, n: str = "n") -> str:
    """A valid value that differs from sample_expr's (for updates and filters)."""
    if col.kind == "boolean":
        return "False"
    if col.kind == "enum":
        return literal(col.choices[-1])
    return sample_expr(col, n, prefix="Changed")


def sample_python(col: Column, n: int) -> str:
    """A Python literal (for the seed script) of a valid value of the column."""
    k = col.kind
    if k == "enum":
        return literal(col.choices[n % len(col.choices)])
    if k == "boolean":
        return repr(n % 2 == 0)
    if k in ("string", "text", "assignee"):
        return literal(sample_values.text(col.label.capitalize(), n, col.max_length or 200))
    if k == "email":
        return literal(sample_values.email(n, col.max_length))
    if k == "phone":
        return literal(sample_values.phone(n))
    if k == "url":
        return literal(sample_values.url(n, col.max_length))
    if k == "integer":
        return literal(sample_values.number(n, *_int_range(col)))
    if k == "decimal":
        return f"decimal.Decimal({sample_values.amount(n, *_dec_range(col))!r})"
    if k == "date":
        d = date.fromisoformat(sample_values.day(n))
        return f"dt.date({d.year}, {d.month}, {d.day})"
    if k == "datetime":
        d = date.fromisoformat(sample_values.day(n))
        return f"dt.datetime({d.year}, {d.month}, {d.day}, 9, 0, tzinfo=dt.UTC)"
    raise ValueError(k)  # pragma: no cover


def invalid_json(col: Column) -> str:
    """A JSON value (as Python source) the column's schema must refuse with 422."""
    k = col.kind
    if k in ("string", "text") and col.max_length:
        return f'"x" * {col.max_length + 1}'
    if k in ("string", "text"):
        return '{"not": "text"}'
    return {
        "integer": '"not-a-number"', "decimal": '"not-a-number"', "boolean": '"not-a-bool"',
        "date": '"not-a-date"', "datetime": '"not-a-time"', "email": '"not-an-email"',
        "phone": '"not a phone"', "url": '"not a url"', "enum": '"not-one-of-the-choices"', "fk": "0",
    }[k]


def needs_imports(cols: list[Column] | tuple[Column, ...], types: dict[str, str]) -> dict[str, bool]:
    used = " ".join(types[c.kind] for c in cols)
    return {
        "dt": "dt." in used,
        "decimal": "decimal." in used or any(c.kind == "decimal" and c.has_default for c in cols),
        "common": "common." in used,
    }
