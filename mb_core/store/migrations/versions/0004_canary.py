"""canary: build variants, canary samples, canary reports

Revision ID: 0004_canary
Revises: 0003_platform
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_canary"
down_revision = "0003_platform"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "build_variants",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("variant", sa.String(16), nullable=False),
        sa.Column("canary_percent", sa.Float(), nullable=True),
        sa.Column("randomized", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="CASCADE",
                                name="fk_build_variants_build_id_builds"),
        sa.PrimaryKeyConstraint("build_id", name="pk_build_variants"),
    )
    op.create_table(
        "canary_samples",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("variant", sa.String(16), nullable=False),
        sa.Column("randomized", sa.Boolean(), nullable=False),
        sa.Column("canary_percent", sa.Float(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("iterations", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("build_id", name="pk_canary_samples"),
    )
    op.create_index("ix_canary_samples_tenant_finished_at", "canary_samples", ["tenant", "finished_at"])
    op.create_table(
        "canary_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("generated_at", UTC, nullable=False),
        sa.Column("recommendation", sa.String(16), nullable=False),
        sa.Column("regression", sa.Boolean(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canary_reports"),
    )
    op.create_index("ix_canary_reports_tenant_generated_at", "canary_reports", ["tenant", "generated_at"])


def downgrade() -> None:
    op.drop_index("ix_canary_reports_tenant_generated_at", table_name="canary_reports")
    op.drop_table("canary_reports")
    op.drop_index("ix_canary_samples_tenant_finished_at", table_name="canary_samples")
    op.drop_table("canary_samples")
    op.drop_table("build_variants")
