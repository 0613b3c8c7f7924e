"""The ledger's and the gap store's schema as released before migrations existed.

A data directory from before migrations already has some or all of these tables: they
are kept as they are (only what is missing is created), and a ledger from before signed
proofs gains its `proofs` column. A ledger from before the hash chain cannot be adopted.

Revision ID: ledger_0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = None
depends_on = None

_HASH_CHAIN = {"attributes", "trace_id", "span_id", "prev_hash", "hash"}


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def _columns(name: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(name)}


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    if _has_table("ledger_entry"):
        missing = _HASH_CHAIN - _columns("ledger_entry")
        if missing:
            raise RuntimeError(f"this ledger predates the hash chain (no "
                               f"{', '.join(sorted(missing))}); move it aside to start a "
                               "new one")
        if "proofs" not in _columns("ledger_entry"):
            # Its events keep their hashes (an event without proofs hashes as before).
            op.add_column("ledger_entry", sa.Column("proofs", sa.String(20_000),
                                                    nullable=False, server_default=""))
    else:
        op.create_table(
            "ledger_entry",
            sa.Column("case_id", sa.String(300), nullable=False),
            sa.Column("sequence", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("actor_agency", sa.String(64), nullable=False),
            sa.Column("actor_officer", sa.String(64), nullable=False),
            _when("at"),
            sa.Column("task_id", sa.String(64), nullable=False),
            sa.Column("detail", sa.String(4000), nullable=False),
            sa.Column("attributes", sa.String(4000), nullable=False),
            sa.Column("trace_id", sa.String(32), nullable=False),
            sa.Column("span_id", sa.String(16), nullable=False),
            sa.Column("proofs", sa.String(20_000), nullable=False),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            _when("recorded_at"),
            sa.UniqueConstraint("case_id", "sequence"))
        op.create_index("ix_ledger_entry_case_id", "ledger_entry", ["case_id"])
    if not _has_table("ledger_head"):
        op.create_table(
            "ledger_head",
            sa.Column("case_id", sa.String(300), primary_key=True),
            sa.Column("sequence", sa.Integer, nullable=False),
            sa.Column("hash", sa.String(64), nullable=False))
    if not _has_table("case_gap"):
        op.create_table(
            "case_gap",
            # Every append rewrites its case's gaps: ids beyond a 32-bit integer.
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                      primary_key=True),
            sa.Column("case_id", sa.String(300), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("task_id", sa.String(64), nullable=False),
            sa.Column("accountable", sa.String(64), nullable=False),
            sa.Column("from_agency", sa.String(64), nullable=False),
            sa.Column("to_agency", sa.String(64), nullable=False),
            sa.Column("ref", sa.String(64), nullable=False),
            # Microseconds since the epoch: beyond a 32-bit integer.
            sa.Column("start_us", sa.BigInteger, nullable=False),
            sa.Column("end_us", sa.BigInteger, nullable=True),
            sa.Column("deadline_us", sa.BigInteger, nullable=True),
            sa.Column("start_sequence", sa.Integer, nullable=False),
            sa.Column("end_sequence", sa.Integer, nullable=True),
            sa.Column("end_kind", sa.String(32), nullable=False),
            sa.Column("start_trace_id", sa.String(32), nullable=False),
            sa.Column("end_trace_id", sa.String(32), nullable=False))
        op.create_index("ix_case_gap_case_id", "case_gap", ["case_id"])
        op.create_index("ix_case_gap_accountable", "case_gap", ["accountable", "start_us"])
        op.create_index("ix_case_gap_start", "case_gap", ["start_us"])
    if not _has_table("case_participant"):
        op.create_table(
            "case_participant",
            sa.Column("case_id", sa.String(300), primary_key=True),
            sa.Column("agency", sa.String(64), primary_key=True))
        op.create_index("ix_case_participant_agency", "case_participant", ["agency"])


def downgrade() -> None:
    raise RuntimeError("the ledger is never downgraded: restore a backup instead")
