"""Authentication: every CaseService call names its caller by a bearer token.

The interceptor resolves the token to an identity before the handler runs and puts it
where the handler finds it (`caller()`); health checks and reflection stay open so
tools can see the gateway is up without a credential.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc

from gateway import credentials
from gateway.errors import GatewayError, abort

_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("seamless_caller")
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def caller() -> str:
    """The authenticated identity of the call being served."""
    return _CALLER.get()


def _bearer(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return ""


class BearerAuth(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, hashes: Mapping[str, str]) -> None:
        self._hashes = dict(hashes)

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
        token = _bearer(details.invocation_metadata)
        identity = credentials.identify(self._hashes, token) if token else None

        async def check(context: grpc.aio.ServicerContext[Any, Any]) -> str:
            if identity is None:
                problem = ("the bearer token is not valid" if token else
                           "missing credential: send 'authorization: Bearer <token>'")
                await abort(context, GatewayError(grpc.StatusCode.UNAUTHENTICATED,
                                                  "UNAUTHENTICATED", problem))
            return identity

        if handler.unary_unary is not None:
            unary = handler.unary_unary

            async def authenticated(request: Any, context: grpc.aio.ServicerContext[Any, Any]
                                    ) -> Any:
                reset = _CALLER.set(await check(context))
                try:
                    return await unary(request, context)  # type: ignore[arg-type]
                finally:
                    _CALLER.reset(reset)

            return grpc.unary_unary_rpc_method_handler(
                authenticated, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream is not None:
            streaming = handler.unary_stream

            async def authenticated_stream(request: Any,
                                           context: grpc.aio.ServicerContext[Any, Any]
                                           ) -> AsyncIterator[Any]:
                reset = _CALLER.set(await check(context))
                try:
                    async for reply in streaming(request, context):  # type: ignore[arg-type,attr-defined]
                        yield reply
                finally:
                    _CALLER.reset(reset)

            return grpc.unary_stream_rpc_method_handler(
                authenticated_stream, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        # No other kind of call exists on the gateway; refuse rather than serve unchecked.
        raise RuntimeError(f"{method}: the gateway authenticates unary and server-streaming "
                           "calls only")
