"""The roster, as service functions: officers, their passwords and their sessions.

Every function takes the agency explicitly and scopes every query by it, as the inbox's
do. Refusals raise `RosterRefused` with a message a person can act on; a refused sign-in
answers the same, after the same work, whether the id exists or the password is wrong,
so nobody learns which ids exist by trying; guessing is slowed down by the desk
(agencies.sign_in_guard), which locks no officer out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam
from sqlalchemy import select as columns_of
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from agencies.models import Officer, OfficerSession
from trust import passwords
from trust.sessions import OfficerRole
from trust.sessions import roles_of as roles_from

SIGN_IN_REFUSED = "wrong officer id or password"


class RosterRefused(ValueError):
    """A roster request that cannot be done; nothing was changed (but a failed sign-in,
    which counts against the officer)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def roles_of(officer: Officer) -> frozenset[OfficerRole]:
    return frozenset(OfficerRole(r) for r in officer.roles.split(",") if r)


def _roles_text(roles: Iterable[OfficerRole]) -> str:
    return ",".join(sorted(r.value for r in roles))


def find(*, session: Session, agency: str, officer_id: str) -> Officer | None:
    return session.exec(select(Officer).where(Officer.agency == agency,
                                              Officer.officer_id == officer_id)).first()


def officers(*, session: Session, agency: str) -> list[Officer]:
    return list(session.exec(select(Officer).where(Officer.agency == agency)
                             .order_by(col(Officer.officer_id))))


def add_officer(*, session: Session, agency: str, officer_id: str, name: str,
                roles: frozenset[OfficerRole], password_hash: str) -> Officer:
    """A new officer, whose password (given by their head) is one-time: they choose
    their own at their first sign-in, so that nobody else knows it."""
    if find(session=session, agency=agency, officer_id=officer_id) is not None:
        raise RosterRefused(f"{agency} already has an officer {officer_id!r}")
    officer = Officer(agency=agency, officer_id=officer_id, name=name,
                      roles=_roles_text(roles), password_hash=password_hash,
                      must_change_password=True)
    session.add(officer)
    try:
        session.commit()
    except IntegrityError:  # added meanwhile by a concurrent request
        session.rollback()
        raise RosterRefused(f"{agency} already has an officer {officer_id!r}") from None
    session.refresh(officer)
    return officer


def seed(*, session: Session, agency: str, entries: Iterable[SeedEntry]) -> int:
    """Add the officers of `entries` that the roster does not have yet (an officer it
    has is never changed); returns how many were added."""
    added = 0
    for entry in entries:
        if find(session=session, agency=agency, officer_id=entry.officer_id) is None:
            session.add(Officer(agency=agency, officer_id=entry.officer_id, name=entry.name,
                                roles=_roles_text(entry.roles),
                                password_hash=entry.password_hash,
                                must_change_password=entry.must_change_password))
            added += 1
    session.commit()
    return added


@dataclass(frozen=True)
class SeedEntry:
    officer_id: str
    name: str
    roles: frozenset[OfficerRole]
    password_hash: str
    must_change_password: bool = False


def sign_in(*, session: Session, agency: str, officer_id: str, password: str,
            now: datetime) -> Officer:
    """The officer, if the password is theirs and they may sign in. A wrong id and a
    wrong password are refused alike, after the same work (one read and one hash; no
    write for either)."""
    officer = find(session=session, agency=agency, officer_id=officer_id)
    if not passwords.matches(password, officer.password_hash if officer else None):
        raise RosterRefused(SIGN_IN_REFUSED)
    assert officer is not None
    if officer.disabled:
        raise RosterRefused(f"officer {officer_id} is disabled; ask a head of {agency}")
    return officer


def record_session(*, session: Session, agency: str, officer_id: str, session_id: str,
                   issued_at: datetime, expires_at: datetime) -> None:
    session.add(OfficerSession(session_id=session_id, agency=agency, officer_id=officer_id,
                               issued_at=issued_at, expires_at=expires_at))
    session.commit()


@dataclass(frozen=True)
class Standing:
    """Whether a session still stands, and the officer's roles now."""

    active: bool
    roles: frozenset[OfficerRole] = frozenset()
    reason: str = ""


# The standing of a session and its officer, one indexed read (the desk and the gateway
# ask it on every call of a signed-in person): columns, not ORM objects, which cost
# the agency a millisecond a call where the query takes microseconds.
_STANDING = columns_of(
    col(OfficerSession.agency), col(OfficerSession.officer_id), col(OfficerSession.ended_at),
    col(OfficerSession.ended_reason), col(OfficerSession.expires_at), col(Officer.disabled),
    col(Officer.roles)).outerjoin(
        Officer, (col(Officer.agency) == col(OfficerSession.agency))
        & (col(Officer.officer_id) == col(OfficerSession.officer_id))
    ).where(col(OfficerSession.session_id) == bindparam("session_id"))


def standing(*, session: Session, agency: str, session_id: str, officer_id: str,
             now: datetime) -> Standing:
    row = session.connection().execute(_STANDING, {"session_id": session_id}).first()
    if row is None or row.agency != agency or row.officer_id != officer_id:
        return Standing(False, reason="the agency issued no such session")
    if row.ended_at is not None:
        return Standing(False, reason=f"the session was ended ({row.ended_reason})")
    if as_utc(row.expires_at) <= now:
        return Standing(False, reason="the session expired")
    if row.disabled is None or row.disabled:
        return Standing(False, reason=f"officer {officer_id} is disabled")
    return Standing(True, frozenset(OfficerRole(r) for r in row.roles.split(",") if r))


def end_session(*, session: Session, agency: str, session_id: str, now: datetime,
                reason: str) -> None:
    record = session.get(OfficerSession, session_id)
    if record is not None and record.agency == agency and record.ended_at is None:
        record.ended_at, record.ended_reason = now, reason
        session.add(record)
        session.commit()


def end_sessions_of(*, session: Session, agency: str, officer_id: str, now: datetime,
                    reason: str, keep: str = "") -> int:
    """End every live session of an officer (but `keep`); returns how many."""
    live = session.exec(select(OfficerSession).where(
        OfficerSession.agency == agency, OfficerSession.officer_id == officer_id,
        col(OfficerSession.ended_at).is_(None), OfficerSession.session_id != keep)).all()
    for record in live:
        record.ended_at, record.ended_reason = now, reason
        session.add(record)
    session.commit()
    return len(live)


def _existing(session: Session, agency: str, officer_id: str) -> Officer:
    officer = find(session=session, agency=agency, officer_id=officer_id)
    if officer is None:
        raise RosterRefused(f"{agency} has no officer {officer_id!r}", not_found=True)
    return officer


def disable(*, session: Session, agency: str, officer_id: str, reason: str,
            now: datetime) -> tuple[Officer, int]:
    """Disable an officer and end their sessions (in one transaction)."""
    officer = _existing(session, agency, officer_id)
    officer.disabled, officer.disabled_reason = True, reason
    session.add(officer)
    ended = end_sessions_of(session=session, agency=agency, officer_id=officer_id, now=now,
                            reason=f"officer disabled: {reason}"[:200])
    session.refresh(officer)
    return officer, ended


def set_password(*, session: Session, agency: str, officer_id: str, password_hash: str,
                 now: datetime, keep_session: str = "", one_time: bool = False) -> int:
    """A new password; the officer's other sessions end. Returns how many ended.
    `one_time`: given by someone else (a head's reset), to be replaced by the officer's
    own at their next sign-in."""
    officer = _existing(session, agency, officer_id)
    officer.password_hash, officer.password_changed_at = password_hash, now
    officer.must_change_password = one_time
    session.add(officer)
    return end_sessions_of(session=session, agency=agency, officer_id=officer_id, now=now,
                           reason="password changed", keep=keep_session)


def read_seed(path: Path) -> list[SeedEntry]:
    """A roster seed file: a JSON list of {officer_id, name, roles, password_hash, and
    must_change_password for a one-time password}, as `seamless provision` writes one
    for the demo officers or a first head (hashes only, never passwords)."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: a roster seed is a JSON list of officers")
    try:
        return [SeedEntry(officer_id=str(e["officer_id"]), name=str(e["name"]),
                          roles=roles_from(e["roles"]), password_hash=str(e["password_hash"]),
                          must_change_password=e.get("must_change_password") is True)
                for e in entries]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: an officer lacks officer_id, name, roles or "
                         f"password_hash ({err})") from None
