"""CaseService: authenticated callers act on the cases they take part in.

Object-level authorization has one rule, applied on every call: a case exists only for
its participants and the coordinator. Commands carry the caller as their actor and the
rules refuse strangers with CASE_NOT_FOUND inside the workflow's validator (so nothing is
written); reads check the same `visible_to` on the case they fetched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from gateway import listing
from gateway.auth import caller
from gateway.commands import RPCS, case_id, open_command
from gateway.credentials import OVERSIGHT
from gateway.errors import Context, GatewayError, abort
from observability import telemetry
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from workflows import client as cases
from workflows.catalog_loader import Catalog
from workflows.rules.model import Actor, CaseState
from workflows.rules.refusals import Reason, grpc_status_name
from workflows.to_proto import agency_to_proto, case_to_proto

T = TypeVar("T")
INBOX_TIMEOUT_SECONDS = 10.0


def not_found(case: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.NOT_FOUND, Reason.CASE_NOT_FOUND.value,
                        f"there is no case {case}")


def refusal(err: cases.CaseRefused) -> GatewayError:
    code = grpc.StatusCode[grpc_status_name(Reason(err.reason))]
    return GatewayError(code, err.reason, err.message, err.details)


def _temporal(err: RPCError) -> GatewayError:
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return GatewayError(grpc.StatusCode.UNAVAILABLE, "ENGINE_UNAVAILABLE",
                            "the case engine is not answering; retry with the same "
                            "request_id")
    return GatewayError(grpc.StatusCode.INTERNAL, "ENGINE_ERROR",
                        f"the case engine failed: {err.message}")


class CaseService(case_service_pb2_grpc.CaseServiceServicer):
    def __init__(self, *, client: Client, catalog: Catalog, task_queue: str,
                 agency_addresses: Mapping[str, str]) -> None:
        self._client = client
        self._catalog = catalog
        self._task_queue = task_queue
        self._addresses = dict(agency_addresses)
        self._channels: dict[str, grpc.aio.Channel] = {}

    @property
    def _coordinator(self) -> str:
        return self._catalog.directory.coordinator

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)

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

    async def _visible_case(self, case: str) -> CaseState:
        """The case if the caller may see it; NOT_FOUND alike for absent and not yours."""
        try:
            state = await cases.get_case(self._client, case)
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise not_found(case) from None
            raise
        except WorkflowQueryFailedError:
            raise not_found(case) from None
        if caller() != OVERSIGHT and not state.visible_to(caller(), self._coordinator):
            raise not_found(case)
        return state

    # ----- reads ---------------------------------------------------------------------

    async def GetCase(self, request: pb.GetCaseRequest, context: Context
                      ) -> pb.GetCaseResponse:
        async def work() -> pb.GetCaseResponse:
            return pb.GetCaseResponse(
                case=case_to_proto(await self._visible_case(case_id(request))))
        return await self._serve(context, work)

    async def ListCases(self, request: pb.ListCasesRequest, context: Context
                        ) -> pb.ListCasesResponse:
        async def work() -> pb.ListCasesResponse:
            page = await listing.list_cases(self._client, request, caller=caller(),
                                            catalog=self._catalog)
            return pb.ListCasesResponse(cases=page.cases,
                                        next_page_token=page.next_page_token)
        return await self._serve(context, work)

    async def ListAgencies(self, request: pb.ListAgenciesRequest, context: Context
                           ) -> pb.ListAgenciesResponse:
        directory = self._catalog.directory
        return pb.ListAgenciesResponse(coordinator=directory.coordinator,
                                       agencies=[agency_to_proto(a) for a in directory.agencies])

    async def ListInbox(self, request: pb.CaseServiceListInboxRequest, context: Context
                        ) -> pb.CaseServiceListInboxResponse:
        """The caller's inbox, from its own agency service (the agency's data stays
        with the agency; the gateway only relays)."""
        async def work() -> pb.CaseServiceListInboxResponse:
            agency = caller()
            try:
                answer = await self._agency(agency).ListInbox(
                    agency_pb2.ListInboxRequest(page_size=request.page_size,
                                                page_token=request.page_token,
                                                open_only=request.open_only),
                    timeout=INBOX_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as err:
                if err.code() is grpc.StatusCode.INVALID_ARGUMENT:
                    raise GatewayError(err.code(), "INVALID_FIELD", err.details() or "") \
                        from None
                raise GatewayError(grpc.StatusCode.UNAVAILABLE, "AGENCY_UNAVAILABLE",
                                   f"the inbox of {agency} is kept by its own service, "
                                   f"which is not answering ({err.code().name})") from None
            return pb.CaseServiceListInboxResponse(items=answer.items,
                                                   next_page_token=answer.next_page_token)
        return await self._serve(context, work)

    def _agency(self, agency: str) -> agency_pb2_grpc.AgencyServiceStub:
        address = self._addresses.get(agency)
        if address is None:
            raise GatewayError(grpc.StatusCode.FAILED_PRECONDITION, "NO_AGENCY_SERVICE",
                               f"{agency} has no agency service on this platform")
        channel = self._channels.get(agency)
        if channel is None:
            channel = self._channels[agency] = grpc.aio.insecure_channel(
                address, interceptors=telemetry.grpc_client_interceptors())
        return agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]

    # ----- changes -------------------------------------------------------------------

    async def OpenCase(self, request: pb.OpenCaseRequest, context: Context
                       ) -> pb.OpenCaseResponse:
        async def work() -> pb.OpenCaseResponse:
            _check_may_act()
            reply = await cases.open_case_reply(self._client, self._catalog,
                                                open_command(request, caller()),
                                                task_queue=self._task_queue)
            return pb.OpenCaseResponse(case=reply.case_proto())
        return await self._serve(context, work)

    async def _command(self, name: str, request: Any, context: Context) -> Message:
        rpc = RPCS[name]

        async def work() -> Message:
            case = case_id(request)
            _check_may_act()
            command = rpc.build(request, Actor(caller(), request.officer_id))
            try:
                reply = await cases.send_reply(self._client, case, command)
            except cases.CaseRefused as err:
                if err.reason == Reason.CASE_CLOSED.value:
                    await self._visible_case(case)  # a stranger must not learn it existed
                raise
            return rpc.respond(reply.result, reply.case_proto())
        return await self._serve(context, work)


def _check_may_act() -> None:
    if caller() == OVERSIGHT:
        raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "READ_ONLY_IDENTITY",
                           "the oversight identity reads every case and changes none; act "
                           "with an agency's credential")


def _command_rpc(name: str) -> Callable[..., Awaitable[Message]]:
    async def rpc(self: CaseService, request: Any, context: Context) -> Message:
        return await self._command(name, request, context)
    rpc.__name__ = rpc.__qualname__ = name
    return rpc


# DispatchTask, SignTask, … CloseCase: one method per command of `gateway.commands.RPCS`
# (the contract test checks that every RPC of CaseService is served).
for _name in RPCS:
    setattr(CaseService, _name, _command_rpc(_name))
