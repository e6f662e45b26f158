"""builds, build steps, approval gates and recorded LLM exchanges

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A frozen copy of the column types: later edits of tables.py must not change this revision.
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("spec_text", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("base_build_id", sa.String(64), nullable=True),
        sa.Column("repo_path", sa.Text(), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_builds"),
    )
    op.create_index("ix_builds_status_created_at", "builds", ["status", "created_at"])
    op.create_index("ix_builds_tenant_created_at", "builds", ["tenant", "created_at"])

    op.create_table(
        "build_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_build_steps_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_build_steps"),
    )
    op.create_index("ix_build_steps_build_id_name", "build_steps", ["build_id", "name"])

    op.create_table(
        "approvals",
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_approvals_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("build_id", name="pk_approvals"),
    )

    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("build_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("request_key", sa.String(128), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("reply_json", sa.Text(), nullable=False),
        sa.Column("usage_prompt", sa.Integer(), nullable=False),
        sa.Column("usage_completion", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_s", sa.Float(), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name="fk_exchanges_build_id_builds", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exchanges"),
        sa.UniqueConstraint("build_id", "seq", name="uq_exchanges_build_id_seq"),
    )
    op.create_index("ix_exchanges_request_key", "exchanges", ["request_key"])


def downgrade() -> None:
    op.drop_index("ix_exchanges_request_key", table_name="exchanges")
    op.drop_table("exchanges")
    op.drop_table("approvals")
    op.drop_index("ix_build_steps_build_id_name", table_name="build_steps")
    op.drop_table("build_steps")
    op.drop_index("ix_builds_tenant_created_at", table_name="builds")
    op.drop_index("ix_builds_status_created_at", table_name="builds")
    op.drop_table("builds")
