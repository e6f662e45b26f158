"""healing: attempt numbers and failure classes, repair attempts, circuit breakers, run budgets,
chaos events

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE, no batch mode: rebuilding `builds` on SQLite would drop the table, and its
    # ON DELETE CASCADE would empty every table that refers to it.
    for table in ("builds", "build_steps"):
        op.add_column(table, sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        op.add_column(table, sa.Column("failure_class", sa.String(32), nullable=True))

    op.create_table(
        "repair_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("failure_class", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_repair_attempts_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_repair_attempts"),
        sa.UniqueConstraint("build_id", "attempt", name="uq_repair_attempts_build_id_attempt"),
    )

    op.create_table(
        "circuit_breakers",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("fail_counter", sa.Integer(), nullable=False),
        sa.Column("success_counter", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_circuit_breakers"),
    )

    op.create_table(
        "run_budgets",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=True),
        sa.Column("max_seconds", sa.Float(), nullable=True),
        sa.Column("max_cost_usd", sa.Float(), nullable=True),
        sa.Column("running_seconds", sa.Float(), nullable=False),
        sa.Column("attempts_used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_run_budgets_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("build_id", name="pk_run_budgets"),
    )

    op.create_table(
        "chaos_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("build_id", sa.String(64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("seam", sa.String(32), nullable=False),
        sa.Column("fault", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=True),
        sa.Column("recovery", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chaos_events"),
    )
    op.create_index("ix_chaos_events_build_id", "chaos_events", ["build_id"])


def downgrade() -> None:
    op.drop_index("ix_chaos_events_build_id", table_name="chaos_events")
    op.drop_table("chaos_events")
    op.drop_table("run_budgets")
    op.drop_table("circuit_breakers")
    op.drop_table("repair_attempts")
    for table in ("build_steps", "builds"):  # SQLite 3.35+ drops a column in place
        op.drop_column(table, "failure_class")
        op.drop_column(table, "attempt")
