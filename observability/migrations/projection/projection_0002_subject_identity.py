"""Each case row keeps its subject's identity (records.subjects: the form without
spaces and separators) so a list finds a case however its subject is spelt, and the
"possible duplicates" by its beginning.

Revision ID: projection_0002
Revises: projection_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "projection_0002"
down_revision = "projection_0001"
branch_labels = None
depends_on = None


# The rule as it was when this revision was written (records.subjects): a migration
# keeps its own copy, so a later change of the rule does not change what it did.
_SEPARATORS = re.compile(r"[\s·・.\-_/]+")


def subject_identity(subject_key: str) -> str:
    normalized = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", subject_key).strip()).upper()
    return _SEPARATORS.sub("", normalized)


def upgrade() -> None:
    with op.batch_alter_table("case_view") as table:
        table.add_column(sa.Column("subject_identity", sa.String(128), nullable=False,
                                   server_default=""))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT case_id, subject FROM case_view")).all()
    for case_id, subject in rows:
        connection.execute(sa.text("UPDATE case_view SET subject_identity = :identity "
                                   "WHERE case_id = :case_id"),
                           {"identity": subject_identity(subject), "case_id": case_id})
    # Open cases of a type by subject: the duplicates an intake or an opening looks for.
    op.create_index("ix_case_view_identity", "case_view",
                    ["case_type", "status", "subject_identity"])


def downgrade() -> None:
    op.drop_index("ix_case_view_identity", "case_view")
    with op.batch_alter_table("case_view") as table:
        table.drop_column("subject_identity")
