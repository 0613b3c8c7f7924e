"""Who is calling: the kinds of caller the gateway knows, and the one being served."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from trust.sessions import OfficerRole


class CallerKind(StrEnum):
    # A person signed in at an agency (the coordinator's staff included).
    OFFICER = "officer"
    # A person of the oversight body: reads every case, changes none.
    OVERSIGHT = "oversight"
    # An agency's service forwarding an act of one of its officers.
    AGENCY = "agency"


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    # The agency (or the oversight body) the caller belongs to, or the forwarding agency.
    agency: str
    officer: str = ""
    roles: frozenset[OfficerRole] = frozenset()
    session_id: str = ""
    # For an agency: its signature over the act it forwards.
    signed_act: str = ""
    # For a person: the session itself, relayed to the person's own agency (the inbox).
    # Never logged, traced or recorded.
    session: str = ""


CURRENT: ContextVar[Caller] = ContextVar("seamless_caller")


def caller() -> Caller:
    """The authenticated caller of the call being served."""
    return CURRENT.get()
