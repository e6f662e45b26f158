"""The canary's tables: each build's variant, one sample per finished build, and the reports.

Samples and reports carry no foreign key to `builds`: the canary's evidence outlives the builds
it came from (as chaos events do)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from mb_core.store.tables import ID_LENGTH, NAME_LENGTH, UTCDateTime, metadata

build_variants = Table(
    "build_variants",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("variant", String(16), nullable=False),
    Column("canary_percent", Float, nullable=True),
    Column("randomized", Boolean, nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
)

canary_samples = Table(
    "canary_samples",
    metadata,
    Column("build_id", String(ID_LENGTH), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("variant", String(16), nullable=False),
    Column("randomized", Boolean, nullable=False),
    Column("canary_percent", Float, nullable=True),
    Column("success", Boolean, nullable=False),
    Column("status", String(32), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("iterations", Integer, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Index("ix_canary_samples_tenant_finished_at", "tenant", "finished_at"),
)

canary_reports = Table(
    "canary_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),  # "" for every tenant together
    Column("generated_at", UTCDateTime, nullable=False),
    Column("recommendation", String(16), nullable=False),
    Column("regression", Boolean, nullable=False),
    Column("report_json", Text, nullable=False),
    Index("ix_canary_reports_tenant_generated_at", "tenant", "generated_at"),
)
