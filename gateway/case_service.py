"""CaseService: authenticated callers act on the cases they take part in.

The actor of every command is the verified caller: the signed-in officer, or the officer
an agency's signed act names (checked here against the request). A request naming
another officer is refused and nothing is recorded. Each command goes to the case sealed
by the gateway (`workflows.seals`), vouched for by the officer's session or the agency's
act.

Object-level authorization has one rule (`records.participation`), applied on
every call: a case exists only for its participants, the coordinator and oversight.
Commands carry the caller as their actor and the rules refuse strangers with
CASE_NOT_FOUND inside the workflow's validator (so nothing is written); reads check the
same rule on the case they fetched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from gateway import case_numbers, listing, work_queue
from gateway.agency_links import AgencyLinks
from gateway.callers import CallerKind, caller
from gateway.case_numbers import CaseNumbers
from gateway.case_refs import CaseRefs, not_found
from gateway.case_views import case_seen_by
from gateway.command_rpcs import RPCS, forwarded_act, open_command, requested_case_id
from gateway.errors import Context, GatewayError, abort, internal
from records import participation
from seamless.v1 import agency_pb2, case_pb2, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from trust.attestations import verify_act
from trust.pki import CertificateStore
from trust.statements import StatementError
from workflows import client as cases
from workflows.catalog_loader import Catalog
from workflows.rules.case import fingerprint
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor, CaseState
from workflows.rules.refusals import Reason, grpc_status_name
from workflows.seals import Vouch, vouched
from workflows.to_proto import agency_to_proto, case_to_proto, playbook_to_proto

T = TypeVar("T")


def refusal(err: cases.CaseRefused) -> GatewayError:
    code = grpc.StatusCode[grpc_status_name(Reason(err.reason))]
    return GatewayError(code, err.reason, err.message, err.details)


def _temporal(err: RPCError) -> GatewayError:
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return GatewayError(grpc.StatusCode.UNAVAILABLE, "ENGINE_UNAVAILABLE",
                            "the case engine is not answering; retry with the same "
                            "request_id")
    if err.status is RPCStatusCode.RESOURCE_EXHAUSTED:  # still, after the client's tries
        return GatewayError(grpc.StatusCode.RESOURCE_EXHAUSTED, "CASE_BUSY",
                            "the case is taking many requests at once; retry shortly with "
                            "the same request_id", retry_after=1.0)
    # Temporal's own words name workflow ids and internals: they go to the log only.
    return internal(err, "the case engine")


class CaseService(case_service_pb2_grpc.CaseServiceServicer):
    def __init__(self, *, client: Client, catalog: Catalog, task_queue: str,
                 links: AgencyLinks, store: CertificateStore, numbers: CaseNumbers,
                 refs: CaseRefs, ledger: Engine) -> None:
        self._client = client
        # The ledger's database, read only: the lists come from its read model.
        self._ledger = ledger
        self._numbers = numbers
        self._refs = refs
        self._catalog = catalog
        self._task_queue = task_queue
        self._links = links
        self._store = store

    @property
    def _coordinator(self) -> str:
        return self._catalog.directory.coordinator

    async def _serve(self, context: Context, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work`, turning every way it can fail into a status with ErrorInfo."""
        try:
            return await work()
        except GatewayError as err:
            await abort(context, err)
        except cases.CaseRefused as err:
            await abort(context, refusal(err))
        except RPCError as err:
            await abort(context, _temporal(err))

    def _seen(self, case: case_pb2.Case) -> case_pb2.Case:
        """As much of a case as the caller's part in it shows (least knowledge)."""
        return case_seen_by(caller().agency, case, coordinator=self._coordinator)

    async def _visible_case(self, reference: str) -> CaseState:
        """The case if the caller may see it; NOT_FOUND alike for absent and not yours."""
        case = await self._refs.live(reference)
        try:
            state = await cases.read_case(self._client, case)
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise not_found(reference) from None
            raise
        except WorkflowQueryFailedError:
            raise not_found(reference) from None
        if not participation.may_see(caller().agency, state.participants(),
                                     coordinator=self._coordinator):
            raise not_found(reference)
        return state

    # ----- reads ---------------------------------------------------------------------

    async def GetCase(self, request: pb.GetCaseRequest, context: Context
                      ) -> pb.GetCaseResponse:
        async def work() -> pb.GetCaseResponse:
            case = await self._visible_case(requested_case_id(request))
            return pb.GetCaseResponse(case=self._seen(case_to_proto(
                case, self._catalog.rules_for(case.type))))
        return await self._serve(context, work)

    async def ListCases(self, request: pb.ListCasesRequest, context: Context
                        ) -> pb.ListCasesResponse:
        async def work() -> pb.ListCasesResponse:
            page = await listing.list_cases(self._ledger, request, viewer=caller().agency,
                                            catalog=self._catalog)
            return pb.ListCasesResponse(cases=page.cases,
                                        next_page_token=page.next_page_token)
        return await self._serve(context, work)

    async def ListAgencies(self, request: pb.ListAgenciesRequest, context: Context
                           ) -> pb.ListAgenciesResponse:
        directory = self._catalog.directory
        return pb.ListAgenciesResponse(coordinator=directory.coordinator,
                                       agencies=[agency_to_proto(a) for a in directory.agencies])

    async def ListPlaybooks(self, request: pb.ListPlaybooksRequest, context: Context
                            ) -> pb.ListPlaybooksResponse:
        return pb.ListPlaybooksResponse(playbooks=[
            playbook_to_proto(p) for _, p in sorted(self._catalog.playbooks.items())])

    async def ListInbox(self, request: pb.CaseServiceListInboxRequest, context: Context
                        ) -> pb.CaseServiceListInboxResponse:
        async def work() -> pb.CaseServiceListInboxResponse:
            page = await work_queue.work_queue(self._ledger, request, viewer=caller().agency,
                                               now=datetime.now(UTC))
            return pb.CaseServiceListInboxResponse(items=page.items,
                                                   next_page_token=page.next_page_token)
        return await self._serve(context, work)

    async def ListNotices(self, request: pb.ListNoticesRequest, context: Context
                          ) -> pb.ListNoticesResponse:
        """The notices the caller's agency received, from its own service (the agency's
        data stays with the agency; the gateway only relays, with the officer's
        session)."""
        async def work() -> pb.ListNoticesResponse:
            who = caller()
            try:
                answer = await self._links.list_notices(
                    who.agency, who.session, agency_pb2.AgencyServiceListNoticesRequest(
                        page_size=request.page_size, page_token=request.page_token,
                        mark_read=request.mark_read))
            except KeyError:
                raise GatewayError(grpc.StatusCode.FAILED_PRECONDITION, "NO_AGENCY_SERVICE",
                                   f"{who.agency} has no agency service on this platform") \
                    from None
            except grpc.aio.AioRpcError as err:
                if err.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.UNAUTHENTICATED):
                    raise GatewayError(err.code(), "INVALID_FIELD" if err.code() is
                                       grpc.StatusCode.INVALID_ARGUMENT else "UNAUTHENTICATED",
                                       err.details() or "") from None
                raise GatewayError(grpc.StatusCode.UNAVAILABLE, "AGENCY_UNAVAILABLE",
                                   f"the notices of {who.agency} are kept by its own "
                                   f"service, which is not answering ({err.code().name})") \
                    from None
            return pb.ListNoticesResponse(notices=answer.notices,
                                          next_page_token=answer.next_page_token,
                                          unread=answer.unread)
        return await self._serve(context, work)

    # ----- changes -------------------------------------------------------------------

    async def OpenCase(self, request: pb.OpenCaseRequest, context: Context
                       ) -> pb.OpenCaseResponse:
        async def work() -> pb.OpenCaseResponse:
            actor, vouch = self._acting("OpenCase", request)
            command = open_command(request, actor)
            key = case_numbers.request_key(actor.agency, command.request_id,
                                           fingerprint(command))
            earlier = await asyncio.to_thread(self._numbers.case_for_request, key)
            if earlier:
                # A retry of an open that was answered: the same case, even once it has
                # closed (a new opening would be a second case under the same number).
                return pb.OpenCaseResponse(case=self._seen(case_to_proto(
                    await self._visible_case(earlier))))

            async def numbering(_: OpenCase) -> str:
                return await asyncio.to_thread(self._numbers.allocate, key,
                                               datetime.now(UTC))

            async def number_of_retry(_: OpenCase) -> str:
                return await asyncio.to_thread(self._numbers.allocated, key)
            with vouched(vouch):
                reply = await cases.open_case_reply(self._client, self._catalog, command,
                                                    task_queue=self._task_queue,
                                                    numbering=numbering,
                                                    number_of_retry=number_of_retry)
            case = reply.case_proto()
            if case.number:
                await asyncio.to_thread(self._numbers.bind, case.number, case.id)
            return pb.OpenCaseResponse(case=self._seen(case))
        return await self._serve(context, work)

    async def _command(self, name: str, request: Any, context: Context) -> Message:
        rpc = RPCS[name]

        async def work() -> Message:
            case = await self._refs.live(requested_case_id(request))
            actor, vouch = self._acting(name, request)
            command = rpc.build(request, actor)
            try:
                with vouched(vouch):
                    reply = await cases.send_reply(self._client, case, command)
            except cases.CaseRefused as err:
                if err.reason == Reason.CASE_CLOSED.value:
                    # A stranger must not learn it existed, nor its id.
                    await self._visible_case(requested_case_id(request))
                if err.reason == Reason.CASE_NOT_FOUND.value:
                    # In the caller's words: the case's own would tell a stranger its
                    # number.
                    raise not_found(requested_case_id(request)) from None
                raise
            return rpc.respond(reply.result, self._seen(reply.case_proto()))
        return await self._serve(context, work)

    def _acting(self, name: str, request: Any) -> tuple[Actor, Vouch]:
        """Who acts (the verified caller) and what vouches for it; a request naming any
        other officer is refused."""
        who = caller()
        claimed = str(request.officer_id)
        if who.kind is CallerKind.AGENCY:
            # The agency's signed act names the officer, and must say exactly this.
            if not claimed:
                raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                                   "officer_id: an agency forwards an act of a named officer",
                                   {"field": "officer_id"})
            try:
                verify_act(who.signed_act, self._store, agency=who.agency,
                           expected=forwarded_act(name, request, officer=claimed))
            except StatementError as err:
                raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "ACT_NOT_SIGNED",
                                   f"the act forwarded by {who.agency} is not signed as "
                                   f"sent: {err}") from None
            return Actor(who.agency, claimed), Vouch(act=who.signed_act)
        return signed_in_officer(claimed)


def signed_in_officer(claimed: str) -> tuple[Actor, Vouch]:
    """The signed-in person acting (a request naming another officer is refused), and
    their session, which vouches for it."""
    who = caller()
    if claimed and claimed != who.officer:
        raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "OFFICER_MISMATCH",
                           f"officer_id {claimed!r} is not the signed-in officer "
                           f"({who.officer}); an officer acts only as itself",
                           {"field": "officer_id"})
    return Actor(who.agency, who.officer), Vouch(session_id=who.session_id)


def _command_rpc(name: str) -> Callable[..., Awaitable[Message]]:
    async def rpc(self: CaseService, request: Any, context: Context) -> Message:
        return await self._command(name, request, context)
    rpc.__name__ = rpc.__qualname__ = name
    return rpc


# DispatchTask, SignTask, … CloseCase: one method per command of `gateway.command_rpcs.RPCS`
# (the contract test checks that every RPC of CaseService is served).
for _name in RPCS:
    setattr(CaseService, _name, _command_rpc(_name))
