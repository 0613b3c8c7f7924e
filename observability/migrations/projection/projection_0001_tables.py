"""The read model (observability.projection): case rows, who takes part, each agency's
work items and the reports on each case, kept by the worker in each append.

A schema of its own in the ledger's database. Its tables start empty: cases running
when it arrives fill theirs at their next append (`audit verify` names a case whose
rows lag its ledger).

Revision ID: projection_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "projection_0001"
down_revision = None
branch_labels = None
depends_on = None


def _case() -> sa.Column[str]:
    return sa.Column("case_id", sa.String(300), nullable=False)


def _agency() -> sa.Column[str]:
    return sa.Column("agency", sa.String(64), nullable=False)


def _micros(name: str, nullable: bool = True) -> sa.Column[int]:
    # Microseconds since the epoch: beyond a 32-bit integer.
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "case_view", sa.Column("case_id", sa.String(300), primary_key=True),
        sa.Column("through_sequence", sa.Integer, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("case_type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        _micros("opened_us", nullable=False), _micros("closed_us"), _micros("promised_by_us"),
        _micros("updated_us", nullable=False),
        sa.Column("answer", sa.String(4000), nullable=False),
        sa.Column("reopened_from", sa.String(300), nullable=False),
        _micros("follow_up_ends_us"))
    # The lists of those who see every case, newest first, with or without a filter.
    op.create_index("ix_case_view_opened", "case_view", ["opened_us", "case_id"])
    op.create_index("ix_case_view_status", "case_view", ["status", "opened_us", "case_id"])
    op.create_index("ix_case_view_owner", "case_view", ["owner", "opened_us", "case_id"])
    op.create_index("ix_case_view_type", "case_view", ["case_type", "opened_us", "case_id"])
    op.create_index("ix_case_view_subject", "case_view", ["subject"])
    op.create_index("ix_case_view_number", "case_view", ["number"])
    op.create_index("ix_case_view_follow_up", "case_view", ["follow_up_ends_us"])
    op.create_table(
        "case_party", _agency(), _case(), _micros("opened_us", nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("agency", "case_id"))
    op.create_index("ix_case_party_case", "case_party", ["case_id"])
    op.create_index("ix_case_party_opened", "case_party", ["agency", "opened_us", "case_id"])
    op.create_index("ix_case_party_status", "case_party",
                    ["agency", "status", "opened_us", "case_id"])
    op.create_table(
        "work_item", _agency(), _case(),
        sa.Column("item_key", sa.String(100), nullable=False),
        sa.Column("rank", sa.SmallInteger, nullable=False),
        _micros("sort_us", nullable=False),
        sa.Column("item", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("agency", "case_id", "item_key"))
    op.create_index("ix_work_item_case", "work_item", ["case_id"])
    # An agency's queue in order: one range of this index, from any page's end.
    op.create_index("ix_work_item_queue", "work_item",
                    ["agency", "rank", "sort_us", "case_id", "item_key"])
    op.create_table(
        "report_view", sa.Column("report_id", sa.String(64), primary_key=True), _case(),
        sa.Column("rated", sa.SmallInteger, nullable=False))
    op.create_index("ix_report_view_case", "report_view", ["case_id", "rated"])


def downgrade() -> None:
    raise RuntimeError("the read model is never downgraded: drop its tables and let the "
                       "worker write them again")
