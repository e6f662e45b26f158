"""Who works on an in-flight build: one lease per build, taken by the process running its
attempt (an `mb build` process or a Dagster run worker), read by the reconciler."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table

from mb_core.store.tables import ID_LENGTH, NAME_LENGTH, UTCDateTime, metadata

build_workers = Table(
    "build_workers",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("attempt", Integer, nullable=False),
    Column("driver", String(32), nullable=False),
    Column("host", String(NAME_LENGTH), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("pid_started", Float, nullable=True),
    Column("run_id", String(ID_LENGTH), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
