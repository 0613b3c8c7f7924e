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
    # A rating that reopened nothing was of the case the report still follows; one that
    # reopened the matter was of a case the report has left (so it is asked again).
    op.execute("UPDATE report SET rated_case = case_id "
               "WHERE rated_at IS NOT NULL AND reopened_as = ''")


def downgrade() -> None:
    with op.batch_alter_table("report") as table:
        table.drop_column("rated_case")
