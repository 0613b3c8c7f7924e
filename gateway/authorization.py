"""Authorization by role: which caller may call which method, one table for every door.

Object-level rules (is this your case, are you its owner, the assignee, the coordinator)
are the case engine's and `records.participation`'s; this table says what a kind
of caller may ask at all. It is derived from `workflows.command_table`, which declares
each call once; a test holds that to the services' own descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from gateway.callers import Caller, CallerKind
from gateway.errors import GatewayError
from trust.sessions import OfficerRole
from workflows.command_table import CALLS


@dataclass(frozen=True)
class Permission:
    # The role the officer needs; None: any signed-in officer.
    role: OfficerRole | None
    # A change to a case: never for the oversight body.
    changes: bool
    # An agency's service may forward it as an act of one of its officers.
    forwarded: bool = False


# Derived from the one declaration of every call (workflows.command_table).
PERMISSIONS: dict[str, Permission] = {
    call.method: Permission(call.role, call.changes, call.forwarded) for call in CALLS}


def _denied(reason: str, message: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.PERMISSION_DENIED, reason, message)


def authorize(method: str, caller: Caller) -> None:
    """Raise PERMISSION_DENIED unless `caller` may call `method`."""
    permission = PERMISSIONS.get(method)
    if permission is None:
        raise _denied("UNKNOWN_METHOD", f"{method} is not served")
    if caller.kind is CallerKind.AGENCY:
        if not permission.forwarded:
            raise _denied("NOT_FORWARDABLE",
                          f"{caller.agency}'s service forwards its officers' acts on tasks "
                          "(sign, arrive, complete, decline); anything else its officers "
                          "ask themselves, signed in")
        return
    if caller.kind is CallerKind.OVERSIGHT and permission.changes:
        raise _denied("READ_ONLY_IDENTITY",
                      "oversight staff read every case and change none; act as an officer "
                      "of an agency")
    if permission.role is not None and permission.role not in caller.roles:
        raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED",
                           f"officer {caller.officer} of {caller.agency} lacks the role "
                           f"{permission.role.value} this needs; a head of {caller.agency} "
                           "can grant it", {"role": permission.role.value})
