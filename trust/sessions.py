"""Officers' sessions: signed by the agency where the officer signed in.

An agency keeps its officers (sovereignty) and vouches for one by signing a short-lived
session naming the agency, the officer, the officer's roles and a session id. Anyone
with the platform's certificates can check the signature; only the agency can say
whether the session still stands (signed out, officer disabled), so the gateway asks it
on every call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from trust.pki import CertificateStore, Role
from trust.statements import Signer, StatementError, StatementType, verify

# A working shift: long enough not to sign in twice a day, short enough that a lost
# credential is soon worthless.
SESSION_LIFETIME = timedelta(hours=8)
ISSUERS = (Role.AGENCY, Role.OVERSIGHT)


class OfficerRole(StrEnum):
    """What an officer may do for the agency (roles are a set; none implies another)."""

    # Acts on the agency's tasks: sign for, arrive, complete, decline, ask for time.
    OFFICER = "officer"
    # Opens cases, dispatches, offers, accepts and withdraws hand-offs, withdraws tasks.
    DISPATCHER = "dispatcher"
    # Reviews declines, decides extensions, closes cases, keeps the roster; at the
    # coordinator, also assigns owners and settles escalations.
    HEAD = "head"


def roles_of(values: object) -> frozenset[OfficerRole]:
    if not isinstance(values, list | tuple | set | frozenset):
        raise ValueError("roles must be a list")
    return frozenset(OfficerRole(v) for v in values)


@dataclass(frozen=True)
class Session:
    agency: str
    officer: str
    roles: frozenset[OfficerRole]
    session_id: str
    issued_at: datetime
    expires_at: datetime
    # Who issued it: an agency's service, or the oversight body's.
    issuer_role: Role = Role.AGENCY


def issue(signer: Signer, *, officer: str, roles: frozenset[OfficerRole], now: datetime,
          lifetime: timedelta = SESSION_LIFETIME) -> tuple[str, Session]:
    # Whole seconds: what the signed claim can hold.
    expires_at = (now + lifetime).replace(microsecond=0)
    session = Session(agency=signer.party.id, officer=officer, roles=roles,
                      session_id=secrets.token_urlsafe(16), issued_at=now,
                      expires_at=expires_at, issuer_role=signer.party.role)
    token = signer.sign(StatementType.SESSION, {
        "sub": officer, "roles": sorted(r.value for r in roles), "sid": session.session_id,
        "exp": int(session.expires_at.timestamp())}, at=now)
    return token, session


class SessionError(ValueError):
    """Not a session anybody may act on; the message says why, without the token."""


def verify_session(token: str, store: CertificateStore, *, now: datetime) -> Session:
    """The session if an agency (or the oversight body) of the platform signed it and it
    has not expired; SessionError otherwise. Whether it was ended early is the issuer's
    to say."""
    try:
        statement = verify(token, store, StatementType.SESSION, roles=ISSUERS)
        claims = statement.claims
        officer, session_id = claims["sub"], claims["sid"]
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        roles = roles_of(claims["roles"])
    except StatementError as err:
        raise SessionError(f"the session is not valid: {err}") from None
    except (KeyError, TypeError, ValueError, OverflowError):
        raise SessionError("the session is not valid: it lacks what a session holds") \
            from None
    if not isinstance(officer, str) or not officer or not isinstance(session_id, str):
        raise SessionError("the session is not valid: it names no officer")
    if now >= expires_at:
        raise SessionError(f"the session expired at {expires_at.isoformat()}; sign in "
                           "again")
    return Session(agency=statement.signer.id, officer=officer, roles=roles,
                   session_id=session_id, issued_at=statement.issued_at,
                   expires_at=expires_at, issuer_role=statement.signer.role)
