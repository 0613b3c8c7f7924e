"""Signed statements: what a party asserts, signed with its key, checkable by anyone.

A statement is a compact JWS (ES256, via PyJWT) whose header names the signer's
certificate by fingerprint (`kid`) and whose claims say what is asserted; `typ` (one of
`StatementType`) keeps a statement of one kind from passing for another. Checking one
takes the certificate store, the role the signer must have and, optionally, the signer
itself; times are judged by the caller against the moment that matters (the workflow's
clock, say), never read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError

from trust.pki import CertificateStore, Identity, Party, Role

ALGORITHM = "ES256"
# How long the gateway's seal on a command is good for: the case refuses it later, and
# the audit refuses an event sealed longer before it happened.
COMMAND_SEAL_LIFETIME = timedelta(minutes=10)
# Far beyond any statement we write (a session, a seal, a receipt: under a kilobyte);
# bounds the work a forged one can cause.
MAX_STATEMENT_CHARS = 8192
_JWS = jwt.PyJWS(algorithms=[ALGORITHM])


class StatementType(StrEnum):
    SESSION = "seamless.session"
    # The gateway's seal on a command it sends to a case.
    COMMAND = "seamless.command"
    # An agency's signature on an act of one of its officers, forwarded to the gateway.
    ACT = "seamless.act"
    # An agency's receipt for a task or a notice delivered to it.
    RECEIPT = "seamless.receipt"
    # The worker's witness of the ledger's heads.
    CHECKPOINT = "seamless.checkpoint"


class StatementError(ValueError):
    """A statement that does not hold: the message says why, and never repeats it."""


@dataclass(frozen=True)
class Statement:
    signer: Party
    kid: str
    claims: dict[str, Any]

    @property
    def issued_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.claims["iat"]), UTC)


class Signer:
    """Signs statements as this process's party."""

    def __init__(self, identity: Identity) -> None:
        self.party = identity.party
        self._key = identity.key
        self._kid = identity.kid

    def sign(self, kind: StatementType, claims: dict[str, Any], *, at: datetime) -> str:
        payload = {**claims, "typ": kind.value, "iss": self.party.id,
                   "iat": round(at.timestamp(), 6)}
        token: str = jwt.encode(payload, self._key, algorithm=ALGORITHM,
                                headers={"kid": self._kid})
        return token


def verify(token: str, store: CertificateStore, kind: StatementType, *,
           roles: tuple[Role, ...], signer: str | None = None,
           of_record: bool = False, max_chars: int = MAX_STATEMENT_CHARS) -> Statement:
    """The statement if its signature holds, by a certificate of the platform's
    authority, of a party in `roles` (and `signer`, when given), valid when signed.
    StatementError otherwise."""
    if not token or len(token) > max_chars:
        raise StatementError("not a signed statement")
    try:
        header = _JWS.get_unverified_header(token)
    except InvalidTokenError:
        raise StatementError("not a signed statement") from None
    kid = header.get("kid")
    known = store.get(kid) if isinstance(kid, str) else None
    if known is None:
        raise StatementError("signed with a certificate the platform's authority did not "
                             "issue (or that this process does not know)")
    try:
        payload = _JWS.decode(token, known.public_key, algorithms=[ALGORITHM])
        claims = json.loads(payload)
    except (InvalidTokenError, ValueError):
        raise StatementError(f"the signature of {known.party} does not hold") from None
    if not isinstance(claims, dict) or claims.get("typ") != kind.value:
        raise StatementError(f"not a statement of the kind {kind.value}")
    if claims.get("iss") != known.party.id:
        raise StatementError(f"claims to come from {claims.get('iss')!r} but is signed by "
                             f"{known.party}")
    if known.party.role not in roles:
        raise StatementError(f"signed by {known.party}, who may not make it")
    if signer is not None and known.party.id != signer:
        raise StatementError(f"signed by {known.party}, not by {signer}")
    statement = Statement(known.party, known.kid, claims)
    try:
        signed_at = statement.issued_at
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise StatementError("the statement bears no time") from None
    # A statement presented now (a session, an act, a seal, a receipt) is refused once
    # its key is retired, whenever it says it was signed: a stolen key signs any date.
    # One of record (the ledger's proofs, checked afterwards) holds if it was made
    # before; the ledger's chain and the worker's checkpoints say when it was recorded.
    if not of_record and store.retired(known.kid):
        raise StatementError(f"signed with a key of {known.party} that was retired")
    if not known.valid_at(signed_at):
        raise StatementError(f"signed when the certificate of {known.party} was not valid")
    return statement
