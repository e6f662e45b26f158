"""scheduling: each build's SLA tier, and an index for the newest-first listing of every tenant

Revision ID: 0007_scheduling
Revises: 0005_build_workers
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_scheduling"
down_revision = "0005_build_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch mode): rebuilding `builds` on SQLite would cascade-delete.
    op.add_column("builds", sa.Column("sla", sa.String(16), nullable=False, server_default="normal"))
    # created_at, then id: the listing's whole ORDER BY, so the newest 20 are read off the index.
    op.create_index("ix_builds_created_at", "builds", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_builds_created_at", table_name="builds")
    op.drop_column("builds", "sla")  # SQLite 3.35+ drops a column in place
