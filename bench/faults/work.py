"""Live cases driven through the platform while it fails, as its officers drive them:
each act is sent with a request id of its own and, when the answer was lost (the call
failed or timed out), sent again with the same id until the platform answers, as the
API asks of a client. Every act is written down (`Journal`): what was asked, what each
try answered and when, so that the suite can hold the platform's records against it.

A case goes through every kind of step an officer takes: opened by the township,
dispatched to two departments (one of them given a sign-for clock of seconds that nobody
meets, so that clocks fire while faults happen), signed and completed at the
department's own desk, the unmet task withdrawn once its clock fired, the case offered
to the command centre, accepted there and closed by its new owner.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bench.faults.records import Records
from cli import datadir
from cli.datadir import Endpoints
from cli.sessions import Credential
from records.participation import role_of
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from trust.pki import Role
from trust.tls import expecting, server_only_channel

CASE_TYPE = "citizen-hotline"
JURISDICTION = "jinhaihu"
LEAD = "jinhaihu-township"
TAKER = "command-center"
DONE_BY = ("market-complaint", "market-regulation")
MISSED_BY = ("traffic-complaint", "traffic-police")
# The missed clock: short, so that clocks fire all through a run.
MISSED_SIGN_WITHIN = "5s"
# One try's deadline, and how long an act is tried before the officer gives up on it.
TRY_SECONDS = 20.0
GIVE_UP_SECONDS = 240.0
# Answers that say nothing of whether the act happened: ask again, same request id.
UNANSWERED = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                        grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.ABORTED, grpc.StatusCode.CANCELLED,
                        grpc.StatusCode.RESOURCE_EXHAUSTED})
# The share of acts asked a second time, same request id, after they were answered.
ASKED_AGAIN = 0.25
# How soon a dispatched task is in its agency's inbox, however the platform fails.
ARRIVAL_SECONDS = 240.0


@dataclass
class Act:
    """One act an officer asked for, and what became of it."""

    op: str  # the engine's name of the command (workflows.command_table)
    agency: str
    case_id: str
    task_id: str
    request_id: str
    started: float  # wall clock (epoch seconds)
    ended: float = 0.0
    tries: int = 0
    # ok (an answer came), refused (a clear refusal, first try or later), gave_up
    outcome: str = ""
    # Each try that answered, as a digest of what it said that must not change.
    answers: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refusal: str = ""

    @property
    def ambiguous(self) -> bool:
        """A try failed without saying whether it happened (before the final answer)."""
        return bool(self.failures)


@dataclass
class Clock:
    """A sign-for clock nobody meets: when it was due, and for which task."""

    case_id: str
    task_id: str
    assignee: str
    deadline: float  # epoch seconds


@dataclass
class Journal:
    acts: list[Act] = field(default_factory=list)
    clocks: list[Clock] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    # Cases whose script stopped at an act the officer gave up on (or another fault).
    stuck: dict[str, str] = field(default_factory=dict)
    in_flight: dict[int, Act] = field(default_factory=dict)

    def moment(self, now: float, window: float = 2.0) -> list[str]:
        """What was under way at `now`: the commands in flight, and "clock" when a clock
        was due within `window` seconds of it."""
        under_way = sorted({a.op for a in self.in_flight.values()})
        if any(abs(c.deadline - now) <= window for c in self.clocks):
            under_way.append("clock")
        return under_way

    def why_stuck(self, case_id: str) -> str:
        """What the case's last unanswered or refused act was told."""
        for act in reversed(self.acts):
            if act.case_id == case_id and act.outcome != "ok":
                return f"{act.op} {act.outcome}: {act.refusal or ', '.join(act.failures)}"
        return ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class Officers:
    """Each agency's duty officer, signed in, calling the gateway or its own desk."""

    def __init__(self, data_dir: Path, journal: Journal, records: Records, *,
                 seed: int = 0) -> None:
        self.data_dir = data_dir
        self.journal = journal
        self.records = records
        # Which acts are asked a second time after their answer (see `act`).
        self._again = random.Random(seed)
        endpoints = Endpoints.read(data_dir)
        tls = server_only_channel(datadir.pki(data_dir).authority.read_bytes())
        self._channels = [grpc.aio.secure_channel(endpoints.gateway, tls,
                                                  options=expecting(Role.GATEWAY))]
        self._gateway = case_service_pb2_grpc.CaseServiceStub(self._channels[0])  # type: ignore[no-untyped-call]
        self._desks: dict[str, Any] = {}
        for agency, address in endpoints.desks.items():
            channel = grpc.aio.secure_channel(address, tls,
                                              options=expecting(role_of(agency), agency))
            self._channels.append(channel)
            self._desks[agency] = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
        self._sessions = {agency: Credential(data_dir, agency)
                          for agency in (LEAD, TAKER, DONE_BY[1], MISSED_BY[1])}
        for credential in self._sessions.values():  # signed in now, while all is up
            credential.token()

    async def aclose(self) -> None:
        for channel in self._channels:
            await channel.close(grace=None)

    def _metadata(self, agency: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self._sessions[agency].token()}"),)

    async def read(self, agency: str, case_id: str) -> Any:
        """The case as `agency` reads it from the engine (through the gateway)."""
        reply = await self._gateway.GetCase(pb.GetCaseRequest(case_id=case_id),
                                            metadata=self._metadata(agency),
                                            timeout=TRY_SECONDS)
        return reply.case

    async def open_probe(self, name: str) -> Callable[[], Awaitable[bool]]:
        """A case opened for probing, and the probe: whether reads through the whole
        platform answer — of the case (the gateway, Temporal, the worker's query), of an
        officer's work queue (the read model, in the ledger's database) and of the
        notices their agency holds (its own service and database)."""
        case_id = await self.open(name)
        if case_id is None:
            raise RuntimeError("the platform did not open the probe case")

        async def answers() -> bool:
            try:
                await self.read(TAKER, case_id)
                await self.list_inbox(TAKER)
                await self._gateway.ListNotices(pb.ListNoticesRequest(page_size=1),
                                                metadata=self._metadata(TAKER),
                                                timeout=TRY_SECONDS)
            except grpc.aio.AioRpcError:
                return False
            return True
        return answers

    async def list_inbox(self, agency: str) -> Any:
        """The agency's inbox as the console reads it (a page of 200)."""
        return await self._gateway.ListInbox(pb.CaseServiceListInboxRequest(page_size=200),
                                             metadata=self._metadata(agency),
                                             timeout=TRY_SECONDS)

    async def act(self, op: str, agency: str, case_id: str, task_id: str,
                  send: Callable[[str, Any, float], Awaitable[Any]],
                  keep: Callable[[Any], str],
                  names: Callable[[Any], tuple[str, str]] | None = None) -> Any:
        """Ask for the act until the platform answers it; the answer (None: refused or
        given up, written down as such). `names`: the case and task the answer names,
        for an act that creates them."""
        act = Act(op, agency, case_id, task_id, uuid.uuid4().hex, time.time())
        self.journal.acts.append(act)
        self.journal.in_flight[id(act)] = act
        give_up = time.monotonic() + GIVE_UP_SECONDS
        try:
            while True:
                act.tries += 1
                try:
                    reply = await send(act.request_id, self._metadata(agency), TRY_SECONDS)
                except grpc.aio.AioRpcError as err:
                    if err.code() not in UNANSWERED:
                        act.outcome, act.refusal = "refused", \
                            f"{err.code().name}: {err.details()}"
                        return None
                    act.failures.append(err.code().name)
                    if time.monotonic() > give_up:
                        act.outcome = "gave_up"
                        return None
                    await asyncio.sleep(min(0.5 * act.tries, 3.0))
                    continue
                act.answers.append(keep(reply))
                act.outcome = "ok"
                if names is not None:
                    act.case_id, act.task_id = names(reply)
                if self._again.random() < ASKED_AGAIN:
                    await self._ask_again(act, send, keep, agency)
                return reply
        finally:
            act.ended = time.time()
            self.journal.in_flight.pop(id(act), None)

    async def _ask_again(self, act: Act, send: Callable[[str, Any, float], Awaitable[Any]],
                         keep: Callable[[Any], str], agency: str) -> None:
        """The same request once more, as a client whose answer was lost would: it must
        be answered as the first time, and change nothing."""
        act.tries += 1
        try:
            act.answers.append(keep(await send(act.request_id, self._metadata(agency),
                                               TRY_SECONDS)))
        except grpc.aio.AioRpcError as err:
            if err.code() not in UNANSWERED:
                act.answers.append(f"refused {err.code().name}: {err.details()}")

    # ----- the steps -------------------------------------------------------------------

    async def open(self, subject: str) -> str | None:
        reply = await self.act("start", LEAD, "", "", lambda rid, md, t: self._gateway.OpenCase(
            pb.OpenCaseRequest(request_id=rid, type=CASE_TYPE, subject_key=subject,
                               title="Fault suite: restaurant fumes", jurisdiction=JURISDICTION,
                               location="Jinhaihu, Pinggu"), metadata=md, timeout=t),
            lambda r: _digest(r.case.id), lambda r: (r.case.id, ""))
        return None if reply is None else str(reply.case.id)

    async def dispatch(self, case_id: str, kind: str, assignee: str,
                       **clocks: str) -> Any:
        reply = await self.act("dispatch_task", LEAD, case_id, "", lambda rid, md, t:
                               self._gateway.DispatchTask(pb.DispatchTaskRequest(
                                   request_id=rid, case_id=case_id, kind=kind,
                                   assignee=assignee, **clocks),  # type: ignore[arg-type]
                                   metadata=md, timeout=t),
                               lambda r: _digest(r.task_id), lambda r: (case_id, r.task_id))
        if reply is None:
            return None
        return next(t for t in reply.case.tasks if t.id == reply.task_id)

    async def at_desk(self, op: str, action: int, assignee: str, case_id: str, task_id: str,
                      **fields: Any) -> Any:
        return await self.act(op, assignee, case_id, task_id, lambda rid, md, t:
                              self._desks[assignee].ActOnTask(agency_pb2.ActOnTaskRequest(
                                  request_id=rid, case_id=case_id, task_id=task_id,
                                  action=action, **fields),  # type: ignore[arg-type]
                                  metadata=md, timeout=t),
                              lambda r: _digest(r.item.task_id))

    async def withdraw(self, case_id: str, task_id: str) -> Any:
        return await self.act("withdraw_task", LEAD, case_id, task_id, lambda rid, md, t:
                              self._gateway.WithdrawTask(pb.CaseServiceWithdrawTaskRequest(
                                  request_id=rid, case_id=case_id, task_id=task_id,
                                  reason="its sign-for clock passed; done otherwise"),
                                  metadata=md, timeout=t), lambda r: "")

    async def offer(self, case_id: str) -> str | None:
        reply = await self.act("offer_handoff", LEAD, case_id, "", lambda rid, md, t:
                               self._gateway.OfferHandoff(pb.OfferHandoffRequest(
                                   request_id=rid, case_id=case_id, to_agency=TAKER,
                                   reason="the command centre follows it up"),
                                   metadata=md, timeout=t), lambda r: _digest(r.handoff_id))
        return None if reply is None else str(reply.handoff_id)

    async def accept(self, case_id: str, handoff_id: str) -> Any:
        return await self.act("accept_handoff", TAKER, case_id, "", lambda rid, md, t:
                              self._gateway.AcceptHandoff(pb.AcceptHandoffRequest(
                                  request_id=rid, case_id=case_id, handoff_id=handoff_id),
                                  metadata=md, timeout=t), lambda r: "")

    async def close(self, case_id: str) -> Any:
        return await self.act("close_case", TAKER, case_id, "", lambda rid, md, t:
                              self._gateway.CloseCase(pb.CloseCaseRequest(
                                  request_id=rid, case_id=case_id,
                                  summary="handled; the restaurant fixed its vents"),
                                  metadata=md, timeout=t), lambda r: "")

    async def arrived(self, assignee: str, case_id: str, task_id: str) -> bool:
        """Whether the task reached the assignee's own inbox database within bounds."""
        give_up = time.monotonic() + ARRIVAL_SECONDS
        while time.monotonic() < give_up:
            if await asyncio.to_thread(_in_inbox, self.records.agency(assignee), case_id,
                                       task_id):
                return True
            await asyncio.sleep(0.3)
        return False

    async def clock_fired(self, case_id: str, task_id: str, within: float) -> bool:
        give_up = time.monotonic() + within
        while time.monotonic() < give_up:
            try:
                case = await self.read(LEAD, case_id)
                task = next(t for t in case.tasks if t.id == task_id)
                if task.sign_by.misses >= 1:
                    return True
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(1.0)
        return False


def _in_inbox(agency: Engine, case_id: str, task_id: str) -> bool:
    try:
        with agency.connect() as connection:
            return connection.execute(
                text("SELECT 1 FROM inbox_item WHERE case_id = :case AND task_id = :task"),
                {"case": case_id, "task": task_id}).first() is not None
    except DBAPIError:  # the database restarting, or not made yet
        return False


async def run_case(officers: Officers) -> None:
    """One case, start to close (see the module's docstring); a step that does not go
    through leaves the case stuck, written down with the step."""
    journal = officers.journal
    case_id = await officers.open(f"FAULTS-{uuid.uuid4().hex[:12]}")
    if case_id is None:
        journal.stuck[f"unopened-{len(journal.stuck)}"] = "open"
        return
    journal.cases.append(case_id)

    def stuck(step: str) -> None:
        journal.stuck[case_id] = step

    done = await officers.dispatch(case_id, *DONE_BY)
    missed = await officers.dispatch(case_id, *MISSED_BY, sign_within=MISSED_SIGN_WITHIN)
    if done is None or missed is None:
        return stuck("dispatch")
    journal.clocks.append(Clock(case_id, missed.id, MISSED_BY[1], _epoch(missed.sign_by.deadline)))
    assignee = DONE_BY[1]
    if not await officers.arrived(assignee, case_id, done.id):
        return stuck("delivery")
    for op, action, fields in (
            ("sign_task", agency_pb2.TASK_ACTION_SIGN, {}),
            ("complete_task", agency_pb2.TASK_ACTION_COMPLETE,
             {"findings": "vents cleaned, owner warned",
              "evidence_refs": [f"{assignee}/notes/{done.id}"]})):
        if await officers.at_desk(op, action, assignee, case_id, done.id, **fields) is None:
            return stuck(op)
    if not await officers.clock_fired(case_id, missed.id, ARRIVAL_SECONDS):
        return stuck("clock")
    if await officers.withdraw(case_id, missed.id) is None:
        return stuck("withdraw_task")
    handoff = await officers.offer(case_id)
    if handoff is None:
        return stuck("offer_handoff")
    if await officers.accept(case_id, handoff) is None:
        return stuck("accept_handoff")
    if await officers.close(case_id) is None:
        return stuck("close_case")
    journal.finished.append(case_id)


def _epoch(stamp: Any) -> float:
    return float(stamp.seconds) + float(stamp.nanos) / 1e9


async def keep_busy(officers: Officers, *, concurrency: int, until: asyncio.Event) -> None:
    """`concurrency` officers' cases, one after the other each, until `until` is set;
    the cases under way then run to their end."""
    async def officer() -> None:
        while not until.is_set():
            try:
                await run_case(officers)
            except Exception as err:  # noqa: BLE001 - a case that broke is a figure
                officers.journal.stuck[f"broken-{len(officers.journal.stuck)}"] = \
                    f"{type(err).__name__}: {err}"
    await asyncio.gather(*(officer() for _ in range(concurrency)))
