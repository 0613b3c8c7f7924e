"""Citizens' photos (gateway.reports.photos): each one's public copy and the digest of
the file as it came, beside the reports.

Revision ID: gateway_0005
Revises: gateway_0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0005"
down_revision = "gateway_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_photo", sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("public_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("public", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False))


def downgrade() -> None:
    op.drop_table("report_photo")
