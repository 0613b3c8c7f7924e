"""gRPC errors with a google.rpc.ErrorInfo a program can branch on.

Aborting with the code, message and the status details in trailing metadata (rather
than `abort_with_status`) keeps the status code right on tracing spans.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

DOMAIN = "seamless.v1"
Context = grpc.aio.ServicerContext[Any, Any]
logger = logging.getLogger(__name__)


class GatewayError(Exception):
    """A request the gateway answers with `code`; `reason` is the stable ErrorInfo reason."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str,
                 metadata: Mapping[str, str] | None = None, *,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        # Seconds to wait before trying again (google.rpc.RetryInfo), when it is known.
        self.retry_after = retry_after
        if retry_after is not None:
            self.metadata["retry_after_seconds"] = f"{retry_after:.1f}"


def invalid(field: str, problem: str, reason: str = "INVALID_FIELD") -> GatewayError:
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, reason, f"{field}: {problem}",
                        {"field": field})


def internal(err: BaseException, where: str) -> GatewayError:
    """What a caller is told of a failure nobody foresaw: nothing of its insides, only a
    correlation id, which the log line with the whole traceback carries too."""
    correlation = uuid.uuid4().hex[:16]
    logger.error("internal error %s in %s", correlation, where, exc_info=err)
    return GatewayError(grpc.StatusCode.INTERNAL, "INTERNAL",
                        f"the gateway failed to answer; quote {correlation} to the "
                        "platform's operators", {"correlation_id": correlation})


def status_details(code: grpc.StatusCode, reason: str, message: str,
                   metadata: Mapping[str, str], retry_after: float | None = None) -> bytes:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=dict(metadata))
    details = [any_pb2.Any()]
    details[0].Pack(info)
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(max(1, round(retry_after * 1000)))
        details.append(any_pb2.Any())
        details[1].Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    serialized: bytes = status.SerializeToString()
    return serialized


async def abort(context: Context, error: GatewayError) -> NoReturn:
    await context.abort(error.code, error.message, trailing_metadata=(
        ("grpc-status-details-bin",
         status_details(error.code, error.reason, error.message, error.metadata,
                        error.retry_after)),))
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
