"""Open311 API keys: which outside systems may post reports, and how fast.

A key is issued once, in full, to the operator who adds it (`ApiKeys.add`); the table
keeps only a SHA-256 of its secret part. The secret is 32 random bytes, so a plain hash
is as strong as a slow one (there is no password to guess). A key reads
`o311.<name>.<secret>`: the name finds the row, and the secret's hash is compared in
constant time. Reports taken with a key are recorded as taken by "open311/<name>"; a
revoked name can be issued a new key (the client keeps its name in the record).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine
from sqlmodel import Field, Session, SQLModel, col, select

from workflows.rules.limits import MAX_OFFICER

PREFIX = "o311"
# A client acts on cases as the officer "open311:<name>" of the hotline (its reports'
# taker), and an officer id is at most limits.MAX_OFFICER characters.
OFFICER_PREFIX = "open311:"
MAX_NAME = MAX_OFFICER - len(OFFICER_PREFIX)
NAME = re.compile(rf"[a-z0-9-]{{1,{MAX_NAME}}}")
DEFAULT_PER_MINUTE = 60
MAX_PER_MINUTE = 6000
# The longest key we look at: prefix, a name and a 43-character secret.
MAX_KEY = 128
# Compared against when the name is unknown, so that case takes as long as a wrong one.
_NO_HASH = hashlib.sha256(b"").hexdigest()


class Open311Key(SQLModel, table=True):
    __tablename__ = "open311_key"

    name: str = Field(primary_key=True, max_length=64)
    # SHA-256 (hex) of the key's secret part.
    secret_hash: str = Field(max_length=64)
    # Posts a minute (a token bucket of this size, refilled at this rate).
    per_minute: int = Field(default=DEFAULT_PER_MINUTE, ge=1, le=MAX_PER_MINUTE)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None,
                                        sa_column=Column(DateTime(timezone=True)))


@dataclass(frozen=True)
class KeyInfo:
    """A key as the operator sees it: never its secret."""

    name: str
    per_minute: int
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiKeyError(ValueError):
    """A key the operator cannot add as asked (bad name or rate, name in use)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back the UTC times it was given without their zone.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _info(row: Open311Key) -> KeyInfo:
    return KeyInfo(row.name, row.per_minute, _aware(row.created_at) or row.created_at,
                   _aware(row.revoked_at))


class ApiKeys:
    """The `open311_key` table of the gateway's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, per_minute: int = DEFAULT_PER_MINUTE, *,
            now: datetime | None = None) -> str:
        """Issue a key for `name`; the key is returned this once and kept nowhere."""
        if not NAME.fullmatch(name):
            raise ApiKeyError(f"name: 1-{MAX_NAME} of a-z, 0-9 and -, not {name[:64]!r}")
        if not 1 <= per_minute <= MAX_PER_MINUTE:
            raise ApiKeyError(f"per_minute: 1 to {MAX_PER_MINUTE}, not {per_minute}")
        secret = secrets.token_urlsafe(32)
        with Session(self._engine) as session:
            row = session.get(Open311Key, name)
            if row is not None and row.revoked_at is None:
                raise ApiKeyError(f"{name} has a key already; revoke it first")
            at = (now or datetime.now(UTC)).astimezone(UTC)
            row = row or Open311Key(name=name, secret_hash="", created_at=at)
            row.secret_hash, row.per_minute, row.created_at, row.revoked_at = \
                _hash(secret), per_minute, at, None
            session.add(row)
            session.commit()
        return f"{PREFIX}.{name}.{secret}"

    def check(self, key: str) -> KeyInfo | None:
        """The key's holder, if `key` is an active key."""
        prefix, _, rest = key[:MAX_KEY].partition(".")
        name, _, secret = rest.partition(".")
        row = None
        if prefix == PREFIX and NAME.fullmatch(name) and secret:
            with Session(self._engine) as session:
                row = session.get(Open311Key, name)
        expected = row.secret_hash if row is not None else _NO_HASH
        matches = hmac.compare_digest(expected.encode(), _hash(secret).encode())
        if row is None or not matches or row.revoked_at is not None:
            return None
        return _info(row)

    def verify(self, key: str) -> str | None:
        """The name of the key's holder, if `key` is an active key."""
        info = self.check(key)
        return info.name if info is not None else None

    def revoke(self, name: str, *, now: datetime | None = None) -> bool:
        """Revoke `name`'s key at once; False when it has no active key."""
        with Session(self._engine) as session:
            row = session.get(Open311Key, name)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = (now or datetime.now(UTC)).astimezone(UTC)
            session.add(row)
            session.commit()
            return True

    def list(self) -> builtins.list[KeyInfo]:
        with Session(self._engine) as session:
            rows = session.exec(select(Open311Key).order_by(col(Open311Key.name)))
            return [_info(row) for row in rows]
