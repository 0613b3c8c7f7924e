"""The score store (observability.score_store): per chain, the facts the scorecards sum.

A schema of its own in the ledger's database. Its tables start empty; the worker fills
them from the ledger at its start (`score_store.catch_up`), then keeps them as it appends.

Revision ID: scores_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scores_0001"
down_revision = None
branch_labels = None
depends_on = None


def _chain() -> sa.Column[str]:
    return sa.Column("case_id", sa.String(300), primary_key=True)


def _type() -> sa.Column[str]:
    return sa.Column("case_type", sa.String(64), nullable=False)


def _micros(name: str, nullable: bool = True) -> sa.Column[int]:
    # Microseconds since the epoch: beyond a 32-bit integer.
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "score_chain", _chain(),
        sa.Column("through_sequence", sa.Integer, nullable=False), _type(),
        sa.Column("owner", sa.String(64), nullable=False),
        _micros("opened_us"), _micros("closed_us"), _micros("legal_by_us"),
        _micros("promised_by_us"))
    op.create_index("ix_score_chain_opened", "score_chain", ["opened_us"])
    op.create_table(
        "score_task_round", _chain(),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("assignee", sa.String(64), nullable=False), _type(),
        _micros("dispatched_us", nullable=False),
        sa.Column("declined", sa.Integer, nullable=False),
        sa.Column("sign_on_time", sa.Integer), _micros("sign_open_by_us"),
        sa.Column("arrival_on_time", sa.Integer), _micros("arrival_open_by_us"),
        sa.Column("done_on_time", sa.Integer), _micros("done_open_by_us"))
    op.create_index("ix_score_task_round_dispatched", "score_task_round", ["dispatched_us"])
    op.create_index("ix_score_task_round_sums", "score_task_round", [
        "assignee", "case_type", "dispatched_us", "declined", "sign_on_time",
        "sign_open_by_us", "arrival_on_time", "arrival_open_by_us", "done_on_time",
        "done_open_by_us", "case_id"])
    op.create_table(
        "score_objection", _chain(),
        sa.Column("objection_id", sa.String(64), primary_key=True),
        sa.Column("objector", sa.String(64), nullable=False), _type(),
        _micros("raised_us", nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False))
    op.create_table(
        "score_report", _chain(),
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("area", sa.String(200), nullable=False), _type(),
        _micros("attached_us", nullable=False))
    op.create_index("ix_score_report_report", "score_report", ["report_id", "case_id"])
    op.create_table(
        "score_rating", _chain(),
        sa.Column("owner", sa.String(64), nullable=False), _type(),
        _micros("at_us", nullable=False),
        sa.Column("solved", sa.Integer, nullable=False),
        sa.Column("satisfaction", sa.String(32), nullable=False),
        sa.Column("reopened", sa.Integer, nullable=False))
    op.create_table(
        "score_bounce", _chain(),
        sa.Column("chain", sa.Integer, primary_key=True),
        sa.Column("hop", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        _micros("opened_us", nullable=False))
    op.create_table(
        "score_handoff", _chain(),
        sa.Column("handoff", sa.Integer, primary_key=True),
        sa.Column("to_agency", sa.String(64), nullable=False),
        _micros("offered_us", nullable=False), _micros("waited_us", nullable=False))


def downgrade() -> None:
    raise RuntimeError("the score store is never downgraded: drop its tables and let the "
                       "worker derive them again from the ledger")
