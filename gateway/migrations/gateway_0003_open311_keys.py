"""Open311 API keys: the outside systems that may post reports (gateway.open311.keys).

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "open311_key",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("per_minute", sa.Integer, nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("revoked_at", stamp, nullable=True))


def downgrade() -> None:
    op.drop_table("open311_key")
