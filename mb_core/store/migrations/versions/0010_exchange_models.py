"""index the exchanges by provider and model: the model choice reads every model's calls and
latency for one provider at each attempt, which scanned the whole table

Revision ID: 0010_exchange_models
Revises: 0009_model_choices
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010_exchange_models"
down_revision = "0009_model_choices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_exchanges_provider_model", "exchanges", ["provider", "model"])


def downgrade() -> None:
    op.drop_index("ix_exchanges_provider_model", table_name="exchanges")
