"""principals, API keys, API specs and their runs, audit log, feature flags

Revision ID: 0003_platform
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_platform"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_principals"),
        sa.UniqueConstraint("tenant", "name", name="uq_principals_tenant_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.id"], ondelete="CASCADE",
                                name="fk_api_keys_principal_id_principals"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("token_sha256", name="uq_api_keys_token_sha256"),
    )
    op.create_index("ix_api_keys_tenant_principal_id", "api_keys", ["tenant", "principal_id"])
    op.create_table(
        "specs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=True),
        sa.Column("planned_by", sa.String(64), nullable=True),
        sa.Column("planned_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_specs"),
    )
    op.create_index("ix_specs_tenant_created_at", "specs", ["tenant", "created_at"])
    op.create_table(
        "spec_runs",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("spec_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("promoted_by", sa.String(64), nullable=True),
        sa.Column("promoted_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="CASCADE",
                                name="fk_spec_runs_build_id_builds"),
        sa.ForeignKeyConstraint(["spec_id"], ["specs.id"], ondelete="CASCADE",
                                name="fk_spec_runs_spec_id_specs"),
        sa.PrimaryKeyConstraint("build_id", name="pk_spec_runs"),
    )
    op.create_index("ix_spec_runs_tenant_spec_id", "spec_runs", ["tenant", "spec_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_tenant_at", "audit_log", ["tenant", "at"])
    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feature_flags"),
        sa.UniqueConstraint("key", "scope", "tenant", "run_id",
                            name="uq_feature_flags_key_scope_tenant_run_id"),
    )


def downgrade() -> None:
    op.drop_table("feature_flags")
    op.drop_index("ix_audit_log_tenant_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_spec_runs_tenant_spec_id", table_name="spec_runs")
    op.drop_table("spec_runs")
    op.drop_index("ix_specs_tenant_created_at", table_name="specs")
    op.drop_table("specs")
    op.drop_index("ix_api_keys_tenant_principal_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("principals")
