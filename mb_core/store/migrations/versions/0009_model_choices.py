"""the model each attempt of a build was given, and why

Revision ID: 0009_model_choices
Revises: 0008_build_flags
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_model_choices"
down_revision = "0008_build_flags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_choices",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("estimated_cost_usd", sa.Float(), nullable=False),
        sa.Column("budget_left_usd", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="CASCADE",
                                name="fk_model_choices_build_id_builds"),
        sa.PrimaryKeyConstraint("build_id", "attempt", name="pk_model_choices"),
    )


def downgrade() -> None:
    op.drop_table("model_choices")
