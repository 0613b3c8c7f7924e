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
        common = {"request_id": request.request_id, "case_id": request.case_id,
                  "task_id": request.task_id, "officer_id": officer}
        action = request.action
        call: Any
        message: Message
        if action == agency_pb2.TASK_ACTION_SIGN:
            call, message = self._stub.SignTask, pb.SignTaskRequest(**common)
        elif action == agency_pb2.TASK_ACTION_ARRIVE:
            call, message = self._stub.ArriveOnScene, pb.ArriveOnSceneRequest(**common)
        elif action == agency_pb2.TASK_ACTION_COMPLETE:
            call, message = self._stub.CompleteTask, pb.CompleteTaskRequest(
                **common, findings=request.findings, evidence_refs=request.evidence_refs)
        elif action == agency_pb2.TASK_ACTION_DECLINE:
            call, message = self._stub.DeclineTask, pb.DeclineTaskRequest(
                **common, reason=request.reason, suggested_agency=request.suggested_agency)
        else:
            raise ValueError(f"action: {action} is not SIGN, ARRIVE, COMPLETE or DECLINE")
        reply: pb.SignTaskResponse = await call(
            message, metadata=((ACT_HEADER, signed_act),), timeout=CALL_TIMEOUT_SECONDS)
        return reply
