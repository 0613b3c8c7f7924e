"""The agency's own tables: the inbox of tasks, the notices it received, the findings
its officers reported, and its officers and their sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


def _when(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class InboxItemBase(SQLModel):
    assignee: str = Field(max_length=64, index=True)
    case_id: str = Field(max_length=300, index=True)
    # The number people type (gateway.case_numbers); empty for cases without one.
    case_number: str = Field(default="", max_length=16, index=True)
    task_id: str = Field(max_length=64)
    round: int = Field(ge=1)
    case_type: str = Field(max_length=64)
    case_title: str = Field(max_length=200)
    owner: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    title: str = Field(max_length=200)
    instructions: str = Field(default="", max_length=4000)
    sign_by: datetime = Field(sa_column=_when())
    due_by: datetime = Field(sa_column=_when())
    on_scene_by: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class InboxItem(InboxItemBase, table=True):
    """One delivery of a task. A retried delivery finds its row by the unique key."""

    __tablename__ = "inbox_item"
    __table_args__ = (UniqueConstraint("assignee", "case_id", "task_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=400, unique=True)
    withdrawn: bool = False
    withdraw_reason: str = Field(default="", max_length=1000)
    delivered_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    # The task's state after this agency's latest action on it, as the case answered.
    task_state: str = Field(default="DISPATCHED", max_length=32)


class NoticeRecord(SQLModel, table=True):
    """A notice as the agency received it; the key makes a redelivery a no-op."""

    __tablename__ = "notice"

    __table_args__ = (UniqueConstraint("recipient", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=64, index=True)
    idempotency_key: str = Field(max_length=400)
    case_id: str = Field(max_length=300, index=True)
    case_number: str = Field(default="", max_length=16)
    kind: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    task_id: str = Field(default="", max_length=64)
    handoff_id: str = Field(default="", max_length=64)
    received_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    # What `text` says as a phrase (workflows.rules.phrases), for a reader's language.
    phrase: str = Field(default="", max_length=4000)


class Finding(SQLModel, table=True):
    """What an officer reported when completing a task; evidence stays with the agency,
    the case only holds references to it."""

    __tablename__ = "finding"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=64, unique=True)
    case_id: str = Field(max_length=300, index=True)
    task_id: str = Field(max_length=64)
    officer: str = Field(default="", max_length=64)
    findings: str = Field(max_length=4000)
    # Newline-separated references (at most 50 of 512 characters, as the case allows).
    evidence_refs: str = Field(default="", max_length=26000)
    submitted_at: datetime = Field(default_factory=utc_now, sa_column=_when())


class EvidenceFile(SQLModel, table=True):
    """A file an officer attached to a task (agencies.evidence): the bytes are in the
    agency's evidence store under their digest; this row is what the file is and says."""

    __tablename__ = "evidence_file"
    __table_args__ = (UniqueConstraint("case_id", "task_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    case_id: str = Field(max_length=300, index=True)
    task_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    media_type: str = Field(max_length=64)
    size: int
    uploaded_by: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    # What a photo says of itself (EXIF), as read: shown and checked, never trusted.
    taken_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    lat: float | None = None
    lon: float | None = None


class CustodyEntry(SQLModel, table=True):
    """One fetch of an evidence file: who asked (as the gateway proved them), when, and
    whether it was served (a file that no longer matched its digest is not)."""

    __tablename__ = "evidence_custody"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    case_id: str = Field(max_length=300, index=True)
    task_id: str = Field(max_length=64)
    agency: str = Field(max_length=64)
    officer: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utc_now, sa_column=_when())
    served: bool
    thumbnail: bool = False


class Officer(SQLModel, table=True):
    """A person who acts for the agency. The agency alone keeps its roster."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("agency", "officer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64, index=True)
    officer_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    # Sorted, comma-separated `trust.sessions.OfficerRole` values.
    roles: str = Field(max_length=64)
    # Argon2id (`trust.passwords`); the password itself is never stored.
    password_hash: str = Field(max_length=200)
    disabled: bool = False
    # Added with a one-time password (a first head): it signs in only by choosing its own.
    must_change_password: bool = False
    # The newest notice (its row id) of the agency this officer has seen: later ones are
    # unread for them.
    notices_seen_through: int = 0
    disabled_reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    password_changed_at: datetime = Field(default_factory=utc_now, sa_column=_when())


class OfficerSession(SQLModel, table=True):
    """A session the agency signed for one of its officers; ending it ends it at once at
    the agency's desk, and within a second at the gateway (which asks the agency about
    the session and keeps its answer that long: gateway.agency_links)."""

    __tablename__ = "officer_session"

    session_id: str = Field(primary_key=True, max_length=64)
    agency: str = Field(max_length=64, index=True)
    officer_id: str = Field(max_length=64, index=True)
    issued_at: datetime = Field(sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    ended_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    ended_reason: str = Field(default="", max_length=200)


class Subscription(SQLModel, table=True):
    """Where the agency's work goes besides the console (agencies.outbox): a webhook of
    the agency's own systems (kept by its heads), or an officer's own e-mail."""

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64, index=True)
    # "webhook" or "email".
    channel: str = Field(max_length=16)
    target: str = Field(max_length=500)
    # The officer whose channel it is; empty for the agency's systems.
    officer: str = Field(default="", max_length=64)
    # What it wants (agencies.outbox.EVENTS), comma-separated; empty for everything.
    events: str = Field(default="", max_length=400)
    # The webhook's signing key (HMAC-SHA256), shown once when it was added.
    secret: str = Field(default="", max_length=100)
    # An officer's quiet hours ("22:00-07:00" in `zone`): nothing reaches them then
    # unless the duty roster has them on duty.
    quiet_hours: str = Field(default="", max_length=11)
    zone: str = Field(default="", max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    removed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class DutyShift(SQLModel, table=True):
    """值班: an officer on duty from `starts_at` to `ends_at`, reached even in their
    quiet hours."""

    __tablename__ = "duty_shift"

    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64, index=True)
    officer: str = Field(max_length=64)
    starts_at: datetime = Field(sa_column=_when())
    ends_at: datetime = Field(sa_column=_when())
    created_by: str = Field(max_length=64)


class OutboxEntry(SQLModel, table=True):
    """One notification to one subscription: kept until delivered, its attempts and
    their last error in view; `key` makes it once (the receiver's idempotency key)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64, index=True)
    subscription_id: int = Field(index=True)
    key: str = Field(max_length=500, unique=True)
    event: str = Field(max_length=40)
    case_id: str = Field(default="", max_length=300)
    # The JSON the webhook receives (and the e-mail is written from).
    body: str = Field(max_length=20000)
    # "pending", "delivered", "held" (quiet hours) or "failed" (given up).
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_column=_when())
    delivered_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
