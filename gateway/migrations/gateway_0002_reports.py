"""Citizens' reports (诉求), taken in by the hotline and Open311 (gateway.reports).

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "report",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("request_key", sa.String(64), nullable=False, unique=True),
        sa.Column("token", sa.String(40), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("jurisdiction", sa.String(64), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("attributes", sa.String(6000), nullable=False),
        sa.Column("media_urls", sa.String(6000), nullable=False),
        sa.Column("contact_name", sa.String(64), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=False),
        sa.Column("contact_email", sa.String(254), nullable=False),
        sa.Column("received_by", sa.String(140), nullable=False),
        sa.Column("received_at", stamp, nullable=False),
        sa.Column("case_id", sa.String(300), nullable=False),
        sa.Column("case_number", sa.String(16), nullable=False),
        sa.Column("routed_at", stamp, nullable=True),
        sa.Column("routing_problem", sa.String(500), nullable=False),
        sa.Column("attempted_at", stamp, nullable=True),
        sa.Column("parked", sa.Boolean, nullable=False),
        sa.Column("solved", sa.Boolean, nullable=True),
        sa.Column("satisfaction", sa.String(24), nullable=False),
        sa.Column("rated_at", stamp, nullable=True),
        sa.Column("rated_by", sa.String(140), nullable=False),
        sa.Column("reopened_as", sa.String(300), nullable=False))
    op.create_index("ix_report_day", "report", ["day"])
    op.create_index("ix_report_service_code", "report", ["service_code"])
    op.create_index("ix_report_case_id", "report", ["case_id"])


def downgrade() -> None:
    op.drop_table("report")
