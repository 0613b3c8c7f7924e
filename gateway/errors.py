"""gRPC errors with a google.rpc.ErrorInfo a program can branch on.

Aborting with the code, message and the status details in trailing metadata (rather
than `abort_with_status`) keeps the status code right on tracing spans.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

DOMAIN = "seamless.v1"
Context = grpc.aio.ServicerContext[Any, Any]


class GatewayError(Exception):
    """A request the gateway answers with `code`; `reason` is the stable ErrorInfo reason."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})


def invalid(field: str, problem: str, reason: str = "INVALID_FIELD") -> GatewayError:
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, reason, f"{field}: {problem}",
                        {"field": field})


def status_details(code: grpc.StatusCode, reason: str, message: str,
                   metadata: Mapping[str, str]) -> bytes:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=dict(metadata))
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    serialized: bytes = status.SerializeToString()
    return serialized


async def abort(context: Context, error: GatewayError) -> NoReturn:
    await context.abort(error.code, error.message, trailing_metadata=(
        ("grpc-status-details-bin",
         status_details(error.code, error.reason, error.message, error.metadata)),))
    raise AssertionError("unreachable: abort raises")  # for type checkers


def error_info(err: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo in a failed call's trailing metadata (for clients and tests)."""
    metadata: tuple[Any, ...] = tuple(err.trailing_metadata() or ())
    for key, value in metadata:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    return None
