"""A report's rating names the case it rated: a report carried over to the case its
rating reopened (重办) is followed up again once that case closes.

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report") as table:
        table.add_column(sa.Column("rated_case", sa.String(300), nullable=False,
                                   server_default=""))
    # A report whose rating reopened nothing and that was not routed since was rated on
    # the case it follows. One whose rating reopened the matter (it was routed to the new
    # case just before its rating was stored), or that was routed after its rating (carried
    # over by another report's reopening), was rated on a case it has left: it is asked
    # again once the case it follows closes.
    op.execute("UPDATE report SET rated_case = case_id WHERE rated_at IS NOT NULL "
               "AND reopened_as = '' AND (routed_at IS NULL OR routed_at <= rated_at)")


def downgrade() -> None:
    with op.batch_alter_table("report") as table:
        table.drop_column("rated_case")
