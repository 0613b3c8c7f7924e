"""An officer whose password must be changed at their first sign-in (a first head added by
the operator with a one-time password); the lock-out's columns go (guessing is slowed
in the desk's memory, agencies.sign_in_guard, and nobody is locked out).

Revision ID: agency_0002
Revises: agency_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0002"
down_revision = "agency_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer") as table:
        table.add_column(sa.Column("must_change_password", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        table.drop_column("failed_sign_ins")
        table.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("officer") as table:
        table.drop_column("must_change_password")
        table.add_column(sa.Column("failed_sign_ins", sa.Integer, nullable=False,
                                   server_default="0"))
        table.add_column(sa.Column("locked_until", sa.DateTime(timezone=True),
                                   nullable=True))
