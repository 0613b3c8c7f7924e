"""Calling the gateway and an agency's desk as a signed-in officer.

Both are TLS, checked against the platform authority's certificate; each call carries
the officer's session (`cli.sessions`). A session the gateway no longer accepts is
renewed once, where the CLI signed it in itself (a demo platform's duty officer).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from cli import datadir
from cli.datadir import Endpoints
from cli.sessions import Credential, desk_channel
from gateway.errors import error_info
from seamless.v1 import (
    agency_pb2,
    agency_pb2_grpc,
    case_service_pb2_grpc,
    notify_pb2_grpc,
    oversight_pb2_grpc,
    report_pb2_grpc,
    roster_pb2_grpc,
)
from trust.pki import Role
from trust.tls import expecting, server_only_channel

CALL_TIMEOUT_SECONDS = 30.0
OVERSIGHT_TIMEOUT_SECONDS = 300.0
T = TypeVar("T")


class CallFailed(Exception):
    """A gateway call failed; carries what the person needs to see."""

    def __init__(self, status: str, message: str, reason: str = "",
                 metadata: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.reason = reason
        self.metadata = metadata or {}


def new_request_id() -> str:
    return f"cli-{uuid.uuid4()}"


class _Signed:
    """Calls made with a credential, renewed and retried once when refused."""

    def __init__(self, credential: Credential) -> None:
        self.credential = credential

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.credential.token()}"),)

    def _signed(self, call: Callable[[tuple[tuple[str, str], ...]], T]) -> T:
        try:
            return call(self._metadata())
        except grpc.RpcError as err:
            if err.code() is not grpc.StatusCode.UNAUTHENTICATED or \
                    not self.credential.renew():
                raise _failed(err) from None
        try:
            return call(self._metadata())
        except grpc.RpcError as err:
            raise _failed(err) from None


class Gateway(_Signed):
    def __init__(self, data_dir: Path, identity: str) -> None:
        super().__init__(Credential(data_dir, identity))
        endpoints = Endpoints.read(data_dir)
        authority = datadir.pki(data_dir).authority.read_bytes()
        self._channel = grpc.secure_channel(endpoints.gateway,
                                            server_only_channel(authority),
                                            options=expecting(Role.GATEWAY))
        self._stub = case_service_pb2_grpc.CaseServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._oversight = oversight_pb2_grpc.OversightServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._reports = report_pb2_grpc.ReportServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.identity = identity

    def call(self, method: str, request: Message) -> Any:
        return self._signed(lambda metadata: getattr(self._stub, method)(
            request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS))

    def reports(self, method: str, request: Message) -> Any:
        """A ReportService call (the hotline desk's reports)."""
        return self._signed(lambda metadata: getattr(self._reports, method)(
            request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS))

    def oversee(self, method: str, request: Message) -> Any:
        """An OversightService call (analysis over the whole ledger: a longer timeout)."""
        return self._signed(lambda metadata: getattr(self._oversight, method)(
            request, metadata=metadata, timeout=OVERSIGHT_TIMEOUT_SECONDS))

    def export(self, request: Message) -> Iterator[bytes]:
        try:
            for chunk in self._oversight.ExportEventLog(
                    request, metadata=self._metadata(), timeout=OVERSIGHT_TIMEOUT_SECONDS):
                yield chunk.data
        except grpc.RpcError as err:
            raise _failed(err) from None

    def close(self) -> None:
        self._channel.close()


def _failed(err: grpc.RpcError) -> CallFailed:
    code: grpc.StatusCode = err.code()
    message: str = err.details() or ""
    if code is grpc.StatusCode.UNAVAILABLE and not message.strip():
        message = "the gateway is not answering; is the platform up ('seamless status')?"
    info = error_info(err)
    if info is None:
        return CallFailed(code.name, message)
    return CallFailed(code.name, message, info.reason, dict(info.metadata))


class AgencyDesk(_Signed):
    """An officer at the agency's own desk: acts on its inbox go through it (the agency
    signs each and forwards it to the gateway), and its heads keep the roster there."""

    def __init__(self, data_dir: Path, agency: str,
                 credential: Credential | None = None) -> None:
        super().__init__(credential or Credential(data_dir, agency))
        self._channel = desk_channel(data_dir, agency)
        self._stub = agency_pb2_grpc.AgencyServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.roster = roster_pb2_grpc.RosterServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.notify = notify_pb2_grpc.NotificationServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def act(self, request: agency_pb2.ActOnTaskRequest) -> agency_pb2.ActOnTaskResponse:
        reply: agency_pb2.ActOnTaskResponse = self._signed(lambda metadata: self._stub.ActOnTask(
            request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS))
        return reply

    def keep_roster(self, method: str, request: Message) -> Any:
        """A RosterService call as the signed-in officer."""
        return self._signed(lambda metadata: getattr(self.roster, method)(
            request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS))

    def keep_notifications(self, method: str, request: Message) -> Any:
        """A NotificationService call as the signed-in officer."""
        return self._signed(lambda metadata: getattr(self.notify, method)(
            request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS))

    def close(self) -> None:
        self._channel.close()
