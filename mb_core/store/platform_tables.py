"""The platform's tables: principals and their API keys, specs handed in through the API and the
builds started from them, the audit log and feature flag values. Every row carries its tenant."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from mb_core.store.tables import ID_LENGTH, NAME_LENGTH, UTCDateTime, metadata

principals = Table(
    "principals",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "name", name="uq_principals_tenant_name"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("principal_id", String(ID_LENGTH), ForeignKey("principals.id", ondelete="CASCADE"),
           nullable=False),
    # sha256 of the token: the token itself is shown once and never kept.
    Column("token_sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("token_sha256", name="uq_api_keys_token_sha256"),
    Index("ix_api_keys_tenant_principal_id", "tenant", "principal_id"),
)

specs = Table(
    "specs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("text", Text, nullable=False),
    Column("mode", String(32), nullable=False),
    Column("created_by", String(ID_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("plan_json", Text, nullable=True),
    Column("planned_by", String(ID_LENGTH), nullable=True),
    Column("planned_at", UTCDateTime, nullable=True),
    Index("ix_specs_tenant_created_at", "tenant", "created_at"),
)

spec_runs = Table(
    "spec_runs",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("spec_id", String(ID_LENGTH), ForeignKey("specs.id", ondelete="CASCADE"), nullable=False),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("submitted_by", String(ID_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The spec's promoted run: the release its tenant serves as current (at most one per spec).
    Column("promoted_by", String(ID_LENGTH), nullable=True),
    Column("promoted_at", UTCDateTime, nullable=True),
    Index("ix_spec_runs_tenant_spec_id", "tenant", "spec_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("actor", String(ID_LENGTH), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(ID_LENGTH), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_audit_log_tenant_at", "tenant", "at"),
)

feature_flags = Table(
    "feature_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(NAME_LENGTH), nullable=False),
    Column("scope", String(16), nullable=False),
    # Empty strings, not NULL, for "no tenant" / "no run": NULLs never collide in a unique key.
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("run_id", String(ID_LENGTH), nullable=False),
    Column("value_json", Text, nullable=False),
    Column("updated_by", String(ID_LENGTH), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", "scope", "tenant", "run_id", name="uq_feature_flags_key_scope_tenant_run_id"),
)

build_flags = Table(
    "build_flags",
    metadata,
    # The flag values a build was resolved with at submission, kept so every process that runs or
    # replays it obeys the same ones.
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("values_json", Text, nullable=False),
    Column("sources_json", Text, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=False),
)
