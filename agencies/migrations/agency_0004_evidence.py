"""Evidence files (agencies.evidence): what each file an officer attached to a task is
and says, and the custody log of every fetch.

Revision ID: agency_0004
Revises: agency_0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0004"
down_revision = "agency_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "evidence_file", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(300), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", stamp, nullable=False),
        sa.Column("taken_at", stamp, nullable=True),
        sa.Column("lat", sa.Float, nullable=True), sa.Column("lon", sa.Float, nullable=True),
        sa.UniqueConstraint("case_id", "task_id", "sha256"))
    op.create_index("ix_evidence_file_sha256", "evidence_file", ["sha256"])
    op.create_index("ix_evidence_file_case_id", "evidence_file", ["case_id"])
    op.create_table(
        "evidence_custody", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(300), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("at", stamp, nullable=False),
        sa.Column("served", sa.Boolean, nullable=False),
        sa.Column("thumbnail", sa.Boolean, nullable=False))
    op.create_index("ix_evidence_custody_case_id", "evidence_custody", ["case_id"])


def downgrade() -> None:
    op.drop_table("evidence_custody")
    op.drop_table("evidence_file")
