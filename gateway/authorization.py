"""Authorization by role: which caller may call which method, one table for every door.

Object-level rules (is this your case, are you its owner, the assignee, the coordinator)
are the case engine's and `observability.participation`'s; this table says what a kind
of caller may ask at all. A test holds it to the services: every method of CaseService
and OversightService is listed, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from gateway.callers import Caller, CallerKind
from gateway.errors import GatewayError
from trust.sessions import OfficerRole

_CASE = "/seamless.v1.CaseService/"
_OVERSIGHT = "/seamless.v1.OversightService/"
_REPORT = "/seamless.v1.ReportService/"


@dataclass(frozen=True)
class Permission:
    # The role the officer needs; None: any signed-in officer.
    role: OfficerRole | None
    # A change to a case: never for the oversight body.
    changes: bool
    # An agency's service may forward it as an act of one of its officers.
    forwarded: bool = False


_READ = Permission(None, changes=False)
_OFFICER_ACT = Permission(OfficerRole.OFFICER, changes=True, forwarded=True)
_DISPATCHER = Permission(OfficerRole.DISPATCHER, changes=True)
_HEAD = Permission(OfficerRole.HEAD, changes=True)

PERMISSIONS: dict[str, Permission] = {
    _CASE + "OpenCase": _DISPATCHER,
    _CASE + "GetCase": _READ,
    _CASE + "ListCases": _READ,
    _CASE + "DispatchTask": _DISPATCHER,
    _CASE + "SignTask": _OFFICER_ACT,
    _CASE + "ArriveOnScene": _OFFICER_ACT,
    _CASE + "CompleteTask": _OFFICER_ACT,
    _CASE + "DeclineTask": _OFFICER_ACT,
    _CASE + "ReviewDecline": _HEAD,
    _CASE + "RequestExtension": Permission(OfficerRole.OFFICER, changes=True),
    _CASE + "DecideExtension": _HEAD,
    _CASE + "WithdrawTask": _DISPATCHER,
    _CASE + "OfferHandoff": _DISPATCHER,
    _CASE + "AcceptHandoff": _DISPATCHER,
    _CASE + "DeclineHandoff": _DISPATCHER,
    _CASE + "WithdrawHandoff": _DISPATCHER,
    # The coordinator's own acts; the engine checks it is the coordinator.
    _CASE + "AssignOwner": _HEAD,
    _CASE + "ResolveEscalation": _HEAD,
    _CASE + "CloseCase": _HEAD,
    # 派单异议: the lead's head objects, the coordinator's head decides.
    _CASE + "ObjectToLead": _HEAD,
    _CASE + "DecideObjection": _HEAD,
    _CASE + "ListInbox": _READ,
    _CASE + "ListNotices": _READ,
    _CASE + "ListAgencies": _READ,
    _CASE + "ListPlaybooks": _READ,
    # The hotline desk: the service checks it is the hotline (or the owner, to merge).
    _REPORT + "SubmitReport": Permission(OfficerRole.OFFICER, changes=True),
    _REPORT + "GetReport": _READ,
    _REPORT + "ListReports": _READ,
    _REPORT + "MergeReport": _DISPATCHER,
    _REPORT + "SplitReport": _DISPATCHER,
    _REPORT + "RateReport": Permission(OfficerRole.OFFICER, changes=True),
    _OVERSIGHT + "GetTimeline": _READ,
    _OVERSIGHT + "ListGaps": _READ,
    _OVERSIGHT + "GetScorecards": _READ,
    _OVERSIGHT + "GetHandoffMatrix": _READ,
    _OVERSIGHT + "ExportEventLog": _READ,
    _OVERSIGHT + "VerifyLedger": _READ,
}


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
