"""build workers: the lease of the process running a build's attempt (for the reconciler)

Revision ID: 0005_build_workers
Revises: 0004_canary
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_build_workers"
down_revision = "0004_canary"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "build_workers",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("driver", sa.String(32), nullable=False),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("pid_started", sa.Float(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_build_workers_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("build_id", name="pk_build_workers"),
    )


def downgrade() -> None:
    op.drop_table("build_workers")
