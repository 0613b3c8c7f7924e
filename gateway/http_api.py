"""CaseService, OversightService and ReportService over HTTP/JSON (the Connect protocol).

One implementation of every operation: the Connect code generated from the same protos
routes each call to the gRPC servicer's own handler, through the same authentication
and authorization (`Authenticator.identify`) the gRPC guard runs. The bridge hands the
handler a context that speaks the few words of `grpc.aio.ServicerContext` the gateway
uses: the request headers as metadata, no peer certificate (the HTTP door is for people,
never for agencies' services) and `abort`, which becomes a `ConnectError` with the same
code and `ErrorInfo`, so clients of either transport branch on the same reasons.

Read-only methods are marked `NO_SIDE_EFFECTS` in the protos, so they also answer GET.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from typing import Any, NoReturn, cast

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from connectrpc.request import RequestContext
from connectrpc_otel import OpenTelemetryInterceptor
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.rpc import status_pb2
from protobuf.wkt import Any as AnyDetail

from gateway.admission import Admission
from gateway.callers import CURRENT, Caller
from gateway.connect_json import CheckedJson
from seamless.v1 import (
    case_service_connect,
    case_service_pb2,
    oversight_connect,
    oversight_pb2,
    report_connect,
    report_pb2,
)

Identify = Callable[[str, Any], Awaitable[Caller]]

CASE_SERVICE = case_service_pb2.DESCRIPTOR.services_by_name["CaseService"]
OVERSIGHT_SERVICE = oversight_pb2.DESCRIPTOR.services_by_name["OversightService"]
REPORT_SERVICE = report_pb2.DESCRIPTOR.services_by_name["ReportService"]

_CODES: dict[grpc.StatusCode, Code] = {
    status: Code[status.name.replace("CANCELLED", "CANCELED")]
    for status in grpc.StatusCode if status is not grpc.StatusCode.OK}


class CallContext:
    """What a gateway handler asks of its gRPC context, answered from a request's
    headers: the HTTP API's, or the console's (which sends the session of its cookie)."""

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        self._metadata = tuple((key.lower(), value) for key, value in headers)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}  # no client certificate over HTTP: never an agency's service

    async def abort(self, code: grpc.StatusCode, details: str = "",
                    trailing_metadata: Sequence[tuple[str, str | bytes]] = ()) -> NoReturn:
        raise ConnectError(_CODES[code], details, _details(trailing_metadata))


def _details(trailing_metadata: Sequence[tuple[str, str | bytes]]) -> list[ErrorDetail]:
    """The status details (ErrorInfo) `gateway.errors.abort` put in trailing metadata."""
    for key, value in trailing_metadata:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            return [ErrorDetail(AnyDetail(type_url=d.type_url, value=d.value))
                    for d in status.details]
    return []


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Operations:
    """Every method of the services, guarded: the gRPC servicer's handler, run after
    the gateway's authentication and authorization, as the caller it found."""

    def __init__(self, *, case_service: object, oversight_service: object,
                 report_service: object, identify: Identify, admission: Admission) -> None:
        self._identify = identify
        self._around = admission.serving
        self._handlers: dict[str, Callable[..., Any]] = {}
        for service, servicer in ((CASE_SERVICE, case_service),
                                  (OVERSIGHT_SERVICE, oversight_service),
                                  (REPORT_SERVICE, report_service)):
            for method in service.methods:
                self._handlers[f"/{service.full_name}/{method.name}"] = \
                    getattr(servicer, method.name)

    async def call(self, path: str, request: Message, context: CallContext) -> Any:
        """A unary method's reply, or ConnectError with the code and ErrorInfo."""
        caller = await self._identify(path, context)
        reset = CURRENT.set(caller)
        try:
            async with self._around(path, caller, context):
                return await self._handlers[path](request, context)
        finally:
            CURRENT.reset(reset)

    async def stream(self, path: str, request: Message, context: CallContext
                     ) -> AsyncIterator[Any]:
        """A streaming method's replies. The caller is set around each step alone: the
        stream may be read on from another task (a streamed HTTP answer is)."""
        caller = await self._identify(path, context)
        # Closed however the reading ends (a client gone, say): the handler's own
        # clean-up (its spool) runs at once, not when the collector finds it.
        async with self._around(path, caller, context), \
                aclosing(self._handlers[path](request, context)) as replies:
            while True:
                reset = CURRENT.set(caller)
                try:
                    reply = await anext(replies)
                except StopAsyncIteration:
                    return
                finally:
                    CURRENT.reset(reset)
                yield reply


class ConnectBridge:
    """A Connect service (snake_case methods) whose every method is an operation."""

    def __init__(self, operations: Operations, service: ServiceDescriptor) -> None:
        for method in service.methods:
            path = f"/{service.full_name}/{method.name}"
            make = _streaming if method.server_streaming else _unary
            setattr(self, _snake(method.name), make(operations, path))


def _context(ctx: RequestContext[Any, Any]) -> CallContext:
    return CallContext(ctx.request_headers.items())


def _unary(operations: Operations, path: str) -> Callable[..., Awaitable[Message]]:
    async def call(request: Message, ctx: RequestContext[Any, Any]) -> Message:
        reply: Message = await operations.call(path, request, _context(ctx))
        return reply
    return call


def _streaming(operations: Operations, path: str) -> Callable[..., AsyncIterator[Message]]:
    def call(request: Message, ctx: RequestContext[Any, Any]) -> AsyncIterator[Message]:
        return operations.stream(path, request, _context(ctx))
    return call


def connect_apps(operations: Operations, read_max_bytes: int) -> list[Any]:
    """The services' ASGI applications (each knows the path prefix it serves), their
    JSON bodies checked first (`gateway.connect_json`)."""
    interceptors = [OpenTelemetryInterceptor()]
    return [CheckedJson(app, read_max_bytes) for app in (
        case_service_connect.CaseServiceASGIApplication(
            cast(case_service_connect.CaseService, ConnectBridge(operations, CASE_SERVICE)),
            interceptors=interceptors, read_max_bytes=read_max_bytes),
        oversight_connect.OversightServiceASGIApplication(
            cast(oversight_connect.OversightService,
                 ConnectBridge(operations, OVERSIGHT_SERVICE)),
            interceptors=interceptors, read_max_bytes=read_max_bytes),
        report_connect.ReportServiceASGIApplication(
            cast(report_connect.ReportService, ConnectBridge(operations, REPORT_SERVICE)),
            interceptors=interceptors, read_max_bytes=read_max_bytes),
    )]
