"""Driving Seamless as its users do: the lead's officer calls the gateway with its own
session, officers act on their inbox at their own agency's desk (which signs the act
and forwards it to the gateway), all over TLS as the CLI does.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import grpc

from bench.inbox_watch import InboxWatch
from cli import datadir
from cli.datadir import Endpoints
from cli.sessions import Credential
from records.participation import role_of
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_pb2, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from trust.pki import Role
from trust.tls import expecting, server_only_channel

CASE_TYPE = "citizen-hotline"
JURISDICTION = "jinhaihu"
LEAD = "jinhaihu-township"
CALL_TIMEOUT_SECONDS = 60.0


def request_id() -> str:
    return uuid.uuid4().hex


class SeamlessApi:
    """The `CaseApi` of a running platform, found through its data directory."""

    def __init__(self, data_dir: Path, watch: InboxWatch) -> None:
        endpoints = Endpoints.read(data_dir)
        self._watch = watch
        tls = server_only_channel(datadir.pki(data_dir).authority.read_bytes())
        self._gateway_channel = grpc.aio.secure_channel(endpoints.gateway, tls,
                                                        options=expecting(Role.GATEWAY))
        self._gateway = case_service_pb2_grpc.CaseServiceStub(self._gateway_channel)  # type: ignore[no-untyped-call]
        # Each agency's duty officer, signed in once (a shift's session outlasts a run).
        self._sessions = {agency: (("authorization",
                                    f"Bearer {Credential(data_dir, agency).token()}"),)
                          for agency in endpoints.desks}
        self._lead = self._sessions[LEAD]
        self._desk_channels = {
            agency: grpc.aio.secure_channel(address, tls,
                                            options=expecting(role_of(agency), agency))
            for agency, address in endpoints.desks.items()}
        self._desks = {agency: agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
                       for agency, channel in self._desk_channels.items()}

    @staticmethod
    def inboxes(data_dir: Path) -> dict[str, Path]:
        """Where each agency's inbox database is, as `seamless up` lays them out."""
        return {agency: data_dir / "agencies" / agency / "agency.db"
                for agency in Endpoints.read(data_dir).agencies}

    async def aclose(self) -> None:
        for channel in [self._gateway_channel, *self._desk_channels.values()]:
            await channel.close(grace=None)

    async def _as_lead(self, method: str, request: Any) -> Any:
        return await self.call(LEAD, method, request)

    async def call(self, agency: str, method: str, request: Any) -> Any:
        """A CaseService call by `agency`'s duty officer, with its own session."""
        return await getattr(self._gateway, method)(request, metadata=self._sessions[agency],
                                                    timeout=CALL_TIMEOUT_SECONDS)

    async def open(self, subject: str) -> str:
        reply = await self._as_lead("OpenCase", pb.OpenCaseRequest(
            request_id=request_id(), type=CASE_TYPE, subject_key=subject,
            title="Restaurant fumes and stalls troubling residents", jurisdiction=JURISDICTION,
            location="Jinhaihu, Pinggu"))
        return str(reply.case.id)

    async def dispatch(self, case_id: str, kind: str, assignee: str) -> str:
        return str((await self.dispatch_task(case_id, kind, assignee)).id)

    async def dispatch_task(self, case_id: str, kind: str, assignee: str,
                            **clocks: str) -> case_pb2.Task:
        """Dispatch with clock overrides ("sign_within": "90s", ...); the task as created."""
        request = pb.DispatchTaskRequest(request_id=request_id(), case_id=case_id, kind=kind,
                                         assignee=assignee)
        for field, duration in clocks.items():
            setattr(request, field, duration)
        reply = await self._as_lead("DispatchTask", request)
        task: case_pb2.Task = next(t for t in reply.case.tasks if t.id == reply.task_id)
        return task

    async def in_inbox(self, case_id: str, task_id: str, assignee: str) -> float:
        return await self._watch.arrival(assignee, case_id, task_id)

    async def act(self, assignee: str, case_id: str, task_id: str, action: int,
                  **fields: Any) -> None:
        """An officer's act on a task, at its own agency's desk."""
        await self._act(assignee, case_id, task_id, action, **fields)

    async def _act(self, assignee: str, case_id: str, task_id: str, action: int,
                   **fields: Any) -> None:
        await self._desks[assignee].ActOnTask(agency_pb2.ActOnTaskRequest(
            request_id=request_id(), case_id=case_id, task_id=task_id, action=action,  # type: ignore[arg-type]
            **fields), metadata=self._sessions[assignee], timeout=CALL_TIMEOUT_SECONDS)

    async def sign(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._act(assignee, case_id, task_id, agency_pb2.TASK_ACTION_SIGN)

    async def complete(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._act(assignee, case_id, task_id, agency_pb2.TASK_ACTION_COMPLETE,
                        findings="visited, owner warned, fixed within the week",
                        evidence_refs=[f"{assignee}/evidence/{task_id}"])

    async def close(self, case_id: str) -> None:
        await self._as_lead("CloseCase", pb.CloseCaseRequest(
            request_id=request_id(), case_id=case_id, summary="resolved; caller satisfied"))
