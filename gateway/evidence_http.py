"""The evidence door (`/evidence/…`): officers attach files to their tasks, those who may
see a file fetch it, oversight reads who fetched what.

The gateway holds no file. An upload streams through to the uploader's own agency
(with the officer's session: the agency checks the task is in its inbox), which keeps it
under its digest; the answer carries the reference (`evidence:<holder>/<sha256>`) the
officer's completion names, inside the act their agency signs. A download streams from
the holding agency, which hashes the file again before serving it and logs the fetch.

Who sees a file's content (records.need_to_know, for evidence): the holding agency, the
case's lead, the coordinator and oversight. Another agency in the case sees that the
evidence exists (its task, type, size, digest), not its content; an agency outside the
case gets "not found", as for a case it may not see.

Signed in by the console's session cookie (an upload then also carries the page's CSRF
token in `X-CSRF-Token`) or by `Authorization: Bearer <session>` (the CLI, programs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import grpc
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agencies.evidence import CHUNK_BYTES, MAX_NAME, PHOTOS
from gateway.agency_links import AgencyLinks
from gateway.auth import Authenticator
from gateway.callers import Caller, CallerKind
from gateway.case_refs import CaseRefs
from gateway.console.web import SESSION_COOKIE, Keys
from gateway.errors import GatewayError
from gateway.evidence_refs import evidence_ref, parse_ref
from observability import projection
from records.participation import OVERSIGHT
from seamless.v1 import agency_pb2
from trust.sessions import OfficerRole

PREFIX = "/evidence"
# The body an upload may send: the agency's bound per file, and a little over (the agency
# answers a file over its bound in its own words; this cuts off a body that lies).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024 + CHUNK_BYTES
# What a served file may do in a browser: nothing (no script, no plugin, no form).
_SERVED_HEADERS = {"content-security-policy": "sandbox; default-src 'none'",
                   "x-content-type-options": "nosniff", "cache-control": "private, no-store",
                   "referrer-policy": "no-referrer"}
_HTTP_OF = {grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.FAILED_PRECONDITION: 409,
            grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.PERMISSION_DENIED: 403,
            grpc.StatusCode.UNAUTHENTICATED: 401, grpc.StatusCode.DATA_LOSS: 409,
            grpc.StatusCode.RESOURCE_EXHAUSTED: 429}


def _refused(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"reason": reason, "message": message}}, status_code=status)


class EvidenceDoor:
    def __init__(self, *, authenticator: Authenticator, links: AgencyLinks, refs: CaseRefs,
                 ledger: Engine, coordinator: str, keys: Keys) -> None:
        self._authenticator = authenticator
        self._links = links
        self._refs = refs
        self._ledger = ledger
        self._coordinator = coordinator
        self._keys = keys

    # ----- who is asking, about which case ---------------------------------------------

    async def _caller(self, request: Request, *, changes: bool) -> Caller:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not token:
            token = request.cookies.get(SESSION_COOKIE, "")
            # A cookie goes with every request a browser makes, whoever started it: an
            # upload by cookie must carry the token of a page this console rendered.
            if changes and token and not self._keys.csrf_ok(
                    token, request.headers.get("x-csrf-token", "")):
                raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "CSRF",
                                   "the upload did not come from this console's page; reload "
                                   "it and try again")
        return await self._authenticator.officer_of(token)

    async def _row(self, case_id: str) -> projection.CaseRow | None:
        def row() -> projection.CaseRow | None:
            with self._ledger.connect() as connection:
                return projection.cases_by_id(connection, [case_id]).get(case_id)
        return await asyncio.to_thread(row)

    async def _case(self, reference: str) -> tuple[str, projection.CaseRow]:
        case_id = await self._refs.live(reference[:400])
        found = await self._row(case_id)
        if found is None:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND",
                               f"there is no case {reference[:64]}")
        return case_id, found

    async def _parties(self, case_id: str) -> list[str]:
        def read() -> list[str]:
            with self._ledger.connect() as connection:
                return projection.parties_of(connection, case_id)
        return await asyncio.to_thread(read)

    def _sees_every_file(self, viewer: Caller, case: projection.CaseRow) -> bool:
        return viewer.kind is CallerKind.OVERSIGHT or viewer.agency in (
            case.owner, self._coordinator)

    # ----- the routes ------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        """POST /evidence/<case>/<task>?name=…: the body is the file."""
        caller = await self._caller(request, changes=True)
        if caller.kind is not CallerKind.OFFICER or OfficerRole.OFFICER not in caller.roles:
            raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED",
                               "attaching evidence takes the officer role")
        case_id, _case = await self._case(request.path_params["case"])
        if caller.agency not in await self._parties(case_id):
            # Worded as for a wrong number: a stranger learns nothing of the case.
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND",
                               f"there is no case {request.path_params['case'][:64]}")
        header = agency_pb2.EvidenceHeader(
            case_id=case_id, task_id=request.path_params["task"][:64],
            name=request.query_params.get("name", "")[:MAX_NAME])

        async def parts() -> AsyncIterator[agency_pb2.StoreEvidenceRequest]:
            yield agency_pb2.StoreEvidenceRequest(header=header)
            pending = b""
            async for body in request.stream():
                pending += body
                while len(pending) >= CHUNK_BYTES:
                    yield agency_pb2.StoreEvidenceRequest(chunk=pending[:CHUNK_BYTES])
                    pending = pending[CHUNK_BYTES:]
            if pending:
                yield agency_pb2.StoreEvidenceRequest(chunk=pending)
        answer = await self._links.store_evidence(caller.agency, caller.session, parts())
        return JSONResponse({**file_json(answer.file), "created": answer.created},
                            status_code=201 if answer.created else 200)

    async def files(self, request: Request) -> Response:
        """GET /evidence/<case>: the case's files the viewer may know of; the content (a
        link to it) only of those they may see."""
        viewer = await self._caller(request, changes=False)
        case_id, case = await self._case(request.path_params["case"])
        listed = await self.listing(viewer.agency, viewer.kind is CallerKind.OVERSIGHT,
                                    case_id, case)
        if listed is None:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND",
                               f"there is no case {request.path_params['case'][:64]}")
        return JSONResponse(listed)

    async def listing(self, viewer: str, oversight: bool, case_id: str,
                      case: projection.CaseRow | None = None) -> dict[str, Any] | None:
        """The case's files `viewer` may know of, with their content (a link to it) only
        where they may see it, and the holders that did not answer; None when the viewer
        takes no part in the case."""
        if case is None:
            case = await self._row(case_id)
            if case is None:
                return None
        parties = await self._parties(case_id)
        every = oversight or viewer in (case.owner, self._coordinator)
        if not every and viewer not in parties:
            return None
        holders = [p for p in parties if p != OVERSIGHT and self._links.has_service(p)]
        answers = await asyncio.gather(*(self._links.list_evidence(h, case_id)
                                         for h in holders), return_exceptions=True)
        shown: list[dict[str, Any]] = []
        unanswered = []
        for holder, answer in zip(holders, answers, strict=True):
            if isinstance(answer, BaseException):
                unanswered.append(holder)
                continue
            for file in answer.files:
                content = every or holder == viewer
                entry = file_json(file) if content else {
                    "sha256": file.sha256, "size": file.size, "media_type": file.media_type,
                    "task_id": file.task_id, "holder": holder}
                shown.append({**entry, "content": content})
        return {"files": shown, "unanswered": unanswered}

    async def download(self, request: Request) -> Response:
        """GET /evidence/<case>/<holder>/<sha256>[?thumbnail=1]: the file, as its holder
        serves it once it matched its digest."""
        viewer = await self._caller(request, changes=False)
        case_id, case = await self._case(request.path_params["case"])
        holder = request.path_params["holder"][:64]
        if not (self._sees_every_file(viewer, case) or viewer.agency == holder):
            parties = await self._parties(case_id)
            if viewer.agency not in parties:
                raise GatewayError(grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND",
                                   f"there is no case {request.path_params['case'][:64]}")
            raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "NOT_YOURS_TO_SEE",
                               "this evidence is seen by the agency that holds it, the case's "
                               "lead, the coordinator and oversight")
        thumbnail = request.query_params.get("thumbnail") == "1"
        stream = self._links.fetch_evidence(holder, agency_pb2.FetchEvidenceRequest(
            case_id=case_id, sha256=request.path_params["sha256"][:64],
            viewer_agency=viewer.agency, viewer_officer=viewer.officer,
            thumbnail=thumbnail))
        first = await anext(aiter(stream))  # its refusal, before any byte is sent
        file = first.file
        media_type = "image/jpeg" if thumbnail else file.media_type
        inline = thumbnail or file.media_type in PHOTOS
        disposition = (f"{'inline' if inline else 'attachment'}; "
                       f"filename*=UTF-8''{_quoted(file.name or file.sha256)}")

        async def body() -> AsyncIterator[bytes]:
            async for part in stream:
                yield part.chunk
        return StreamingResponse(body(), media_type=media_type, headers={
            **_SERVED_HEADERS, "content-disposition": disposition,
            **({} if thumbnail else {"content-length": str(file.size)}),
            "x-evidence-sha256": file.sha256})

    async def custody(self, request: Request) -> Response:
        """GET /evidence/<case>/custody: every fetch of the case's files, from each
        holder's log (oversight and the coordinator)."""
        viewer = await self._caller(request, changes=False)
        case_id, _case = await self._case(request.path_params["case"])
        if viewer.kind is not CallerKind.OVERSIGHT and viewer.agency != self._coordinator:
            raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "NOT_YOURS_TO_SEE",
                               "the custody log is oversight's and the coordinator's")
        holders = [p for p in await self._parties(case_id)
                   if p != OVERSIGHT and self._links.has_service(p)]
        answers = await asyncio.gather(*(self._links.list_custody(h, case_id)
                                         for h in holders), return_exceptions=True)
        entries = [{"holder": holder, "sha256": e.sha256, "task_id": e.task_id,
                    "agency": e.agency, "officer": e.officer, "served": e.served,
                    "thumbnail": e.thumbnail, "at": e.at.ToJsonString()}
                   for holder, answer in zip(holders, answers, strict=True)
                   if not isinstance(answer, BaseException) for e in answer.entries]
        entries.sort(key=lambda e: str(e["at"]))
        unanswered = [h for h, a in zip(holders, answers, strict=True)
                      if isinstance(a, BaseException)]
        return JSONResponse({"entries": entries, "unanswered": unanswered})


def file_json(file: agency_pb2.EvidenceFile) -> dict[str, Any]:
    return {"ref": evidence_ref(file.holder, file.sha256), "sha256": file.sha256,
            "size": file.size, "media_type": file.media_type, "name": file.name,
            "task_id": file.task_id, "holder": file.holder, "uploaded_by": file.uploaded_by,
            "uploaded_at": file.uploaded_at.ToJsonString(),
            "taken_at": file.taken_at.ToJsonString() if file.HasField("taken_at") else None,
            "location": [file.lat, file.lon] if file.located else None}


def _quoted(name: str) -> str:
    return quote(name, safe="")


def _answering(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """A refusal as JSON with its status: the gateway's own, or the agency's."""
    async def answer(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except GatewayError as err:
            status = 503 if err.code is grpc.StatusCode.UNAVAILABLE else _HTTP_OF.get(
                err.code, 500)
            return _refused(status, err.reason, err.message)
        except grpc.aio.AioRpcError as err:
            status = _HTTP_OF.get(err.code(), 503)
            reason = "EVIDENCE_TAMPERED" if err.code() is grpc.StatusCode.DATA_LOSS else \
                err.code().name
            return _refused(status, reason, err.details() or "the holding agency refused")
        except KeyError:
            return _refused(409, "NO_AGENCY_SERVICE",
                            "that agency keeps no service (nor evidence) on this platform")
    return answer


def evidence_app(door: EvidenceDoor) -> Starlette:
    return Starlette(routes=[
        Route(PREFIX + "/{case}/custody", _answering(door.custody), methods=["GET"]),
        Route(PREFIX + "/{case}/{holder}/{sha256}", _answering(door.download),
              methods=["GET"]),
        Route(PREFIX + "/{case}/{task}", _answering(door.upload), methods=["POST"]),
        Route(PREFIX + "/{case}", _answering(door.files), methods=["GET"]),
    ])


__all__ = ["MAX_UPLOAD_BYTES", "PREFIX", "EvidenceDoor", "evidence_app", "evidence_ref",
           "parse_ref"]
