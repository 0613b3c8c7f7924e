"""A gRPC server interceptor that settles who is calling before any handler runs.

The service gives an `identify(method, context)` coroutine that returns the caller (or
aborts the call); the interceptor runs it first for every call, refusing before the
handler is reached, and puts the caller where the handler finds it. An optional
`around(method, caller, context)` async context manager wraps each handler (the
gateway's admission: quotas, and the generic answer to unforeseen errors). Health checks
and reflection stay open, so a supervisor can see the service is up without a
credential.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import DecodeError

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
Caller = TypeVar("Caller")
Context = grpc.aio.ServicerContext[Any, Any]
Identify = Callable[[str, Context], Awaitable[Caller]]
Around = Callable[[str, Caller, Context], AbstractAsyncContextManager[None]]


def _nothing_around(method: str, caller: object, context: Context
                    ) -> AbstractAsyncContextManager[None]:
    return nullcontext()


def bearer(context: Context) -> str:
    """The token of an `authorization: Bearer <token>` header, or ''."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return ""


def header(context: Context, name: str) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == name and isinstance(value, str):
            return value
    return ""


async def _parsed(parse: Callable[[bytes], Any], raw: bytes, method: str,
                  context: Context) -> Any:
    try:
        return parse(raw)
    except DecodeError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                            f"the request is not a well-formed message for {method}: check "
                            "its encoding (strings are UTF-8)")


class Guard(grpc.aio.ServerInterceptor, Generic[Caller]):  # type: ignore[type-arg]
    def __init__(self, identify: Identify[Caller], current: ContextVar[Caller],
                 around: Around[Caller] | None = None) -> None:
        self._identify = identify
        self._current = current
        self._around: Around[Caller] = around or _nothing_around

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails],
                               Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_SERVICES):
            return handler
        identify, current, around = self._identify, self._current, self._around

        # The request arrives as bytes and is parsed here, once the caller is known: a
        # stranger's bytes are never parsed, and bytes that are not the message (bad
        # UTF-8, a corrupt wire format) are INVALID_ARGUMENT, where gRPC's own parsing
        # would answer UNKNOWN in the parser's words.
        parse = handler.request_deserializer or (lambda raw: raw)
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            async def guarded(raw: bytes, context: Context) -> Any:
                caller = await identify(method, context)
                request = await _parsed(parse, raw, method, context)
                reset = current.set(caller)
                try:
                    async with around(method, caller, context):
                        return await unary(request, context)  # type: ignore[arg-type]
                finally:
                    current.reset(reset)

            return grpc.unary_unary_rpc_method_handler(
                guarded, request_deserializer=None,
                response_serializer=handler.response_serializer)
        if handler.unary_stream is not None:
            streaming = handler.unary_stream

            async def guarded_stream(raw: bytes, context: Context) -> AsyncIterator[Any]:
                caller = await identify(method, context)
                request = await _parsed(parse, raw, method, context)
                reset = current.set(caller)
                try:
                    async with around(method, caller, context):
                        async for reply in streaming(request, context):  # type: ignore[arg-type,attr-defined]
                            yield reply
                finally:
                    current.reset(reset)

            return grpc.unary_stream_rpc_method_handler(
                guarded_stream, request_deserializer=None,
                response_serializer=handler.response_serializer)
        if handler.stream_unary is not None:
            collecting = handler.stream_unary

            async def guarded_upload(raws: AsyncIterator[bytes], context: Context) -> Any:
                caller = await identify(method, context)

                async def parsed() -> AsyncIterator[Any]:
                    async for raw in raws:
                        yield await _parsed(parse, raw, method, context)
                reset = current.set(caller)
                try:
                    async with around(method, caller, context):
                        return await collecting(parsed(), context)  # type: ignore[arg-type]
                finally:
                    current.reset(reset)

            return grpc.stream_unary_rpc_method_handler(
                guarded_upload, request_deserializer=None,
                response_serializer=handler.response_serializer)
        # No other kind of call is served; refuse rather than serve it unchecked.
        raise RuntimeError(f"{method}: only unary, server-streaming and client-streaming "
                           "calls are guarded")
