"""A resolved column: what the models, schemas, migrations and tests say about one field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mb_core.models import Action

ACTIONS = tuple(a.value for a in Action)
STRING_KINDS = frozenset({"string", "text", "email", "phone", "url"})
DEFAULT_LENGTH = {"string": 255, "email": 254, "phone": 32, "url": 2048}


@dataclass(frozen=True)
class Column:
    name: str  # database column and JSON key
    attr: str  # Python attribute
    param: str  # query parameter name in router functions
    kind: str  # a FieldType value, "fk" or "assignee"
    label: str
    required: bool  # must be given on create
    nullable: bool  # NULL allowed in the database
    revision: str
    unique: bool = False
    pii: bool = False
    searchable: bool = False
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    has_default: bool = False
    description: str = ""
    ref_entity: str | None = None
    ref_table: str | None = None
    ondelete: str | None = None
    in_create: bool = True
    in_update: bool = True

    @property
    def filterable(self) -> bool:
        return self.kind in ("enum", "boolean", "fk", "assignee")

    @property
    def is_text(self) -> bool:
        return self.kind in STRING_KINDS


