"""The agency's gRPC server: AgencyService and RosterService over its own database, plus
health and reflection, so any gRPC tool can see it is up and what it serves.

It listens twice: on its mutual-TLS port for the platform's parties (the worker's
deliveries, the gateway's session checks and inbox relays) and on its officers' desk
(server TLS) where officers sign in and act on the inbox. Who may call what is one table
(`agencies.access`), checked before any handler runs.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from agencies import inbox, outbox, roster
from agencies.access import AgencyAccess, caller
from agencies.evidence import EvidenceStore
from agencies.evidence_service import EvidenceDesk
from agencies.gateway_link import GatewayLink
from agencies.models import Finding, InboxItem, InboxItemBase, NoticeRecord
from agencies.notify_service import NotificationDesk
from agencies.roster_service import RosterService
from agencies.sender import MailServer, Sender
from observability import telemetry
from records import database
from seamless.v1 import (
    agency_pb2,
    agency_pb2_grpc,
    case_pb2,
    notify_pb2,
    notify_pb2_grpc,
    roster_pb2,
    roster_pb2_grpc,
)
from trust import attestations, tls
from trust.pki import CertificateStore, Identity
from trust.statements import Signer
from workflows import command_table
from workflows.rules import limits

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
SERVICE_NAME = agency_pb2.DESCRIPTOR.services_by_name["AgencyService"].full_name
ROSTER_SERVICE_NAME = roster_pb2.DESCRIPTOR.services_by_name["RosterService"].full_name
NOTIFY_SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name


def _optional_time(stamp: Timestamp) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def _time(stamp: Timestamp, field: str) -> datetime:
    value = _optional_time(stamp)
    if value is None:
        raise ValueError(f"item.{field} is required")
    return value


_stamp = inbox.stamp


def item_to_proto(row: InboxItem) -> agency_pb2.InboxItem:
    return agency_pb2.InboxItem(
        case_id=row.case_id, case_number=row.case_number, task_id=row.task_id,
        round=row.round, case_type=row.case_type,
        case_title=row.case_title, owner=row.owner, kind=row.kind, title=row.title,
        instructions=row.instructions, sign_by=_stamp(row.sign_by),
        on_scene_by=_stamp(row.on_scene_by), due_by=_stamp(row.due_by),
        state=(agency_pb2.INBOX_ITEM_STATE_WITHDRAWN if row.withdrawn
               else agency_pb2.INBOX_ITEM_STATE_OPEN),
        delivered_at=_stamp(row.delivered_at), withdraw_reason=row.withdraw_reason,
        task_state=case_pb2.TaskState.Value(f"TASK_STATE_{row.task_state}"),  # type: ignore[arg-type]
    )


def notice_to_proto(row: NoticeRecord) -> agency_pb2.Notice:
    return agency_pb2.Notice(
        case_id=row.case_id, case_number=row.case_number,
        kind=case_pb2.NoticeKind.Value(row.kind),  # type: ignore[arg-type]
        text=row.text, task_id=row.task_id, handoff_id=row.handoff_id,
        received_at=_stamp(row.received_at), phrase=row.phrase)


async def _paging(request: agency_pb2.ListInboxRequest
                  | agency_pb2.AgencyServiceListNoticesRequest, context: Context
                  ) -> tuple[int, int | None]:
    """A list request's page size and the row id it continues after."""
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                            f"page_size must be between 0 and {MAX_PAGE_SIZE}")
    try:
        after_id = _after_id(request.page_token)
    except ValueError as err:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
    return request.page_size or DEFAULT_PAGE_SIZE, after_id


def _page_token(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"inbox:{last_id}".encode()).decode()


def _after_id(token: str) -> int | None:
    if not token:
        return None
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == "inbox" and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ValueError("page_token is not one this service issued; start without it")


def _problems(err: ValidationError) -> str:
    return "; ".join(f"item.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                     for e in err.errors())


class AgencyService(EvidenceDesk, agency_pb2_grpc.AgencyServiceServicer):
    def __init__(self, profile: agency_pb2.Agency, engine: Engine, signer: Signer,
                 gateway: GatewayLink | None = None,
                 evidence: EvidenceStore | None = None, sender: Sender | None = None) -> None:
        self._profile = profile
        self._engine = engine
        self._signer = signer
        self._gateway = gateway
        self._evidence = evidence
        self._sender = sender

    def _enqueue(self, session: Session, source: str, body: dict[str, Any]) -> None:
        """The outbox's entries for a new task or notice, in its transaction."""
        if self._sender is not None:
            outbox.enqueue(session, agency=self.agency, source=source, body=body,
                           now=datetime.now(UTC))

    @property
    def agency(self) -> str:
        return self._profile.id

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        """Database work runs off the event loop, one session per request."""
        def run() -> T:
            with Session(self._engine) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def DeliverTask(self, request: agency_pb2.DeliverTaskRequest,
                          context: Context) -> agency_pb2.DeliverTaskResponse:
        if not request.idempotency_key or \
                len(request.idempotency_key) > limits.MAX_DELIVERY_KEY:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"idempotency_key is required (at most "
                                f"{limits.MAX_DELIVERY_KEY} characters)")
        item = request.item
        try:
            base = InboxItemBase(
                assignee=request.assignee, case_id=item.case_id,
                case_number=item.case_number, task_id=item.task_id,
                round=item.round, case_type=item.case_type, case_title=item.case_title,
                owner=item.owner, kind=item.kind, title=item.title,
                instructions=item.instructions,
                sign_by=_time(item.sign_by, "sign_by"), due_by=_time(item.due_by, "due_by"),
                on_scene_by=_optional_time(item.on_scene_by))
            if not (base.case_id and base.task_id):
                raise ValueError("item.case_id and item.task_id are required")
        except ValidationError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _problems(err))
        except ValueError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        try:
            row, created = await self._in_session(lambda session: inbox.deliver_task(
                session=session, agency=self.agency, assignee=request.assignee,
                idempotency_key=request.idempotency_key, item=base,
                on_new=lambda s, new: self._enqueue(s, new.idempotency_key,
                                                    outbox.task_body(new))))
        except inbox.WrongAgency as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        if created and self._sender is not None:
            self._sender.wake()
        receipt = attestations.task_receipt(
            self._signer, case_id=row.case_id, task_id=row.task_id, round=row.round,
            delivery=row.idempotency_key, received_at=inbox.as_utc(row.delivered_at))
        return agency_pb2.DeliverTaskResponse(item=item_to_proto(row), created=created,
                                              receipt=receipt)

    async def WithdrawTask(self, request: agency_pb2.WithdrawTaskRequest,
                           context: Context
                           ) -> agency_pb2.WithdrawTaskResponse:
        if not (request.case_id and request.task_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "case_id and task_id are required")
        try:
            row = await self._in_session(lambda session: inbox.withdraw_task(
                session=session, agency=self.agency, assignee=request.assignee,
                case_id=request.case_id, task_id=request.task_id,
                reason=request.reason[:1000]))
        except inbox.WrongAgency as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"task {request.task_id} of {request.case_id} is not in the "
                                f"inbox of {self.agency}")
        return agency_pb2.WithdrawTaskResponse(item=item_to_proto(row))

    async def ReceiveNotice(self, request: agency_pb2.ReceiveNoticeRequest,
                            context: Context
                            ) -> agency_pb2.ReceiveNoticeResponse:
        if not request.idempotency_key or not request.case_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "idempotency_key and case_id are required")
        if request.kind not in case_pb2.NoticeKind.values() or not request.kind:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"kind: {request.kind} is not a notice kind")
        try:
            notice = NoticeRecord.model_validate(dict(
                recipient=request.recipient, idempotency_key=request.idempotency_key,
                case_id=request.case_id, case_number=request.case_number,
                kind=case_pb2.NoticeKind.Name(request.kind),
                text=request.text, task_id=request.task_id, handoff_id=request.handoff_id,
                phrase=request.phrase))
        except ValidationError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _problems(err))
        try:
            stored, created = await self._in_session(lambda session: inbox.record_notice(
                session=session, agency=self.agency, recipient=request.recipient,
                notice=notice, on_new=lambda s, new: self._enqueue(
                    s, new.idempotency_key, outbox.notice_body(new))))
        except inbox.WrongAgency as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        if created and self._sender is not None:
            self._sender.wake()
        receipt = attestations.notice_receipt(
            self._signer, case_id=stored.case_id, notice=stored.idempotency_key,
            kind=stored.kind.removeprefix("NOTICE_KIND_"),
            received_at=inbox.as_utc(stored.received_at))
        return agency_pb2.ReceiveNoticeResponse(created=created, receipt=receipt)

    async def ListInbox(self, request: agency_pb2.ListInboxRequest,
                        context: Context) -> agency_pb2.ListInboxResponse:
        limit, after_id = await _paging(request, context)
        rows = await self._in_session(lambda session: inbox.list_inbox(
            session=session, agency=self.agency, limit=limit + 1, after_id=after_id,
            open_only=request.open_only))
        page, more = rows[:limit], len(rows) > limit
        last_id = page[-1].id if page else None
        return agency_pb2.ListInboxResponse(
            items=[item_to_proto(r) for r in page],
            next_page_token=_page_token(last_id) if more and last_id is not None else "")

    async def ListNotices(self, request: agency_pb2.AgencyServiceListNoticesRequest,
                          context: Context) -> agency_pb2.AgencyServiceListNoticesResponse:
        limit, after_id = await _paging(request, context)
        officer = caller().session
        assert officer is not None  # the access table asks for a signed-in officer
        notices = await self._in_session(lambda session: inbox.list_notices(
            session=session, agency=self.agency, officer=officer.officer, limit=limit + 1,
            after_id=after_id, mark_read=request.mark_read))
        page, more = notices.rows[:limit], len(notices.rows) > limit
        last_id = page[-1].id if page else None
        shown = []
        for row in page:
            notice = notice_to_proto(row)
            notice.unread = row.id is not None and row.id > notices.seen_through
            shown.append(notice)
        return agency_pb2.AgencyServiceListNoticesResponse(
            notices=shown, unread=notices.unread,
            next_page_token=_page_token(last_id) if more and last_id is not None else "")

    async def DescribeAgency(self, request: agency_pb2.DescribeAgencyRequest,
                             context: Context
                             ) -> agency_pb2.DescribeAgencyResponse:
        return agency_pb2.DescribeAgencyResponse(agency=self._profile)

    async def ActOnTask(self, request: agency_pb2.ActOnTaskRequest, context: Context
                        ) -> agency_pb2.ActOnTaskResponse:
        session = caller().session
        assert session is not None  # the access table asks for a signed-in officer
        if request.officer_id and request.officer_id != session.officer:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"officer_id {request.officer_id!r} is not the signed-in "
                                f"officer ({session.officer}); an officer acts as itself")
        if self._gateway is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"{self.agency}'s service is not linked to a gateway")
        if not request.request_id or len(request.request_id) > limits.MAX_REQUEST_ID:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"request_id is required (at most {limits.MAX_REQUEST_ID} "
                                "characters)")
        if not (request.case_id and request.task_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "case_id and task_id are required")
        if request.action not in _ACTIONS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"action: {request.action} is not SIGN, ARRIVE, COMPLETE or "
                                "DECLINE")
        row = await self._in_session(lambda db: inbox.current_task(
            session=db, agency=self.agency, case_id=request.case_id,
            task_id=request.task_id))
        if row is None or row.withdrawn or row.id is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"task {request.task_id} of {request.case_id} is not in the "
                                f"inbox of {self.agency}")
        assert self._gateway is not None and row is not None and row.id is not None
        # The case as the inbox holds it: a number or an id without its run, resolved,
        # so the signed act and the case name the same opening.
        request = _naming_case(request, row.case_id)
        action = _ACTIONS[request.action]
        act = attestations.Act(
            case_id=request.case_id, task_id=request.task_id, action=action,
            officer=session.officer, request_id=request.request_id,
            session_id=session.session_id, content=attestations.content_digest(
                action, findings=request.findings, evidence_refs=request.evidence_refs,
                reason=request.reason, suggested_agency=request.suggested_agency))
        signed = attestations.sign_act(self._signer, act, at=datetime.now(UTC))
        try:
            reply = await self._gateway.forward(request, officer=session.officer,
                                                signed_act=signed)
        except grpc.aio.AioRpcError as err:
            # The gateway's answer, details and all, is the officer's answer.
            await context.abort(err.code(), err.details() or "",
                                trailing_metadata=tuple(err.trailing_metadata() or ()))  # type: ignore[arg-type]
        task = next((t for t in reply.case.tasks if t.id == request.task_id), None)
        state = (case_pb2.TaskState.Name(task.state).removeprefix("TASK_STATE_")
                 if task is not None else row.task_state)
        finding = None
        if request.action == agency_pb2.TASK_ACTION_COMPLETE:
            finding = Finding(request_id=request.request_id, case_id=request.case_id,
                              task_id=request.task_id, officer=session.officer,
                              findings=request.findings,
                              evidence_refs="\n".join(request.evidence_refs))
        row_id = row.id
        await self._in_session(lambda db: inbox.record_action(
            session=db, agency=self.agency, row_id=row_id, task_state=state,
            finding=finding))
        row.task_state = state  # as now stored (the row was read before the act)
        return agency_pb2.ActOnTaskResponse(item=item_to_proto(row), case=reply.case)


def _naming_case(request: agency_pb2.ActOnTaskRequest, case_id: str
                 ) -> agency_pb2.ActOnTaskRequest:
    if request.case_id == case_id:
        return request
    resolved = agency_pb2.ActOnTaskRequest()
    resolved.CopyFrom(request)
    resolved.case_id = case_id
    return resolved


# Each action at the desk as the signed act names it (workflows.command_table).
_ACTIONS = {action: call.act for action, call in command_table.BY_DESK_ACTION.items()}


# The agency's own tables (agencies.models), migrated at start.
SCHEMA = database.Schema("agency", Path(__file__).parent / "migrations",
                         "agency_0005")


def open_database(url: str, *, password_file: Path | None = None) -> Engine:
    """The agency's database, its schema brought to the latest migration."""
    return database.open_database(url, SCHEMA, password_file=password_file)


@dataclass(frozen=True)
class AgencyPorts:
    """Where the agency listens: parties (mutual TLS) and its officers' desk (TLS)."""

    parties: int
    desk: int


@asynccontextmanager
async def run_server(*, profile: agency_pb2.Agency, database_url: str, identity: Identity,
                     database_password_file: Path | None = None,
                     store: CertificateStore, port: int = 0, desk_port: int = 0,
                     host: str = "127.0.0.1", gateway: GatewayLink | None = None,
                     roster_seed: Sequence[roster.SeedEntry] = (),
                     evidence_dir: Path | None = None,
                     mail: MailServer | None = None) -> AsyncIterator[AgencyPorts]:
    """Serve the agency until the block ends; yields the bound ports (0 picks one).
    Without a gateway link its officers cannot act through it (ActOnTask refuses).
    `roster_seed` adds the officers the roster lacks (demo officers, a first head);
    `evidence_dir` is the agency's evidence store (without one it takes no files);
    `mail` its mail server (without one its officers add no e-mail channels)."""
    if identity.party.id != profile.id:
        raise ValueError(f"the certificate is {identity.party}'s, not {profile.id}'s")
    engine = open_database(database_url, password_file=database_password_file)
    if roster_seed:
        with Session(engine) as session:
            roster.seed(session=session, agency=profile.id, entries=roster_seed)
    access = AgencyAccess(profile.id, engine, store)
    server = grpc.aio.server(interceptors=[*telemetry.grpc_server_interceptors(),
                                           access.guard()],
                             options=[tls.EXCLUSIVE_PORT])
    signer = Signer(identity)
    sender = Sender(profile.id, engine, mail=mail)
    agency_pb2_grpc.add_AgencyServiceServicer_to_server(  # type: ignore[no-untyped-call]
        AgencyService(profile, engine, signer, gateway,
                      EvidenceStore(evidence_dir) if evidence_dir is not None else None,
                      sender),
        server)
    roster_pb2_grpc.add_RosterServiceServicer_to_server(  # type: ignore[no-untyped-call]
        RosterService(profile.id, engine, signer), server)
    notify_pb2_grpc.add_NotificationServiceServicer_to_server(  # type: ignore[no-untyped-call]
        NotificationDesk(profile.id, engine, sender), server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, ROSTER_SERVICE_NAME, NOTIFY_SERVICE_NAME,
         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    ports = AgencyPorts(
        parties=server.add_secure_port(f"{host}:{port}", tls.mutual_tls_server(identity)),
        desk=server.add_secure_port(f"{host}:{desk_port}", tls.server_tls(identity)))
    await server.start()
    for name in ("", SERVICE_NAME, ROSTER_SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    sending = asyncio.create_task(sender.run(), name=f"{profile.id} outbox")
    try:
        yield ports
    finally:
        sending.cancel()
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace=5)
        engine.dispose()
        if gateway is not None:
            await gateway.close()
