"""An agency's schema as released before migrations existed.

A database from before migrations keeps its tables (only what is missing is created);
one from before case numbers gains the `case_number` columns (its rows have none: their
cases had none).

Revision ID: agency_0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int) -> sa.Column[object]:
    return sa.Column(name, sa.String(length), nullable=False)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _tables() -> dict[str, tuple[tuple[sa.schema.SchemaItem, ...], list[tuple[str, list[str]]]]]:
    """Each table: its columns and constraints, then its indexes."""
    return {
        "inbox_item": ((
            _text("assignee", 64), _text("case_id", 300), _text("case_number", 16),
            _text("task_id", 64), sa.Column("round", sa.Integer, nullable=False),
            _text("case_type", 64), _text("case_title", 200), _text("owner", 64),
            _text("kind", 64), _text("title", 200), _text("instructions", 4000),
            _when("sign_by"), _when("due_by"), _when("on_scene_by", nullable=True), _id(),
            _text("idempotency_key", 400),
            sa.Column("withdrawn", sa.Boolean, nullable=False),
            _text("withdraw_reason", 1000), _when("delivered_at"), _text("task_state", 32),
            sa.UniqueConstraint("assignee", "case_id", "task_id", "round"),
            sa.UniqueConstraint("idempotency_key")),
            [("ix_inbox_item_case_id", ["case_id"]),
             ("ix_inbox_item_case_number", ["case_number"]),
             ("ix_inbox_item_assignee", ["assignee"])]),
        "notice": ((
            _id(), _text("recipient", 64), _text("idempotency_key", 400),
            _text("case_id", 300), _text("case_number", 16), _text("kind", 32),
            _text("text", 4000), _text("task_id", 64), _text("handoff_id", 64),
            _when("received_at"), sa.UniqueConstraint("recipient", "idempotency_key")),
            [("ix_notice_case_id", ["case_id"]), ("ix_notice_recipient", ["recipient"])]),
        "finding": ((
            _id(), _text("request_id", 64), _text("case_id", 300), _text("task_id", 64),
            _text("officer", 64), _text("findings", 4000), _text("evidence_refs", 26000),
            _when("submitted_at"), sa.UniqueConstraint("request_id")),
            [("ix_finding_case_id", ["case_id"])]),
        "officer": ((
            _id(), _text("agency", 64), _text("officer_id", 64), _text("name", 200),
            _text("roles", 64), _text("password_hash", 200),
            sa.Column("disabled", sa.Boolean, nullable=False),
            _text("disabled_reason", 1000),
            sa.Column("failed_sign_ins", sa.Integer, nullable=False),
            _when("locked_until", nullable=True), _when("created_at"),
            _when("password_changed_at"), sa.UniqueConstraint("agency", "officer_id")),
            [("ix_officer_agency", ["agency"])]),
        "officer_session": ((
            sa.Column("session_id", sa.String(64), primary_key=True), _text("agency", 64),
            _text("officer_id", 64), _when("issued_at"), _when("expires_at"),
            _when("ended_at", nullable=True), _text("ended_reason", 200)),
            [("ix_officer_session_agency", ["agency"]),
             ("ix_officer_session_officer_id", ["officer_id"])]),
    }


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table, (items, indexes) in _tables().items():
        if not inspector.has_table(table):
            op.create_table(table, *items)
            for name, columns in indexes:
                op.create_index(name, table, columns)
        elif table in ("inbox_item", "notice") and "case_number" not in {
                c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("case_number", sa.String(16), nullable=False,
                                           server_default=""))
            if table == "inbox_item":
                op.create_index("ix_inbox_item_case_number", table, ["case_number"])


def downgrade() -> None:
    raise RuntimeError("an agency's records are never downgraded: restore a backup instead")
