"""The gateway's schema (case numbers) as released before migrations existed (kept if
already there).

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("case_number"):
        return
    op.create_table(
        "case_number",
        sa.Column("number", sa.String(16), primary_key=True),
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("request_key", sa.String(40), nullable=False, unique=True),
        sa.Column("case_id", sa.String(300), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_case_number_case_id", "case_number", ["case_id"])
    op.create_index("ix_case_number_day", "case_number", ["day"])


def downgrade() -> None:
    op.drop_table("case_number")
