"""OversightService: accountability read from the ledger, never a change to anything.

Who sees which case is `records.participation`'s rule: oversight staff and the
coordinator see every case; an agency sees the cases it takes part in (opener, owners,
assignees and agencies offered the case, as the ledger records them). A case the caller
may not see is NOT_FOUND, worded exactly like one that does not exist.

Gaps, the hand-off matrix and the scorecards are queries of the stores the worker keeps
as it appends (the gap store, the score store); the timeline replays its one case. Each
call runs in a thread, so a long analysis never blocks the gateway's event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import io
import logging
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import BinaryIO, TypeVar

import grpc
from sqlalchemy import Engine
from sqlmodel import Session

from gateway import oversight_views as views
from gateway import page_tokens
from gateway.admission import AdmissionLimits
from gateway.callers import CallerKind, caller
from gateway.case_refs import CaseRefs, not_found
from gateway.errors import Context, GatewayError, abort, invalid
from observability import (
    analysis,
    audit,
    export,
    gap_store,
    ledger,
    score_store,
    scorecards,
    witness,
)
from observability.spans import case_trace_id
from records import need_to_know, participation
from records.event_schema import PLATFORM_ACTOR, Event
from seamless.v1 import case_pb2, oversight_pb2_grpc
from seamless.v1 import oversight_pb2 as pb
from trust.pki import CertificateStore
from workflows import reconcile
from workflows.catalog_loader import Catalog

T = TypeVar("T")
log = logging.getLogger(__name__)
# The most the engine's side of an audit may take before it is left out (and said so).
ENGINE_CHECK_SECONDS = 120.0
# What the engine did past the platform (workflows.reconcile, bound to the gateway's
# client and queue).
EngineCheck = Callable[[], Awaitable[list[reconcile.Finding]]]
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
EXPORT_CHUNK_BYTES = 64 * 1024
MAX_BOUNCE_CHAINS = 200


def _since(request: pb.GetScorecardsRequest | pb.GetHandoffMatrixRequest | pb.ListGapsRequest
           ) -> datetime | None:
    if not request.HasField("since"):
        return None
    try:
        return request.since.ToDatetime(UTC)
    except (ValueError, OverflowError):
        raise invalid("since", "is not a time between the years 1 and 9999") from None


# Whole-ledger jobs (gateway.admission.HEAVY_METHODS) run on threads of their own, as
# many as admission lets run at once: they never hold the threads every other call
# shares (the default executor: six on two cores).
_HEAVY_THREADS = ThreadPoolExecutor(max_workers=AdmissionLimits().heavy_at_once,
                                    thread_name_prefix="oversight-heavy")


async def _heavy(work: Callable[[], T]) -> T:
    """`work` on a heavy-job thread, in the caller's context (who is calling)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _HEAVY_THREADS, functools.partial(context.run, work))


class ExportAbandoned(Exception):
    """The caller of an export went away; its work stops."""


def _until(gone: threading.Event, events: Iterator[Event]) -> Iterator[Event]:
    for event in events:
        if gone.is_set():
            raise ExportAbandoned
        yield event


def longest_chains(chains: Iterable[analysis.BounceChain]) -> list[analysis.BounceChain]:
    """The MAX_BOUNCE_CHAINS chains with the most bounces (ties: as listed): a million
    events hold eleven thousand, a 1.4 MB answer nobody reads to the end; a case's own
    are in its timeline."""
    return heapq.nlargest(MAX_BOUNCE_CHAINS, chains, key=lambda c: c.bounces)


class OversightService(oversight_pb2_grpc.OversightServiceServicer):
    def __init__(self, *, ledger_engine: Engine, catalog: Catalog, store: CertificateStore,
                 refs: CaseRefs, witness_engine: Engine | None = None,
                 engine_check: EngineCheck | None = None) -> None:
        self._engine = ledger_engine
        self._engine_check = engine_check
        self._refs = refs
        self._catalog = catalog
        self._store = store
        self._witness = witness_engine

    # ----- who sees what ------------------------------------------------------------

    def _visible_to(self) -> str | None:
        """The agency whose cases the caller sees; None for those who see every case."""
        viewer = caller().agency
        coordinator = self._catalog.directory.coordinator
        return None if participation.sees_every_case(viewer, coordinator=coordinator) \
            else viewer

    def _include(self) -> analysis.CaseFilter | None:
        """The same rule, as a test on a replayed case's participants."""
        viewer = caller().agency
        coordinator = self._catalog.directory.coordinator
        if participation.sees_every_case(viewer, coordinator=coordinator):
            return None
        return lambda taking_part: participation.may_see(viewer, taking_part,
                                                         coordinator=coordinator)

    async def _serve(self, context: Context, work: Callable[[], T], *, heavy: bool = False
                     ) -> T:
        try:
            return await (_heavy(work) if heavy else asyncio.to_thread(work))
        except GatewayError as err:
            await abort(context, err)

    # ----- one case -----------------------------------------------------------------

    async def GetTimeline(self, request: pb.GetTimelineRequest, context: Context
                          ) -> pb.GetTimelineResponse:
        include = self._include()
        viewer = caller().agency

        def work() -> pb.GetTimelineResponse:
            if not request.case_id:
                raise invalid("case_id", "is required")
            case = self._refs.recorded(request.case_id, self._engine)
            now = datetime.now(UTC)
            replay = next(analysis.replay_cases(
                ledger.stream_events(self._engine, case_id=case), now=now,
                include=include), None)
            if replay is None:
                raise not_found(request.case_id)
            figures = analysis.analyse([replay], now=now)
            with Session(self._engine) as session:
                events = self._events_seen(ledger.case_events(session=session, case_id=case),
                                           case, viewer=None if include is None else viewer)
                # The chain and the signatures; `audit verify` also holds the case to
                # the worker's checkpoints (which means reading them all).
                verdict = audit.audit_case(session, case, self._store, None, now)
                numbers = ledger.case_numbers(session=session, case_ids=[case])
            # Gaps and bounce chains go with the events they come from.
            shown = {e.sequence for e in events}
            tasks_seen = {e.task_id for e in events if e.task_id}
            return pb.GetTimelineResponse(
                verdict=views.verdict(verdict), case_number=numbers.get(case, ""),
                case_id=case, trace_id=f"{case_trace_id(case):032x}",
                events=events, ownership=views.ownership(replay),
                gaps=[views.gap(g, now, numbers) for g in figures.gaps
                      if need_to_know.shows_gap(g.start_event.sequence, shown)],
                bounce_chains=[views.bounce_chain(c) for c in figures.bounce_chains
                               if need_to_know.shows_bounce_chain(c.task_ids, tasks_seen)],
                lines=views.case_lines(figures.cases[0]) if figures.cases else None)
        return await self._serve(context, work)

    def _events_seen(self, rows: list[ledger.LedgerEntry], case: str, *,
                     viewer: str | None) -> list[case_pb2.CaseEvent]:
        """The case's events as `viewer`'s part in it shows them (None: all of them)."""
        events = [views.case_event(r) for r in rows]
        if viewer is None:
            return events
        shown = {e.sequence: e.officer for e in need_to_know.events_seen_by(
            viewer, ledger.stream_events(self._engine, case_id=case),
            coordinator=self._catalog.directory.coordinator)}
        for event in events:
            if event.sequence in shown:
                event.actor.officer_id = shown[event.sequence]
        return [e for e in events if e.sequence in shown]

    # ----- across cases -------------------------------------------------------------

    async def ListGaps(self, request: pb.ListGapsRequest, context: Context
                       ) -> pb.ListGapsResponse:
        visible_to = self._visible_to()

        def work() -> pb.ListGapsResponse:
            size = request.page_size or DEFAULT_PAGE_SIZE
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise invalid("page_size", f"must be 1 to {MAX_PAGE_SIZE}")
            if request.agency and self._catalog.directory.get(request.agency) is None \
                    and request.agency != PLATFORM_ACTOR:
                raise invalid("agency", f"no agency {request.agency!r} in the directory")
            if request.kind not in case_pb2.GapKind.values():
                raise invalid("kind", f"{request.kind} is not a GapKind")
            query = analysis.GapQuery(agency=request.agency, kind=views.kind_of(request.kind),
                                      breached_only=request.breached_only,
                                      since=_since(request), open_only=request.open_only)
            offset = page_tokens.offset_of(request)
            now = datetime.now(UTC)
            # From the gap store: an indexed query, not a replay of the whole ledger.
            page = gap_store.list_gaps(self._engine, query=query, now=now,
                                       visible_to=visible_to, offset=offset,
                                       limit=size)
            with Session(self._engine) as session:
                numbers = ledger.case_numbers(session=session,
                                              case_ids=[g.case_id for g in page.gaps])
            return pb.ListGapsResponse(
                gaps=[views.gap(g, now, numbers) for g in page.gaps],
                next_page_token=page_tokens.next_token(offset + size, request) if page.more
                else "")
        return await self._serve(context, work)

    async def GetScorecards(self, request: pb.GetScorecardsRequest, context: Context
                            ) -> pb.GetScorecardsResponse:
        visible_to = self._visible_to()

        def work() -> pb.GetScorecardsResponse:
            since = _since(request)
            if not score_store.is_ready(self._engine):
                # The worker makes the store at its start; the gateway only reads it.
                raise GatewayError(grpc.StatusCode.UNAVAILABLE, "SCORES_NOT_READY",
                                   "the score store is not made yet: the worker makes it "
                                   "when it starts; try again shortly", retry_after=5.0)
            # SQL sums over the facts the worker keeps per case as it appends, never a
            # replay of the whole ledger.
            figures = scorecards.read(self._engine, since=since, visible_to=visible_to,
                                      now=datetime.now(UTC))
            return pb.GetScorecardsResponse(
                scorecards=[views.scorecard(c, rank) for rank, c in
                            enumerate(figures.ranked, start=1)],
                case_type_lines=[views.type_lines(t) for t in figures.type_lines],
                bounce_chains=[views.bounce_chain(c) for c in
                               longest_chains(figures.bounce_chains)],
                case_type_scorecards=[views.type_scorecard(t) for t in figures.case_types],
                area_reports=[views.area_reports(area, n)
                              for area, n in figures.area_reports])
        return await self._serve(context, work, heavy=True)

    async def GetHandoffMatrix(self, request: pb.GetHandoffMatrixRequest, context: Context
                               ) -> pb.GetHandoffMatrixResponse:
        visible_to = self._visible_to()

        def work() -> pb.GetHandoffMatrixResponse:
            # From the gap store: every offer is a hand-off gap there.
            cells = gap_store.handoff_matrix(self._engine, since=_since(request),
                                             visible_to=visible_to)
            return pb.GetHandoffMatrixResponse(cells=[views.handoff_cell(c) for c in cells])
        return await self._serve(context, work)

    async def ExportEventLog(self, request: pb.ExportEventLogRequest, context: Context
                             ) -> AsyncIterator[pb.ExportEventLogResponse]:
        writers = {pb.EXPORT_FORMAT_OCEL2_JSON: export.write_ocel2_json,
                   pb.EXPORT_FORMAT_CSV: export.write_csv}
        writer = writers.get(request.format)
        if writer is None:
            await abort(context, invalid("format", "choose EXPORT_FORMAT_OCEL2_JSON or "
                                                   "EXPORT_FORMAT_CSV"))
        visible_to = self._visible_to()
        # Set when the caller has gone (or its deadline passed): the export stops at its
        # next event instead of reading the rest of the ledger for nobody.
        gone = threading.Event()
        # Spooled to disk, then streamed: memory stays flat however long the ledger is.
        # The spool is deleted however the call ends.
        with tempfile.TemporaryFile("w+b") as spool:
            try:
                await _heavy(functools.partial(self._export, writer, visible_to, spool,
                                               gone))
                spool.seek(0)
                while chunk := await asyncio.to_thread(spool.read, EXPORT_CHUNK_BYTES):
                    yield pb.ExportEventLogResponse(data=chunk)
            finally:
                gone.set()

    def _export(self, writer: Callable[..., int], visible_to: str | None, spool: BinaryIO,
                gone: threading.Event) -> None:
        # The participants kept with the gaps: an edit to the ledger cannot hide a case
        # from its own agency.
        cases = None if visible_to is None else gap_store.cases_of(self._engine, visible_to)
        events: Iterator[Event] = (
            e for e in ledger.stream_events(self._engine)
            if cases is None or e.case_id in cases)
        if visible_to is not None:  # each case as the agency's part in it shows it
            events = need_to_know.events_seen_by(
                visible_to, events, coordinator=self._catalog.directory.coordinator)
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer(_until(gone, events), text)
        text.flush()
        text.detach()

    def _witness_reading(self) -> witness.Reading:
        return (witness.read(self._witness, self._store) if self._witness is not None
                else witness.Reading())

    async def VerifyLedger(self, request: pb.VerifyLedgerRequest, context: Context
                           ) -> pb.VerifyLedgerResponse:
        visible_to = self._visible_to()

        def work() -> pb.VerifyLedgerResponse:
            reading = self._witness_reading()
            case = self._refs.recorded(request.case_id, self._engine) if request.case_id \
                else ""
            with Session(self._engine) as session:
                known = ledger.case_ids(session=session)
                visible = known if visible_to is None else sorted(
                    set(known) & gap_store.cases_of(self._engine, visible_to))
                gone = [] if visible_to is not None else [
                    c for c, _ in witness.missing_cases(reading, known)]
                if case and case not in (*visible, *gone):
                    raise not_found(request.case_id)
                found = audit.audit(session, self._store, reading,
                                    cases=[case] if case in visible
                                    else [] if case else visible,
                                    include_missing=visible_to is None)
            verdicts = [v for v in found.verdicts if not case or v.case_id == case]
            return pb.VerifyLedgerResponse(
                verdicts=[views.verdict(v) for v in verdicts], cases_checked=len(verdicts),
                cases_broken=sum(1 for v in verdicts if not v.intact),
                checkpoints=reading.checkpoints,
                witnessed_at=views.stamp(reading.last_at) if reading.last_at else None,
                witness_problems=reading.problems if visible_to is None else [])
        reply = await self._serve(context, work, heavy=True)
        # The engine's side, for oversight staff, when the whole is audited.
        if caller().kind is CallerKind.OVERSIGHT and not request.case_id and \
                self._engine_check is not None:
            try:
                found = await asyncio.wait_for(self._engine_check(), ENGINE_CHECK_SECONDS)
            except Exception as err:  # the ledger's audit stands without it
                log.warning("engine reconciliation failed: %r", err)
                reply.engine_findings.append(pb.EngineFinding(
                    kind=reconcile.NOT_COMPARED,
                    detail="the engine's executions could not be compared with the "
                           f"ledger now ({type(err).__name__}); try again"))
            else:
                reply.engine_findings.extend(views.engine_finding(f) for f in found)
        return reply

