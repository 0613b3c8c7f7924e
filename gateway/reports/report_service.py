"""ReportService: the hotline desk's reports, over gRPC and HTTP/JSON alike.

Who may do what: the hotline (the coordinator's officers) takes reports in and records
ratings; the hotline or the case's owner merges and splits; anyone who may see a
report's case may see the report, its reporter's contact masked unless they are the
hotline or the lead (`gateway.reports.privacy`). A report whose case the caller may not
see does not exist for it (NOT_FOUND, as for cases).
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client
from temporalio.service import RPCError

from gateway.callers import caller
from gateway.case_refs import CaseRefs, not_found
from gateway.case_service import refusal, signed_in_officer
from gateway.errors import Context, GatewayError, abort
from gateway.reports import privacy
from gateway.reports.drafts import IntakeError, Taker
from gateway.reports.intake import Intake, masked
from gateway.reports.store import Report, ReportDraft, ReportFilter
from observability import projection
from records import need_to_know
from records.event_schema import Satisfaction
from seamless.v1 import report_pb2 as pb
from seamless.v1 import report_pb2_grpc
from workflows import client as cases
from workflows.rules.model import Actor, CaseState
from workflows.rules.report_ops import DESK_CHANNELS
from workflows.seals import Vouch

T = TypeVar("T")
logger = logging.getLogger(__name__)
_SATISFACTION = {pb.SATISFACTION_SATISFIED: Satisfaction.SATISFIED,
                 pb.SATISFACTION_BASICALLY_SATISFIED: Satisfaction.BASICALLY_SATISFIED,
                 pb.SATISFACTION_DISSATISFIED: Satisfaction.DISSATISFIED}
_SATISFACTION_VALUE: dict[str, Any] = {v.value: k for k, v in _SATISFACTION.items()}
MAX_PAGE = 200
DEFAULT_PAGE = 50


def _stamp(value: object) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def reads_reports(viewer: str, state: CaseState, *, hotline: str) -> bool:
    """Whether `viewer` reads the reports of the case in `state`: those working it (its
    lead, the hotline, oversight, the agencies with a task in it). An agency offered the
    case, or one that took part before, reads its header only (records.need_to_know)."""
    pending = state.pending_handoff
    part = need_to_know.part_of(
        viewer, owner=state.owner, coordinator=hotline,
        assignees={t.assignee for t in state.tasks},
        offered={pending.to_agency} if pending is not None else set(),
        participants=state.participants())
    return part >= need_to_know.Part.ASSIGNEE


def report_to_proto(report: Report, *, full_contact: bool) -> pb.Report:
    """The report as a viewer sees it: without `full_contact`, its reporter masked in
    the contact fields and in its own words (description, address)."""
    contact = pb.ReporterContact(name=report.contact_name, phone=report.contact_phone,
                                 email=report.contact_email)
    description, address = report.description, report.address
    if not full_contact:
        contact = pb.ReporterContact(name=privacy.mask_name(report.contact_name),
                                     phone=privacy.mask_phone(report.contact_phone),
                                     email=privacy.mask_email(report.contact_email),
                                     masked=True)
        description, address = masked(description, report), masked(address, report)
    return pb.Report(
        id=report.id, channel=report.channel, service_code=report.service_code,
        description=description, address=address, lat=report.lat or 0.0,
        lon=report.lon or 0.0, located=report.lat is not None,
        jurisdiction=report.jurisdiction, area=report.area, subject=report.subject,
        attributes=[pb.ReportAttribute(code=k, value=v if full_contact else masked(v, report))
                    for k, v in sorted(report.attribute_map().items())],
        media_urls=report.media(), contact=contact, received_time=_stamp(report.received_at),
        case_id=report.case_id, case_number=report.case_number,
        routing_problem=report.routing_problem, rated=report.rated_here,
        solved=bool(report.solved),
        satisfaction=_SATISFACTION_VALUE.get(report.satisfaction, 0),
        rated_time=_stamp(report.rated_at), reopened_as=report.reopened_as)


def _intake_error(err: IntakeError) -> GatewayError:
    return GatewayError(grpc.StatusCode[err.status], err.code, err.message,
                        {"field": err.field} if err.field else {})


def draft_of(request: pb.SubmitReportRequest) -> ReportDraft:
    if request.located and not (math.isfinite(request.lat) and math.isfinite(request.lon)):
        raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "BAD_LOCATION",
                           "lat, lon: finite WGS84 coordinates", {"field": "lat"})
    if request.channel and request.channel not in DESK_CHANNELS:
        raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                           f"channel: one of {', '.join(DESK_CHANNELS)} (Open311 has its "
                           "own door)", {"field": "channel"})
    if len(request.attributes) > 20:
        raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                           "attributes: at most 20", {"field": "attributes"})
    return ReportDraft(
        channel=request.channel or DESK_CHANNELS[0], service_code=request.service_code,
        description=request.description, address=request.address,
        lat=request.lat if request.located else None,
        lon=request.lon if request.located else None, jurisdiction=request.jurisdiction,
        attributes=tuple((a.code, a.value) for a in request.attributes),
        media_urls=tuple(request.media_urls), contact_name=request.contact.name,
        contact_phone=request.contact.phone, contact_email=request.contact.email)


class ReportService(report_pb2_grpc.ReportServiceServicer):
    def __init__(self, *, client: Client, intake: Intake, refs: CaseRefs, ledger: Engine
                 ) -> None:
        self._client = client
        # The ledger's database, read only: the follow-up list comes from its read model.
        self._ledger = ledger
        self._intake = intake
        self._refs = refs

    async def _serve(self, context: Context, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
        except GatewayError as err:
            await abort(context, err)
        except IntakeError as err:
            await abort(context, _intake_error(err))
        except cases.CaseRefused as err:
            await abort(context, refusal(err))
        except RPCError:
            await abort(context, GatewayError(
                grpc.StatusCode.UNAVAILABLE, "ENGINE_UNAVAILABLE",
                "the case engine is not answering; retry with the same request_id"))
        except SQLAlchemyError as err:
            # Never the driver's text: it can hold the row's values (a reporter's contact).
            logger.error("the report store failed: %s", type(err).__name__)
            await abort(context, GatewayError(
                grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE",
                "the report store is not answering; retry with the same request_id"))

    def _hotline_officer(self, claimed: str, what: str) -> tuple[Actor, Vouch]:
        actor, vouch = signed_in_officer(claimed)
        if actor.agency != self._intake.hotline:
            raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "NOT_HOTLINE",
                               f"only the hotline ({self._intake.hotline}) {what}")
        return actor, vouch

    async def _visible(self, report_id: str) -> tuple[Report, bool]:
        """The report if the caller may see its case, and whether it sees the contact."""
        report = await asyncio.to_thread(self._intake.store.get, report_id[:32])
        viewer = caller().agency
        hotline = self._intake.hotline
        if report is None:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "REPORT_NOT_FOUND",
                               f"there is no report {report_id[:32]!r}")
        if viewer == hotline:
            return report, True
        if not report.case_id:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "REPORT_NOT_FOUND",
                               f"there is no report {report_id[:32]!r}")
        state = await cases.read_case(self._client, report.case_id)
        if not reads_reports(viewer, state, hotline=hotline):
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "REPORT_NOT_FOUND",
                               f"there is no report {report_id[:32]!r}")
        return report, privacy.may_see_contact(viewer, owner=state.owner, hotline=hotline)

    async def _as_seen(self, report: Report) -> pb.Report:
        """The report as the caller may see it after a change (its case may be new)."""
        viewer, hotline = caller().agency, self._intake.hotline
        owner = ""
        if report.case_id and viewer != hotline:
            owner = (await cases.read_case(self._client, report.case_id)).owner
        return report_to_proto(report, full_contact=privacy.may_see_contact(
            viewer, owner=owner, hotline=hotline))

    async def SubmitReport(self, request: pb.SubmitReportRequest, context: Context
                           ) -> pb.SubmitReportResponse:
        async def work() -> pb.SubmitReportResponse:
            actor, vouch = self._hotline_officer(request.officer_id, "takes reports in")
            taker = Taker(officer=actor.officer, vouch=vouch,
                          label=f"{actor.agency}/{actor.officer}")
            report = await self._intake.submit(
                draft_of(request), request_id=request.request_id or f"gw-{uuid.uuid4()}",
                taker=taker)
            return pb.SubmitReportResponse(report=report_to_proto(report, full_contact=True))
        return await self._serve(context, work)

    async def GetReport(self, request: pb.GetReportRequest, context: Context
                        ) -> pb.GetReportResponse:
        async def work() -> pb.GetReportResponse:
            report, full = await self._visible(request.report_id)
            return pb.GetReportResponse(report=report_to_proto(report, full_contact=full))
        return await self._serve(context, work)

    async def ListReports(self, request: pb.ListReportsRequest, context: Context
                          ) -> pb.ListReportsResponse:
        async def work() -> pb.ListReportsResponse:
            size = min(max(request.page_size, 0) or DEFAULT_PAGE, MAX_PAGE)
            viewer, hotline = caller().agency, self._intake.hotline
            if request.follow_up:
                if viewer != hotline:
                    raise GatewayError(grpc.StatusCode.PERMISSION_DENIED, "NOT_HOTLINE",
                                       f"the follow-up list is the hotline's ({hotline})")
                return pb.ListReportsResponse(reports=[
                    report_to_proto(r, full_contact=True)
                    for r in await self._follow_ups(size)])
            if not request.case_id:
                raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                                   "case_id: whose reports (or follow_up)", {"field": "case_id"})
            case_id = await self._refs.live(request.case_id[:400])
            state = await cases.read_case(self._client, case_id)
            if not reads_reports(viewer, state, hotline=hotline):
                raise not_found(request.case_id[:400])
            full = privacy.may_see_contact(viewer, owner=state.owner, hotline=hotline)
            rows = await asyncio.to_thread(self._intake.store.of_case, state.id, size)
            return pb.ListReportsResponse(reports=[report_to_proto(r, full_contact=full)
                                                   for r in rows])
        return await self._serve(context, work)

    async def _follow_ups(self, size: int) -> list[Report]:
        """Reports of closed cases, unrated, whose follow-up window is still open (the
        window `Intake.rate` holds ratings to), the earliest closed first: one indexed
        query of the read model, then those reports from the store."""
        def waiting() -> list[tuple[str, str]]:
            with self._ledger.connect() as connection:
                return projection.follow_ups(connection, now=datetime.now(UTC), size=size)
        listed = await asyncio.to_thread(waiting)
        if not listed:
            return []
        rows = await asyncio.to_thread(self._intake.store.search, ReportFilter(
            ids=[report_id for report_id, _ in listed], unrated_only=True, limit=size))
        by_id = {r.id: r for r in rows}
        return [by_id[report_id] for report_id, _ in listed if report_id in by_id]

    async def MergeReport(self, request: pb.MergeReportRequest, context: Context
                          ) -> pb.MergeReportResponse:
        async def work() -> pb.MergeReportResponse:
            actor, vouch = signed_in_officer(request.officer_id)
            await self._visible(request.report_id)
            into = await self._refs.live(request.case_id[:400])
            report = await self._intake.merge(request.report_id, into, actor=actor,
                                              vouch=vouch, request_id=request.request_id
                                              or f"gw-{uuid.uuid4()}")
            return pb.MergeReportResponse(report=await self._as_seen(report))
        return await self._serve(context, work)

    async def SplitReport(self, request: pb.SplitReportRequest, context: Context
                          ) -> pb.SplitReportResponse:
        async def work() -> pb.SplitReportResponse:
            actor, vouch = signed_in_officer(request.officer_id)
            await self._visible(request.report_id)
            report = await self._intake.split(
                request.report_id, reason=request.reason, actor=actor, vouch=vouch,
                request_id=request.request_id or f"gw-{uuid.uuid4()}")
            return pb.SplitReportResponse(report=await self._as_seen(report))
        return await self._serve(context, work)

    async def RateReport(self, request: pb.RateReportRequest, context: Context
                         ) -> pb.RateReportResponse:
        async def work() -> pb.RateReportResponse:
            actor, vouch = self._hotline_officer(request.officer_id, "records ratings (回访)")
            satisfaction = _SATISFACTION.get(request.satisfaction)
            if satisfaction is None:
                raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                                   "satisfaction: SATISFIED (1), BASICALLY_SATISFIED (2) or "
                                   "DISSATISFIED (3)", {"field": "satisfaction"})
            report = await self._intake.rate(
                request.report_id[:32], solved=request.solved, satisfaction=satisfaction,
                actor=actor, vouch=vouch, reopen_lead=request.reopen_lead[:64])
            return pb.RateReportResponse(report=report_to_proto(report, full_contact=True))
        return await self._serve(context, work)
