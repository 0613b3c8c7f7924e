"""The agency's line to the gateway: its officers' acts go there, signed by the agency.

The line is mutual TLS with the agency's certificate, so the gateway knows which agency
forwards; each act travels with the agency's signature over it (`seamless-act`), which
the gateway checks against the request and the ledger keeps.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import Message

from observability import telemetry
from seamless.v1 import agency_pb2, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from trust.attestations import ACT_HEADER
from trust.pki import Identity, Role
from trust.tls import expecting, mutual_tls_channel
from workflows import command_table

CALL_TIMEOUT_SECONDS = 30.0


class GatewayLink:
    def __init__(self, address: str, identity: Identity) -> None:
        self._channel = grpc.aio.secure_channel(
            address, mutual_tls_channel(identity), options=expecting(Role.GATEWAY),
            interceptors=telemetry.grpc_client_interceptors())
        self._stub = case_service_pb2_grpc.CaseServiceStub(self._channel)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._channel.close(grace=None)

    async def forward(self, request: agency_pb2.ActOnTaskRequest, *, officer: str,
                      signed_act: str) -> pb.SignTaskResponse:
        """Send the officer's act on; raises grpc.aio.AioRpcError as the gateway
        answered. Every response carries the case after the act."""
        declared = command_table.BY_DESK_ACTION.get(request.action)
        if declared is None:
            raise ValueError(f"action: {request.action} is not one an agency forwards")
        message = forwarded_request(declared, request, officer=officer)
        call: Any = getattr(self._stub, declared.rpc)
        reply: pb.SignTaskResponse = await call(
            message, metadata=((ACT_HEADER, signed_act),), timeout=CALL_TIMEOUT_SECONDS)
        return reply


# What every forwarded act names, beside what it says (`Call.said`).
NAMING = ("request_id", "case_id", "task_id")


def forwarded_request(declared: command_table.Call, request: agency_pb2.ActOnTaskRequest,
                      *, officer: str) -> Message:
    """The gateway's request for the act `declared`: the case, the task and the request
    id, what the act says (the fields the agency's signature covers, and no other: a
    field the signature did not cover is not the agency's to vouch for), and the
    officer the agency signed it for."""
    message: Message = getattr(pb, f"{declared.rpc}Request")(officer_id=officer)
    for name in (*NAMING, *declared.said):
        value = getattr(request, name)
        if isinstance(value, str):
            setattr(message, name, value)
        else:
            getattr(message, name).extend(value)
    return message
