"""The store's tables, as SQLAlchemy Core metadata.

Runtime code reads these; the Alembic revisions under `migrations/versions` are frozen copies that
create them (a test checks the two agree). Enums are kept as plain strings and JSON as text so the
same schema behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

# Fixed constraint names, so migrations can name what they drop on either backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID_LENGTH = 64
NAME_LENGTH = 128


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out on both backends.

    SQLite keeps no offset, so values are stored as UTC wall time and read back with UTC attached;
    a naive value handed in is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


builds = Table(
    "builds",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("tenant", String(NAME_LENGTH), nullable=False),
    Column("spec_text", Text, nullable=False),
    Column("mode", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("base_build_id", String(ID_LENGTH), nullable=True),
    Column("repo_path", Text, nullable=True),
    Column("risk_score", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("failure_class", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sla", String(16), nullable=False, server_default="normal"),  # mb_core.scheduling tier
    # The sensor looks for `submitted` oldest first; listings go newest first per tenant and overall.
    Index("ix_builds_status_created_at", "status", "created_at"),
    Index("ix_builds_tenant_created_at", "tenant", "created_at"),
    Index("ix_builds_created_at", "created_at", "id"),
)

build_steps = Table(
    "build_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("status", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("seconds", Float, nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("failure_class", String(32), nullable=True),
    Index("ix_build_steps_build_id_name", "build_id", "name"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("risk_score", Integer, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("decision", String(32), nullable=False),
    Column("decided_by", String(NAME_LENGTH), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=False, default=""),
)

exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(NAME_LENGTH), nullable=False),
    Column("request_key", String(NAME_LENGTH), nullable=False),
    Column("request_json", Text, nullable=False),
    Column("reply_json", Text, nullable=False),
    Column("usage_prompt", Integer, nullable=False),
    Column("usage_completion", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("latency_s", Float, nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("build_id", "seq", name="uq_exchanges_build_id_seq"),
    Index("ix_exchanges_request_key", "request_key"),
    Index("ix_exchanges_provider_model", "provider", "model"),
)

repair_attempts = Table(
    "repair_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("phase", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("failure_class", String(32), nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("seconds", Float, nullable=True),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("tokens", Integer, nullable=False, default=0),
    UniqueConstraint("build_id", "attempt", name="uq_repair_attempts_build_id_attempt"),
)

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("name", String(NAME_LENGTH), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("fail_counter", Integer, nullable=False, default=0),
    Column("success_counter", Integer, nullable=False, default=0),
    Column("opened_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

run_budgets = Table(
    "run_budgets",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True),
    Column("max_attempts", Integer, nullable=False),
    Column("max_tokens", Integer, nullable=True),
    Column("max_seconds", Float, nullable=True),
    Column("max_cost_usd", Float, nullable=True),
    Column("running_seconds", Float, nullable=False, default=0.0),
    Column("attempts_used", Integer, nullable=False, default=0),
)

chaos_events = Table(
    "chaos_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Kept when its build is deleted: the chaos statistics outlive the builds they came from.
    Column("build_id", String(ID_LENGTH), nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("seam", String(32), nullable=False),
    Column("fault", String(64), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("recovered", Boolean, nullable=True),
    Column("recovery", Text, nullable=False, default=""),
    Index("ix_chaos_events_build_id", "build_id"),
)
