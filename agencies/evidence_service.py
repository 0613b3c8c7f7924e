"""The agency service's evidence calls (agencies.evidence keeps the bytes, evidence_log
the rows): an officer's upload relayed by the gateway, a fetch for a viewer the gateway
has found may see the file, the case's files and their custody log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from sqlmodel import Session

from agencies import evidence, evidence_log, inbox
from agencies.access import caller
from agencies.evidence import EvidenceRefused, EvidenceStore, Tampered
from agencies.models import CustodyEntry, EvidenceFile
from seamless.v1 import agency_pb2
from workflows.rules import limits

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


_stamp = inbox.stamp  # one rule for a stored time as a proto's


def file_to_proto(row: EvidenceFile, holder: str) -> agency_pb2.EvidenceFile:
    return agency_pb2.EvidenceFile(
        sha256=row.sha256, size=row.size, media_type=row.media_type, name=row.name,
        case_id=row.case_id, task_id=row.task_id, holder=holder,
        uploaded_by=row.uploaded_by, uploaded_at=_stamp(row.uploaded_at),
        taken_at=_stamp(row.taken_at), located=row.lat is not None,
        lat=row.lat or 0.0, lon=row.lon or 0.0)


def custody_to_proto(row: CustodyEntry) -> agency_pb2.CustodyEntry:
    return agency_pb2.CustodyEntry(sha256=row.sha256, task_id=row.task_id, agency=row.agency,
                                   officer=row.officer, at=_stamp(row.at), served=row.served,
                                   thumbnail=row.thumbnail)


class EvidenceDesk:
    """Mixed into AgencyService: what it needs of it are these three."""

    _evidence: EvidenceStore | None

    @property
    def agency(self) -> str:
        raise NotImplementedError

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        raise NotImplementedError

    async def _store(self, context: Context) -> EvidenceStore:
        if self._evidence is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"{self.agency} keeps no evidence store on this platform")
        assert self._evidence is not None
        return self._evidence

    async def StoreEvidence(self, request_iterator: AsyncIterator[
                                agency_pb2.StoreEvidenceRequest],
                            context: Context) -> agency_pb2.StoreEvidenceResponse:
        officer = caller().officer
        store = await self._store(context)
        first = await anext(request_iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "the first message names the file (header), then its chunks")
        assert first is not None
        header = first.header
        for name, value, bound in (("case_id", header.case_id, limits.MAX_CASE_ID),
                                   ("task_id", header.task_id, 64),
                                   ("name", header.name, evidence.MAX_NAME)):
            if len(value) > bound or (name != "name" and not value):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                    f"{name}: required, at most {bound} characters")
        agency = self.agency

        def admitted(session: Session) -> str:
            if not evidence_log.task_held(session, agency=agency, case_id=header.case_id,
                                          task_id=header.task_id):
                return (f"task {header.task_id} of case {header.case_id} is not in the "
                        f"inbox of {agency}, or no longer yours to work on")
            if evidence_log.files_of_task(session, case_id=header.case_id,
                                          task_id=header.task_id) \
                    >= evidence.MAX_FILES_PER_TASK:
                return (f"task {header.task_id} holds {evidence.MAX_FILES_PER_TASK} files, "
                        "as many as a task takes")
            return ""
        refusal = await self._in_session(admitted)
        if refusal:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, refusal)
        incoming = store.incoming()
        try:
            async for message in request_iterator:
                if message.WhichOneof("part") != "chunk" or \
                        len(message.chunk) > evidence.CHUNK_BYTES:
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                        "after the header, chunks of at most 64 KiB only")
                incoming.write(message.chunk)
            received = await asyncio.to_thread(incoming.finish)
        except EvidenceRefused as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        finally:
            incoming.discard()
        facts = await asyncio.to_thread(evidence.photo_facts, received.path,
                                        received.media_type)
        row = EvidenceFile(sha256=received.sha256, case_id=header.case_id,
                           task_id=header.task_id, name=header.name,
                           media_type=received.media_type, size=received.size,
                           uploaded_by=officer, uploaded_at=datetime.now(UTC),
                           taken_at=facts.taken_at, lat=facts.lat, lon=facts.lon)
        stored, created = await self._in_session(
            lambda session: evidence_log.record_file(session, row))
        return agency_pb2.StoreEvidenceResponse(file=file_to_proto(stored, agency),
                                                created=created)

    async def FetchEvidence(self, request: agency_pb2.FetchEvidenceRequest, context: Context
                            ) -> AsyncIterator[agency_pb2.FetchEvidenceResponse]:
        store = await self._store(context)
        row = await self._in_session(lambda session: evidence_log.file_of(
            session, case_id=request.case_id[:limits.MAX_CASE_ID],
            sha256=request.sha256[:64]))
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"{self.agency} holds no such file for that case")
        assert row is not None

        def fetched(served: bool) -> Callable[[Session], None]:
            return lambda session: evidence_log.record_fetch(
                session, file=row, agency=request.viewer_agency[:64],
                officer=request.viewer_officer[:64], served=served,
                thumbnail=request.thumbnail)
        try:
            stored = await asyncio.to_thread(store.open_verified, row.sha256)
        except Tampered as err:
            await self._in_session(fetched(False))
            await context.abort(grpc.StatusCode.DATA_LOSS,
                                f"{err}: it is not served; the holder keeps the refusal on "
                                "record")
        await self._in_session(fetched(True))
        holder = self.agency
        with stored:
            yield agency_pb2.FetchEvidenceResponse(file=file_to_proto(row, holder))
            if request.thumbnail:
                small = await asyncio.to_thread(evidence.thumbnail_of, stored, row.media_type)
                if small is None:
                    await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                        "only photos have a small copy")
                assert small is not None
                for start in range(0, len(small), evidence.CHUNK_BYTES):
                    yield agency_pb2.FetchEvidenceResponse(
                        chunk=small[start:start + evidence.CHUNK_BYTES])
                return
            while chunk := await asyncio.to_thread(stored.read, evidence.CHUNK_BYTES):
                yield agency_pb2.FetchEvidenceResponse(chunk=chunk)

    async def ListEvidence(self, request: agency_pb2.ListEvidenceRequest, context: Context
                           ) -> agency_pb2.ListEvidenceResponse:
        rows = await self._in_session(lambda session: evidence_log.files_of_case(
            session, request.case_id[:limits.MAX_CASE_ID]))
        return agency_pb2.ListEvidenceResponse(
            files=[file_to_proto(r, self.agency) for r in rows])

    async def ListCustody(self, request: agency_pb2.ListCustodyRequest, context: Context
                          ) -> agency_pb2.ListCustodyResponse:
        rows = await self._in_session(lambda session: evidence_log.custody_of(
            session, request.case_id[:limits.MAX_CASE_ID]))
        return agency_pb2.ListCustodyResponse(entries=[custody_to_proto(r) for r in rows])
