"""What the platform reports about itself, read from the store when asked: build counts, agent
latency, queue depth, chaos events. Read at request or scrape time, so figures
are right whichever process (an API worker, a Dagster run worker) did the work.

Tables another part of the builder owns (repair attempts, chaos events) are read
when the schema has them and answer empty otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import MetaData, Table, and_, func, inspect, select

from mb_core.models import BuildStatus
from mb_core.store.platform_tables import spec_runs, specs
from mb_core.store.store import Store
from mb_core.store.tables import build_steps, builds, exchanges

SUCCEEDED = (BuildStatus.released.value,)
FAILED = (BuildStatus.failed.value, BuildStatus.rolled_back.value, BuildStatus.rejected.value)


class ChaosSummary(BaseModel):
    events: int
    recovered: int
    unrecovered: int
    pending: int
    by_fault: dict[str, int]


def _optional_table(store: Store, name: str) -> Table | None:
    with store._reading() as conn:
        if not inspect(conn).has_table(name):
            return None
        return Table(name, MetaData(), autoload_with=conn)


def chaos_summary(store: Store, tenant: str | None = None) -> ChaosSummary:
    table = _optional_table(store, "chaos_events")
    if table is None:
        return ChaosSummary(events=0, recovered=0, unrecovered=0, pending=0, by_fault={})
    query = select(table.c.fault, table.c.recovered, func.count()).group_by(table.c.fault, table.c.recovered)
    if tenant is not None:
        query = query.join(builds, builds.c.id == table.c.build_id).where(builds.c.tenant == tenant)
    with store._reading() as conn:
        rows = conn.execute(query).all()
    by_fault: dict[str, int] = {}
    recovered = unrecovered = pending = 0
    for fault, outcome, count in rows:
        by_fault[fault] = by_fault.get(fault, 0) + int(count)
        if outcome is None:
            pending += int(count)
        elif outcome:
            recovered += int(count)
        else:
            unrecovered += int(count)
    return ChaosSummary(events=sum(by_fault.values()), recovered=recovered, unrecovered=unrecovered,
                        pending=pending, by_fault=dict(sorted(by_fault.items())))


def repair_attempts(store: Store, build_id: str) -> list[dict[str, Any]]:
    """The build's repair attempts (phase, outcome, why) as timeline entries, oldest first."""
    table = _optional_table(store, "repair_attempts")
    if table is None:
        return []
    with store._reading() as conn:
        rows = conn.execute(select(table).where(table.c.build_id == build_id)
                            .order_by(table.c.started_at, table.c.attempt)).mappings().all()
    return [
        {"at": _utc(row["started_at"]), "name": f"attempt {row['attempt']}: {row['phase']}",
         "status": str(row["outcome"]),
         "detail": " ".join(part for part in (row.get("failure_class") or "", row.get("reason") or "") if part)}
        for row in rows
    ]


def _utc(value: Any) -> datetime | None:
    from datetime import UTC

    if value is None or not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TenantCounts(BaseModel):
    """The v2 counters for one tenant."""

    specs_created: int = 0
    plans_generated: int = 0
    runs_started: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    autofix_iterations: int = 0
    queued: int = 0


def tenant_counts(store: Store, tenant: str | None = None) -> dict[str, TenantCounts]:
    """Per tenant: specs created (API specs, and builds submitted without one: each carries its own
    spec), plans generated (API plans and builds' plan steps), runs started (every build that left
    `submitted`), succeeded (released), failed (failed, rolled back, rejected), auto-fix iterations
    (repair attempts in the patch phase), queued (still submitted)."""
    counts: dict[str, TenantCounts] = {}

    def add(rows, field: str) -> None:
        for row_tenant, count in rows:
            entry = counts.setdefault(row_tenant, TenantCounts())
            setattr(entry, field, getattr(entry, field) + int(count))

    def scoped(query, table):
        return query if tenant is None else query.where(table.c.tenant == tenant)

    attempts = _optional_table(store, "repair_attempts")
    with store._reading() as conn:
        add(conn.execute(scoped(select(specs.c.tenant, func.count()).group_by(specs.c.tenant), specs)),
            "specs_created")
        add(conn.execute(scoped(
            select(builds.c.tenant, func.count())
            .select_from(builds.outerjoin(spec_runs, spec_runs.c.build_id == builds.c.id))
            .where(spec_runs.c.build_id.is_(None)).group_by(builds.c.tenant), builds)), "specs_created")
        add(conn.execute(scoped(select(specs.c.tenant, func.count()).where(specs.c.plan_json.is_not(None))
                                .group_by(specs.c.tenant), specs)), "plans_generated")
        add(conn.execute(scoped(
            select(builds.c.tenant, func.count()).select_from(
                build_steps.join(builds, builds.c.id == build_steps.c.build_id))
            .where(and_(build_steps.c.name == "plan", build_steps.c.status == "succeeded"))
            .group_by(builds.c.tenant), builds)), "plans_generated")
        by_status = conn.execute(scoped(
            select(builds.c.tenant, builds.c.status, func.count()).group_by(builds.c.tenant, builds.c.status),
            builds)).all()
        if attempts is not None:
            add(conn.execute(scoped(
                select(builds.c.tenant, func.count()).select_from(
                    attempts.join(builds, builds.c.id == attempts.c.build_id))
                .where(attempts.c.phase == "patch").group_by(builds.c.tenant), builds)), "autofix_iterations")
    for row_tenant, status, count in by_status:
        entry = counts.setdefault(row_tenant, TenantCounts())
        if status == BuildStatus.submitted.value:
            entry.queued += int(count)
        else:
            entry.runs_started += int(count)
        if status in SUCCEEDED:
            entry.runs_succeeded += int(count)
        if status in FAILED:
            entry.runs_failed += int(count)
    return counts


def agent_latency(store: Store) -> dict[str, tuple[int, float]]:
    """Per agent role: (calls, total latency in seconds), from the recorded exchanges."""
    with store._reading() as conn:
        rows = conn.execute(
            select(exchanges.c.role, func.count(), func.coalesce(func.sum(exchanges.c.latency_s), 0.0))
            .group_by(exchanges.c.role).order_by(exchanges.c.role)
        ).all()
    return {role: (int(calls), float(total)) for role, calls, total in rows}


def retries_and_budget_exceedances(store: Store) -> tuple[int, int]:
    """Repair attempts in the retry phase, and builds stopped by a budget."""
    attempts = _optional_table(store, "repair_attempts")
    with store._reading() as conn:
        retries = 0
        if attempts is not None:
            retries = int(conn.execute(select(func.count()).select_from(attempts)
                                       .where(attempts.c.phase == "retry")).scalar() or 0)
        exceeded = int(conn.execute(select(func.count()).select_from(builds)
                                    .where(builds.c.error.like("%budget%"))).scalar() or 0)
    return retries, exceeded
