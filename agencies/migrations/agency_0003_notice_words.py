"""A notice keeps what it says as a phrase (workflows.rules.phrases) beside its English
text, so a reader shows it in their own language; an officer keeps the newest notice
they have seen, so the rest show unread.

Revision ID: agency_0003
Revises: agency_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0003"
down_revision = "agency_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice") as table:
        table.add_column(sa.Column("phrase", sa.String(4000), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("officer") as table:
        table.add_column(sa.Column("notices_seen_through", sa.Integer, nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("officer") as table:
        table.drop_column("notices_seen_through")
    with op.batch_alter_table("notice") as table:
        table.drop_column("phrase")
