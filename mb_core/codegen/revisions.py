"""The migration revisions of a blueprint: which revision creates each table, column and link table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.codegen import naming
from mb_core.codegen.columns import Column
from mb_core.codegen.entities import Entity, Link
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.models import EntitySpec, MigrationRevision, RelationKind, RelationSpec


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str
    slug: str
    creates_audit: bool
    tables: tuple[Entity, ...]
    added: tuple[tuple[Entity, tuple[Column, ...]], ...]
    links: tuple[Link, ...]

    @property
    def filename(self) -> str:
        return f"migrations/versions/{self.revision}_{self.slug}.py"


def _link_candidates(rel: RelationSpec, specs: dict[str, EntitySpec]) -> list[str]:
    p, c = specs[rel.parent], specs[rel.child]
    return [
        f"{p.name}_{c.name}", f"{p.plural}_{c.plural}", f"{c.name}_{p.name}", f"{c.plural}_{p.plural}",
        f"{p.name}_{c.name}_links", f"{p.name}_{c.name}_link", f"{p.plural}_{c.plural}_links",
    ]


def link_table_name(rel: RelationSpec) -> str:
    """The association table's name when the plan's migrations do not name it."""
    return f"{rel.parent}_{rel.child}"


def revision_layout(plan, specs, relations, notes):
    """Which revision creates each table, column and link table.

    A column belongs to the revision that lists it, else to the revision that could first hold it
    (the later of its table's and, for a foreign key, its parent table's). An earlier revision's file
    is therefore a function of the earlier plan only, which keeps it byte-identical across builds.
    """
    revisions = list(plan.migrations)
    ids: list[str] = []
    for rev in revisions:
        if not re.match(r"^[0-9a-z_]{1,32}$", rev.revision):
            raise PlanNotRenderable(f"migration revision {rev.revision!r} is not a short lowercase id")
        if rev.revision in ids:
            raise PlanNotRenderable(f"migration revision {rev.revision!r} appears twice")
        ids.append(rev.revision)

    table_rev: dict[str, str] = {}
    for rev in revisions:
        for table in rev.tables:
            name = table if table in specs else next((s.name for s in specs.values() if s.plural == table), None)
            if name is None:
                raise PlanNotRenderable(f"migration {rev.revision} creates unknown entity {table!r}")
            if name in table_rev:
                raise PlanNotRenderable(f"entity {name!r} is created by two migrations")
            table_rev[name] = rev.revision

    m2m = [r for r in relations if r.kind == RelationKind.many_to_many]
    link_rev: dict[tuple[str, str], tuple[str, str]] = {}  # (parent, child) -> (table, revision)
    for rev in revisions:
        for link_name in rev.link_tables:
            rel = next((r for r in m2m if link_name in _link_candidates(r, specs)), None)
            if rel is None:
                raise PlanNotRenderable(
                    f"migration {rev.revision} creates link table {link_name!r} that matches no many-to-many relation"
                )
            link_rev.setdefault((rel.parent, rel.child), (link_name, rev.revision))

    missing = [name for name in specs if name not in table_rev]
    if missing:
        next_id = _next_revision_id(ids)
        message = "create " + ", ".join(specs[m].plural for m in missing)
        if revisions:
            notes.append(f"plan.migrations created no table for {', '.join(missing)}: added revision {next_id}")
        revisions.append(MigrationRevision(revision=next_id, message=message, tables=missing))
        ids.append(next_id)
        for name in missing:
            table_rev[name] = next_id

    column_rev: dict[tuple[str, str], str] = {}
    for rev in revisions:
        for ent, cols in rev.columns.items():
            name = ent if ent in specs else next((s.name for s in specs.values() if s.plural == ent), None)
            if name is None:
                raise PlanNotRenderable(f"migration {rev.revision} adds columns to unknown entity {ent!r}")
            for col in cols:
                if col not in naming.BASE_COLUMNS:
                    column_rev.setdefault((name, col), rev.revision)

    order = {rid: i for i, rid in enumerate(ids)}

    def later(*rids: str) -> str:
        return max(rids, key=order.__getitem__)

    for rel in m2m:
        key = (rel.parent, rel.child)
        if key not in link_rev:
            link_rev[key] = (link_table_name(rel), later(table_rev[rel.parent], table_rev[rel.child]))
    for (ent, col), rid in list(column_rev.items()):
        if order[rid] < order[table_rev[ent]]:
            raise PlanNotRenderable(f"migration {rid} adds column {ent}.{col} before the table exists")
    return revisions, table_rev, (column_rev, later), link_rev


def _next_revision_id(ids: list[str]) -> str:
    numbers = [int(i) for i in ids if i.isdigit()]
    return f"{(max(numbers) + 1) if numbers else 1:04d}"


def _slug(message: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    return (slug[:40].rstrip("_")) or "revision"


def resolved_revisions(
    entities: tuple[Entity, ...], links: tuple[Link, ...], revisions: list[MigrationRevision]
) -> tuple[Revision, ...]:
    """The revision files in order, each with the tables, columns and link tables it adds."""
    resolved: list[Revision] = []
    previous: str | None = None
    for i, rev in enumerate(revisions):
        rid = rev.revision
        tables = tuple(e for e in entities if e.revision == rid)
        added = tuple(
            (e, cols)
            for e in entities
            if e.revision != rid
            for cols in [tuple(c for c in e.columns if c.revision == rid)]
            if cols
        )
        rev_links = tuple(link for link in links if link.revision == rid)
        resolved.append(
            Revision(
                revision=rid,
                down_revision=previous,
                message=rev.message or f"revision {rid}",
                slug=_slug(rev.message or rid),
                creates_audit=i == 0,
                tables=tables,
                added=added,
                links=rev_links,
            )
        )
        previous = rid
    return tuple(resolved)
