"""the flag values each build was resolved with at submission

Revision ID: 0008_build_flags
Revises: 0007_scheduling
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_build_flags"
down_revision = "0007_scheduling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "build_flags",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("sources_json", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="CASCADE",
                                name="fk_build_flags_build_id_builds"),
        sa.PrimaryKeyConstraint("build_id", name="pk_build_flags"),
    )


def downgrade() -> None:
    op.drop_table("build_flags")
