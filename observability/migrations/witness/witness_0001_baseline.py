"""The witness's schema as released before migrations existed (kept if already there).

Revision ID: witness_0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "witness_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("ledger_checkpoint"):
        return
    op.create_table(
        "ledger_checkpoint",
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False))


def downgrade() -> None:
    raise RuntimeError("the witness is never downgraded: restore a backup instead")
