"""The intake: a report in, routed to its case; merges, splits and ratings by hand.

Every door (the hotline's RPCs, Open311, the console) goes through `Intake`, so a report
is checked, stored, routed, merged and rated by one set of rules. Identity is the
door's to prove: `Taker` is the verified hotline officer or Open311 client, and the
case sees the hotline (the coordinator's desk) acting through that officer or client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.service import RPCError

from gateway.case_numbers import CaseNumbers, request_key
from gateway.reports import privacy
from gateway.reports.drafts import IntakeError, Taker, check_draft
from gateway.reports.store import Report, ReportDraft, ReportStore
from records.event_schema import Satisfaction
from workflows import client as cases
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import DispatchCatalog, Route, RouteError
from workflows.ratings import RateReport, reopens
from workflows.rules import limits
from workflows.rules.commands import AttachReport, DetachReport, OpenCase
from workflows.rules.model import Actor, CaseState, CaseStatus, ReportRef
from workflows.rules.refusals import Reason
from workflows.seals import Vouch, vouched

logger = logging.getLogger(__name__)

# How often stored, unrouted reports are routed again.
ROUTING_RETRY_SECONDS = 15.0


def _subject_of(report: Report) -> str:
    """The subject a report opens or joins a case on: its subject attribute's value, or
    (no clear subject) the report itself, so it opens a case of its own."""
    return report.subject or f"report {report.id}"


def masked(text: str, report: Report) -> str:
    return privacy.mask_text(text, name=report.contact_name, phone=report.contact_phone,
                             email=report.contact_email)


# Refusals that pass by themselves: the subject's case has just closed and is finishing.
_PASSING = frozenset({Reason.CASE_CLOSED.value, Reason.CASE_CLOSING.value})


def taker_of(report: Report) -> Taker:
    """Who took a stored report in (for routing it again after a failure): the officer
    or Open311 client its row names, vouched for by the intake that stored it."""
    door, _, name = report.received_by.partition("/")
    officer = f"open311:{name}" if door == "open311" else name
    return Taker(officer=officer, vouch=Vouch(session_id=f"stored-report:{report.id}"),
                 label=report.received_by)


def report_ref(report: Report) -> ReportRef:
    return ReportRef(id=report.id, channel=report.channel, service_code=report.service_code,
                     received_at=report.received_at.replace(tzinfo=UTC)
                     if report.received_at.tzinfo is None else report.received_at,
                     area=report.area)


Numbering = Callable[[OpenCase], Awaitable[str]]


class Intake:
    def __init__(self, *, client: Client, catalog: Catalog, dispatch: DispatchCatalog,
                 store: ReportStore, numbers: CaseNumbers, task_queue: str) -> None:
        self._client = client
        self._catalog = catalog
        self.dispatch = dispatch
        self.store = store
        self._numbers = numbers
        self._task_queue = task_queue

    @property
    def hotline(self) -> str:
        return self._catalog.directory.hotline

    # ----- taking a report in --------------------------------------------------------

    async def submit(self, draft: ReportDraft, *, request_id: str, taker: Taker) -> Report:
        """Check, store and route a report; a retry (same taker, same request id) returns
        the first report. Routing that fails for a while (the case engine down, the
        subject's case just closing) leaves the report stored and unrouted: `route_pending`
        routes it later."""
        check_draft(draft)
        try:
            route = self.dispatch.route(draft.service_code, lon=draft.lon, lat=draft.lat,
                                        jurisdiction=draft.jurisdiction,
                                        attributes=dict(draft.attributes))
        except RouteError as err:
            raise IntakeError(err.code.value, str(err), field=err.field) from None
        key = request_key(taker.label, request_id, repr(draft))
        report = await asyncio.to_thread(
            self.store.add, draft, request_key=key[:64], received_by=taker.label,
            area=route.area, jurisdiction=route.jurisdiction, subject=route.subject,
            now=datetime.now(UTC))
        if not report.case_id:
            try:
                await self._route(report, route, taker)
            except Exception:  # noqa: BLE001 - stored: routed again later, never lost
                logger.exception("routing report %s failed; it waits for the next round",
                                 report.id)
        return await asyncio.to_thread(self.store.get, report.id) or report

    async def _route(self, report: Report, route: Route, taker: Taker, *,
                     routing: str = "") -> None:
        """Open the report's case or attach it to the open one; `routing` tells apart a
        report's later routings (after a split) from its first, whose retries it joins."""
        actor = Actor(self.hotline, taker.officer)
        ref = report_ref(report)
        title = route.service.case_title[:limits.MAX_TITLE]
        suffix = f"-{routing}" if routing else ""
        open_cmd = OpenCase(
            request_id=f"intake-{report.id}{suffix}"[:limits.MAX_REQUEST_ID], actor=actor,
            type=route.case_type, subject_key=_subject_of(report), title=title,
            # Every agency taking part reads the case: the reporter's contact, typed into
            # the report's own words, stays with the hotline and the lead.
            description=masked(report.description, report),
            location=masked(report.address, report)[:limits.MAX_LOCATION],
            jurisdiction=route.jurisdiction, stage=route.stage,
            priority=route.service.priority, reports=(ref,))
        attach = AttachReport(request_id=f"attach-{report.id}{suffix}"[:limits.MAX_REQUEST_ID],
                              actor=actor, report=ref)
        try:
            with vouched(taker.vouch):
                reply = await cases.report_to_case(
                    self._client, self._catalog, open_cmd, attach,
                    task_queue=self._task_queue, numbering=self._numbering(open_cmd))
        except cases.CaseRefused as err:
            # A subject's case that has just closed finishes in minutes; anything else
            # the rules refuse will be refused again, and waits for a person.
            park = err.reason not in _PASSING
            logger.warning("report %s not routed%s: %s", report.id,
                           " (parked)" if park else " yet", err.reason)
            await asyncio.to_thread(self.store.routing_failed, report.id, err.message,
                                    park=park, now=datetime.now(UTC))
            return
        except RPCError as err:
            logger.warning("report %s not routed yet: the case engine answered %s",
                           report.id, err.status)
            await asyncio.to_thread(self.store.routing_failed, report.id,
                                    "the case engine is not answering", park=False,
                                    now=datetime.now(UTC))
            return
        case = reply.case_proto()
        if case.number:
            await asyncio.to_thread(self._numbers.bind, case.number, case.id)
        await asyncio.to_thread(self.store.routed, report.id, case_id=case.id,
                                case_number=case.number, now=datetime.now(UTC))

    def _numbering(self, cmd: OpenCase) -> Numbering:
        async def numbering(opening: OpenCase) -> str:
            key = request_key(self.hotline, opening.request_id, opening.subject_key)
            return await asyncio.to_thread(self._numbers.allocate, key, datetime.now(UTC))
        return numbering

    async def route_pending(self) -> int:
        """Route the reports stored but not yet routed, each on behalf of whoever took it
        in; how many were routed now."""
        routed = 0
        for report in await asyncio.to_thread(self.store.unrouted):
            taker = taker_of(report)
            try:
                route = self.dispatch.route(report.service_code, lon=report.lon,
                                            lat=report.lat, jurisdiction=report.jurisdiction,
                                            attributes=report.attribute_map())
            except RouteError as err:  # the catalog changed since it was taken in
                await asyncio.to_thread(self.store.routing_failed, report.id, str(err),
                                        park=True, now=datetime.now(UTC))
                continue
            await self._route(report, route, taker)
            routed += bool((await asyncio.to_thread(self.store.get, report.id) or report).case_id)
        return routed

    # ----- merging and splitting by hand --------------------------------------------

    async def _check_desk(self, case_id: str, actor: Actor, what: str) -> CaseState:
        """The case, if `actor` may merge into or split off it: the hotline, or its
        owner, while it is open (checked before anything changes, so a merge is never
        left half done by a refusal on the other case)."""
        case = await cases.read_case(self._client, case_id)
        if case.status is not CaseStatus.OPEN:
            raise IntakeError("CASE_CLOSED", f"case {case.reference} is closed: {what}",
                              status="FAILED_PRECONDITION")
        if actor.agency not in (self.hotline, case.owner):
            raise IntakeError("NOT_OWNER", f"only the hotline or the owner of case "
                              f"{case.reference} ({case.owner}) may do this: {what}",
                              status="PERMISSION_DENIED")
        return case

    async def merge(self, report_id: str, into_case: str, *, actor: Actor, vouch: Vouch,
                    request_id: str) -> Report:
        """并单 by hand: move a report onto `into_case` (attached there first, then split
        off the case it was on, so it is never on none)."""
        report = self._known(await asyncio.to_thread(self.store.get, report_id), report_id)
        await self._check_desk(into_case, actor, "merging a report into it")
        if report.case_id == into_case:
            return report
        if report.case_id:
            await self._check_desk(report.case_id, actor, "merging its report elsewhere")
        with vouched(vouch):
            reply = await cases.send_reply(self._client, into_case, AttachReport(
                request_id=f"{request_id}-attach"[:64], actor=actor, report=report_ref(report),
                by_hand=True))
            case = reply.case_proto()
            if report.case_id:
                await self._detach(report, actor, f"merged into {case.number or into_case}",
                                   f"{request_id}-split")
        await asyncio.to_thread(self.store.routed, report.id, case_id=case.id,
                                case_number=case.number, now=datetime.now(UTC))
        return self._known(await asyncio.to_thread(self.store.get, report_id), report_id)

    async def keep_routing(self, every: float = ROUTING_RETRY_SECONDS) -> None:
        """Route what waits, again and again (the gateway runs this for its lifetime): a
        report stored while the engine was down or its subject's case was closing finds
        its case once they are back, whichever gateway replica gets there first (routing
        is idempotent per report)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.route_pending()
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                logger.exception("routing stored reports failed; retrying in %ss", every)

    async def split(self, report_id: str, *, reason: str, actor: Actor, vouch: Vouch,
                    request_id: str) -> Report:
        """Split a report merged by mistake off its case; it is routed again on its own
        (a new case when it had a subject, its subject being what merged it), as taken
        in by whoever took it in."""
        report = self._known(await asyncio.to_thread(self.store.get, report_id), report_id)
        if not report.case_id:
            raise IntakeError("NOT_ROUTED", f"report {report_id} is on no case yet",
                              status="FAILED_PRECONDITION")
        await self._check_desk(report.case_id, actor, "splitting a report off it")
        with vouched(vouch):
            await self._detach(report, actor, reason, request_id)
        # Stored before routing, so a retry after a failure routes it on its own too.
        await asyncio.to_thread(self.store.forget_subject, report.id)
        await asyncio.to_thread(self.store.routed, report.id, case_id="", case_number="",
                                now=datetime.now(UTC))
        own = self._known(await asyncio.to_thread(self.store.get, report_id), report_id)
        try:
            route = self.dispatch.route(own.service_code, lon=own.lon, lat=own.lat,
                                        jurisdiction=own.jurisdiction,
                                        attributes=own.attribute_map())
        except RouteError as err:  # the catalog changed since it was taken in
            await asyncio.to_thread(self.store.routing_failed, own.id, str(err), park=True,
                                    now=datetime.now(UTC))
        else:
            await self._route(own, route, taker_of(own), routing=f"split-{request_id}")
        return self._known(await asyncio.to_thread(self.store.get, report_id), report_id)

    async def _detach(self, report: Report, actor: Actor, reason: str, request_id: str
                      ) -> None:
        try:
            await cases.send(self._client, report.case_id, DetachReport(
                request_id=request_id[:64], actor=actor, report_id=report.id,
                reason=reason[:limits.MAX_REASON]))
        except cases.CaseRefused as err:
            if err.reason != Reason.REPORT_NOT_FOUND.value:
                raise

    # ----- follow-up: the reporter's rating -------------------------------------------

    def follow_up_ends(self, case: CaseState) -> datetime | None:
        rules = self._catalog.rules_for(case.type)
        if case.closed_at is None or rules is None:
            return None
        return rules.calendar_deadline(case.closed_at, rules.playbook.follow_up_within)

    async def rate(self, report_id: str, *, solved: bool, satisfaction: Satisfaction,
                   actor: Actor, vouch: Vouch, reopen_lead: str = "") -> Report:
        """回访/评价: record a reporter's rating of its closed case, once, within the
        follow-up window; a dissatisfied, unsolved rating reopens the matter (重办) as a
        new case led by the same agency (or `reopen_lead`, the coordinator's choice),
        with the case's reports carried over."""
        report = self._known(await asyncio.to_thread(self.store.get, report_id), report_id)
        if report.rated_here and report.rated_at is not None:
            raise IntakeError("ALREADY_RATED", f"report {report_id} was rated at "
                              f"{report.rated_at.isoformat()}", status="ALREADY_EXISTS")
        if not report.case_id:
            raise IntakeError("NOT_ROUTED", f"report {report_id} is on no case yet",
                              status="FAILED_PRECONDITION")
        case = await cases.read_case(self._client, report.case_id)
        if case.status is not CaseStatus.CLOSED:
            raise IntakeError("CASE_OPEN", f"case {case.reference} is still open; ratings "
                              "follow its answer", status="FAILED_PRECONDITION")
        ends = self.follow_up_ends(case)
        if ends is not None and datetime.now(UTC) > ends:
            raise IntakeError("FOLLOW_UP_OVER", f"the follow-up of case {case.reference} "
                              f"ended at {ends.isoformat()}", status="FAILED_PRECONDITION")
        if reopen_lead and self._catalog.directory.get(reopen_lead) is None:
            raise IntakeError("UNKNOWN_AGENCY", f"reopen_lead: no agency {reopen_lead!r}",
                              field="reopen_lead")
        rating = RateReport(
            request_id=f"rate-{report.id}", actor=actor, report_id=report.id,
            rated_case=case.id, case_type=case.type, owner=case.owner, solved=solved,
            satisfaction=satisfaction)
        # A report rated before (on the case whose rating reopened the matter, or one it
        # was carried over from) is rated again on the case it follows now: a rating of
        # its own, beside the first, whatever that case is (the reopened one, or a case
        # on the subject that was open already).
        again = report.rated_at is not None
        with vouched(vouch):
            # The rating first, once (its run's id is the report's); the reopening follows
            # from the rating recorded, so a retry, or a second rating racing this one,
            # repairs what a crash left undone and never reopens what was not reopened.
            try:
                await cases.record_rating(self._client, rating, again=again,
                                          task_queue=self._task_queue)
                recorded = rating
            except cases.AlreadyRated:
                recorded = await cases.recorded_rating(self._client, report.id, case.id,
                                                       again=again)
            reopened_as = ""
            if reopens(recorded.solved, recorded.satisfaction):
                reopened_as = await self._reopen(case, report, actor, reopen_lead)
        await asyncio.to_thread(self.store.rate, report.id, case_id=case.id,
                                solved=recorded.solved,
                                satisfaction=recorded.satisfaction.value,
                                rated_by=f"{recorded.actor.agency}/{recorded.actor.officer}",
                                reopened_as=reopened_as, now=datetime.now(UTC))
        if (recorded.solved, recorded.satisfaction) != (solved, satisfaction):
            raise IntakeError("ALREADY_RATED", f"report {report_id} was already rated",
                              status="ALREADY_EXISTS")
        return self._known(await asyncio.to_thread(self.store.get, report_id), report_id)

    async def _reopen(self, case: CaseState, report: Report, actor: Actor, lead: str) -> str:
        refs = tuple(case.reports) or (report_ref(report),)
        cmd = OpenCase(
            request_id=f"reopen-{report.id}", actor=actor, type=case.type,
            subject_key=case.subject_key, title=case.title, description=case.description,
            jurisdiction=case.jurisdiction, location=case.location, stage=case.stage,
            priority=case.priority, lead=lead or case.owner, reopened_from=case.id,
            reports=refs)
        attach = AttachReport(request_id=f"reattach-{report.id}", actor=actor,
                              report=report_ref(report))
        reply = await cases.report_to_case(self._client, self._catalog, cmd, attach,
                                           task_queue=self._task_queue,
                                           numbering=self._numbering(cmd))
        new = reply.case_proto()
        # A case on the subject was open already (another report came in after the
        # close): the matter goes on there, with every report of it.
        present = {r.id for r in new.reports}
        for ref in refs:
            if ref.id not in present:
                reply = await cases.send_reply(self._client, new.id, AttachReport(
                    request_id=f"reattach-{ref.id}"[:limits.MAX_REQUEST_ID], actor=actor,
                    report=ref))
        new = reply.case_proto()
        if new.number:
            await asyncio.to_thread(self._numbers.bind, new.number, new.id)
        for ref in refs:  # every report of the matter now follows the new case
            await asyncio.to_thread(self.store.routed, ref.id, case_id=new.id,
                                    case_number=new.number, now=datetime.now(UTC))
        return new.id

    @staticmethod
    def _known(report: Report | None, report_id: str) -> Report:
        if report is None:
            raise IntakeError("REPORT_NOT_FOUND", f"there is no report {report_id!r}",
                              field="report_id", status="NOT_FOUND")
        return report
