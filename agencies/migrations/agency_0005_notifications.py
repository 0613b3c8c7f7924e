"""Notifications away from the console (agencies.outbox): the agency's subscriptions
(webhooks of its systems, its officers' e-mail with quiet hours), its duty roster, and
the outbox of every notification with its attempts.

Revision ID: agency_0005
Revises: agency_0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0005"
down_revision = "agency_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.create_table(
        "subscription", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("events", sa.String(400), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("quiet_hours", sa.String(11), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("removed_at", stamp, nullable=True))
    op.create_index("ix_subscription_agency", "subscription", ["agency"])
    op.create_table(
        "duty_shift", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("starts_at", stamp, nullable=False),
        sa.Column("ends_at", stamp, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False))
    op.create_index("ix_duty_shift_agency", "duty_shift", ["agency"])
    op.create_table(
        "outbox", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(500), nullable=False, unique=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(300), nullable=False),
        sa.Column("body", sa.String(20000), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("next_attempt_at", stamp, nullable=False),
        sa.Column("delivered_at", stamp, nullable=True))
    op.create_index("ix_outbox_agency", "outbox", ["agency"])
    op.create_index("ix_outbox_subscription_id", "outbox", ["subscription_id"])
    op.create_index("ix_outbox_state", "outbox", ["state"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("duty_shift")
    op.drop_table("subscription")
