"""Calling the gateway as an agency, with that agency's credential from the data dir."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message

from cli.datadir import Endpoints
from gateway.credentials import read_token
from gateway.errors import error_info
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_service_pb2_grpc, oversight_pb2_grpc

CALL_TIMEOUT_SECONDS = 30.0
OVERSIGHT_TIMEOUT_SECONDS = 300.0


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


class Gateway:
    def __init__(self, data_dir: Path, identity: str | None) -> None:
        endpoints = Endpoints.read(data_dir)
        self._channel = grpc.insecure_channel(endpoints.gateway)
        self._stub = case_service_pb2_grpc.CaseServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._oversight = oversight_pb2_grpc.OversightServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata: tuple[tuple[str, str], ...] = ()
        if identity:
            token = read_token(data_dir, identity)
            self._metadata = (("authorization", f"Bearer {token}"),)
        self.identity = identity or ""

    def call(self, method: str, request: Message) -> Any:
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata,
                                               timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as err:
            raise _failed(err) from None

    def oversee(self, method: str, request: Message) -> Any:
        """An OversightService call (analysis over the whole ledger: a longer timeout)."""
        try:
            return getattr(self._oversight, method)(request, metadata=self._metadata,
                                                    timeout=OVERSIGHT_TIMEOUT_SECONDS)
        except grpc.RpcError as err:
            raise _failed(err) from None

    def export(self, request: Message) -> Iterator[bytes]:
        try:
            for chunk in self._oversight.ExportEventLog(
                    request, metadata=self._metadata, timeout=OVERSIGHT_TIMEOUT_SECONDS):
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


class AgencyDesk:
    """An officer at the agency's own service: actions on its inbox go through it, and
    it forwards them to the gateway as the agency."""

    def __init__(self, data_dir: Path, agency: str) -> None:
        endpoints = Endpoints.read(data_dir)
        address = endpoints.agencies.get(agency)
        if address is None:
            raise SystemExit(f"no agency {agency!r} runs on this platform")
        self._channel = grpc.insecure_channel(address)
        self._stub = agency_pb2_grpc.AgencyServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def act(self, request: agency_pb2.ActOnTaskRequest) -> agency_pb2.ActOnTaskResponse:
        try:
            reply: agency_pb2.ActOnTaskResponse = self._stub.ActOnTask(
                request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as err:
            raise _failed(err) from None
        return reply

    def close(self) -> None:
        self._channel.close()
