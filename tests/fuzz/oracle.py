"""What must hold after any fuzzing: a refused request changed nothing.

Before the run the fuzzer makes a small world (cases in different states, a citizen's
report on its case) and lets it settle; the snapshot holds each world case as GetCase
gives it, its workflow's history length, the agencies' work queues and desk inboxes on
those cases, the ledger's last row and the gateway's reports.

Judging is by attribution, not by hoping nothing succeeded. Every request carries a
trace id of its own, and the ledger keeps the trace id behind every event, so:

* a new ledger event whose trace is a *refused* request's is a violation, named exactly;
* one whose trace is an accepted request's is that request's doing, and its case is
  "touched"; an event with no trace is a clock's, and touches its case too;
* an event of a trace nobody sent (the console and Open311 start their own traces) is
  allowed only as far as requests accepted on those doors explain it;
* a world case nothing touched (no new event, no accepted request naming it) must be
  exactly as it was: its GetCase bytes, its history length (a refused update writes
  nothing to the history), its items in the work queues and in the desk inboxes;
* new reports are at most the report submissions accepted;
* an agency's officers and sessions change only by a roster request accepted at its
  desk (a session is added by an accepted sign-in).

A change the ledger never records (a workflow that took a refused update without an
event) still shows in the history length and GetCase of an untouched case.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from sqlalchemy import text

from seamless.v1 import (
    case_pb2,
    case_service_pb2_grpc,
    report_pb2_grpc,
)
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as rp
from tests.fuzz.answers import Answer
from tests.fuzz.probes import Probe, Transport
from tests.fuzz.target import Target
from trust.pki import Role
from trust.tls import expecting, server_only_channel
from workflows.rules.opening import split_case_id

# What an agency keeps of a case: the tasks delivered to it, the notices it received,
# the findings its officers submitted.
_AGENCY_ROWS = {"inbox_item": "task_id, round, withdrawn, task_state",
                "notice": "kind, task_id, handoff_id", "finding": "task_id, request_id"}
# What a case records on its own as time passes (its clocks), with no request behind it.
CLOCK_KINDS = frozenset({"LINE_MISSED", "NOTICE", "NOTICE_DELIVERED", "ESCALATION",
                         "DEEMED_CONSENT", "HANDOFF_EXPIRED"})
# What changes a roster when accepted (a sign-in adds a session; the console's and the
# programs' sign-in too).
ROSTER_CHANGES = frozenset({"RosterService/SignIn", "RosterService/AddOfficer",
                            "RosterService/DisableOfficer", "RosterService/ResetPassword",
                            "RosterService/ChangePassword"})
SIGN_INS = frozenset({"RosterService/SignIn", "POST /login", "POST /auth/sign-in"})
Event = tuple[int, str, str, str]  # a ledger row: its id, case id, kind, trace id
LEAD, HOTLINE = "duty-officer@jinhaihu-township", "duty-officer@command-center"
SETTLE_SECONDS = 90.0


@dataclass(frozen=True)
class WorldCase:
    id: str
    refs: tuple[str, ...]  # every way a request may name it: id, number, id sans run


@dataclass
class World:
    cases: list[WorldCase]
    report_ids: list[str]

    def case_of(self, ref: str) -> str | None:
        ref = ref.strip()
        return next((c.id for c in self.cases if ref in c.refs), None)


@dataclass
class Snapshot:
    cases: dict[str, bytes]
    history: dict[str, int]
    pending: int  # activities the world's workflows still run
    last_event: int
    inboxes: dict[str, set[tuple[Any, ...]]]
    reports: int
    # Each agency's roster: its officers (roles, password hash, disabled) and sessions
    # (ended or not); failed sign-in counts left out, a refused sign-in adds to them.
    rosters: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    touched: dict[str, str] = field(default_factory=dict)  # world case: what touched it
    checked: list[str] = field(default_factory=list)


def _public(target: Target) -> grpc.aio.Channel:
    return grpc.aio.secure_channel(target.public, server_only_channel(target.authority),
                                   options=expecting(Role.GATEWAY))


def _as(target: Target, caller: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {target.sessions[caller]}"),)


async def make_world(target: Target) -> World:
    """Two mining cases, one with every task done (nothing left to tick) and one just
    opened, and a hotline report on a case of its own."""
    await target.sign_in([LEAD, HOTLINE])
    async with _public(target) as channel:
        cases = case_service_pb2_grpc.CaseServiceStub(channel)  # type: ignore[no-untyped-call]
        opened = []
        for _ in range(2):
            reply = await cases.OpenCase(cs.OpenCaseRequest(
                request_id=f"fuzz-{uuid.uuid4()}", type="illegal-mining",
                subject_key=f"FUZZ-{uuid.uuid4().hex[:10]}", title="Quarrying by night",
                jurisdiction="jinhaihu"), metadata=_as(target, LEAD), timeout=60)
            opened.append(reply.case)
        reports = report_pb2_grpc.ReportServiceStub(channel)  # type: ignore[no-untyped-call]
        report = (await reports.SubmitReport(rp.SubmitReportRequest(
            request_id=f"fuzz-{uuid.uuid4()}", channel="hotline",
            service_code="night-quarrying", description="blasting at night",
            lat=40.17, lon=117.35, located=True,
            attributes=[rp.ReportAttribute(code="site", value=f"pit {uuid.uuid4().hex[:6]}")]),
            metadata=_as(target, HOTLINE), timeout=60)).report
        await _finish_tasks(target, cases, opened[0])
    world = World([], [report.id])
    for case_id in [c.id for c in opened] + [report.case_id]:
        case = await _case(target, case_id)
        world.cases.append(WorldCase(case.id, tuple(dict.fromkeys(
            r for r in (case.id, case.number, split_case_id(case.id)[0]) if r))))
    return world


async def _finish_tasks(target: Target, cases: Any, case: case_pb2.Case) -> None:
    for task in case.tasks:
        caller = f"duty-officer@{task.assignee}"
        await target.sign_in([caller])
        for method, extra in (("SignTask", {}), ("ArriveOnScene", {}), ("CompleteTask", {
                "findings": "site secured", "evidence_refs": ["photo-1"]})):
            request = getattr(cs, f"{method}Request")(
                request_id=f"fuzz-{uuid.uuid4()}", case_id=case.id, task_id=task.id, **extra)
            await getattr(cases, method)(request, metadata=_as(target, caller), timeout=60)


async def _case(target: Target, case_id: str) -> case_pb2.Case:
    await target.sign_in([HOTLINE])  # the coordinator's hotline sees every case
    async with _public(target) as channel:
        stub = case_service_pb2_grpc.CaseServiceStub(channel)  # type: ignore[no-untyped-call]
        reply = await stub.GetCase(cs.GetCaseRequest(case_id=case_id),
                                   metadata=_as(target, HOTLINE), timeout=60)
    case: case_pb2.Case = reply.case
    return case


async def snapshot(target: Target, world: World, inbox_callers: Sequence[str]) -> Snapshot:
    cases, history, pending = {}, {}, 0
    for case in world.cases:
        cases[case.id] = (await _case(target, case.id)).SerializeToString(deterministic=True)
        workflow, run = split_case_id(case.id)
        described = await target.temporal.get_workflow_handle(
            workflow, run_id=run or None).describe()
        history[case.id] = described.history_length
        pending += len(described.raw_description.pending_activities)
    ids = {c.id for c in world.cases}
    inboxes: dict[str, set[tuple[Any, ...]]] = {}
    await target.sign_in(list(inbox_callers))
    async with _public(target) as channel:
        stub = case_service_pb2_grpc.CaseServiceStub(channel)  # type: ignore[no-untyped-call]
        for caller in inbox_callers:
            reply = await stub.ListInbox(cs.CaseServiceListInboxRequest(page_size=200),
                                         metadata=_as(target, caller), timeout=60)
            inboxes[f"queue {caller}"] = {
                (i.case_id, i.kind, i.ref, i.action, i.open, i.task_state, i.delivered,
                 i.deadline.seconds, i.misses) for i in reply.items if i.case_id in ids}
    rosters: dict[str, set[tuple[Any, ...]]] = {}
    for agency, engine in target.agency_databases.items():
        with engine.connect() as db:
            for table, columns in _AGENCY_ROWS.items():
                rows = db.execute(text(f"select case_id, {columns} from {table}")).all()
                inboxes[f"{agency} {table}"] = {tuple(r) for r in rows if r[0] in ids}
            rosters[agency] = {("officer", *r) for r in db.execute(text(
                "select officer_id, roles, password_hash, disabled from officer")).all()} | {
                ("session", r[0], r[1] is not None) for r in db.execute(text(
                    "select session_id, ended_at from officer_session")).all()}
    with target.ledger.connect() as db:
        last = db.execute(text("select coalesce(max(id), 0) from ledger_entry")).scalar_one()
    with target.gateway_db.connect() as db:
        reports = db.execute(text("select count(*) from report")).scalar_one()
    return Snapshot(cases, history, pending, int(last), inboxes, int(reports), rosters)


async def settled(target: Target, world: World, inbox_callers: Sequence[str]) -> Snapshot:
    """A snapshot once the world has stopped moving: every task delivered, no activity
    running, and the same twice over a second (deliveries and ledger appends trail the
    requests that caused them)."""
    give_up = time.monotonic() + SETTLE_SECONDS
    last = await snapshot(target, world, inbox_callers)
    while True:
        await asyncio.sleep(1.0)
        now = await snapshot(target, world, inbox_callers)
        undelivered = any(not t.delivered and t.state == case_pb2.TASK_STATE_DISPATCHED
                          for c in now.cases.values() for t in case_pb2.Case.FromString(c).tasks)
        if now == last and not now.pending and not undelivered:
            return now
        if time.monotonic() > give_up:
            raise AssertionError("the world did not settle within "
                                 f"{SETTLE_SECONDS:.0f} s (deliveries still running?)")
        last = now


def new_events(target: Target, after: int) -> list[Event]:
    with target.ledger.connect() as db:
        rows = db.execute(text("select id, case_id, kind, trace_id from ledger_entry "
                               "where id > :after order by id"), {"after": after}).all()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def _creates_report(probe: Probe) -> bool:
    return probe.rpc.endswith(("SubmitReport", "POST /requests.{fmt}", "POST /intake"))


def judge(world: World, before: Snapshot, after: Snapshot,
          sent: Sequence[tuple[Probe, Answer]], events: Sequence[Event]) -> Verdict:
    """The verdict on a run: `events` are the ledger's rows after `before` was taken."""
    verdict = Verdict()
    by_trace = {a.trace_id: (p, a) for p, a in sent}
    world_ids = {c.id for c in world.cases}
    untraced_ok = [(p, a) for p, a in sent if a.ok and p.mutating and
                   p.transport in (Transport.OPEN311, Transport.CONSOLE)]
    # The world cases the doors without our traces accepted a request on (by its form).
    untraced_named = {world.case_of(ref) for _p, a in untraced_ok for ref in a.cases}
    for probe, answer in sent:
        for ref in answer.cases if answer.ok and probe.mutating else ():
            if (named := world.case_of(ref)) is not None:
                verdict.touched.setdefault(named, f"accepted {probe.transport} {probe.rpc}")
    platform: dict[str, list[str]] = {}
    unexplained = 0
    for _id, case_id, kind, trace in events:
        found = by_trace.get(trace)
        if found is not None and not found[1].ok:
            probe, answer = found
            verdict.violations.append(
                f"{probe.transport} {probe.rpc} was refused ({answer.status}: "
                f"{answer.message[:120]}) yet the ledger recorded {kind} on {case_id}")
        elif found is not None and case_id in world_ids:
            verdict.touched.setdefault(case_id, f"accepted {found[0].transport} {found[0].rpc}")
        elif not trace and case_id in world_ids:
            platform.setdefault(case_id, []).append(kind)
        elif trace and found is None:
            if case_id in world_ids and case_id not in untraced_named:
                verdict.violations.append(f"{kind} on {case_id} was recorded for a request "
                                          "the fuzzer did not send or that named another case")
            unexplained += 1
    if unexplained and not untraced_ok:
        verdict.violations.append(f"{unexplained} new ledger events carry traces of no "
                                  "request the fuzzer sent, and no untraced door accepted any")
    # The platform's own events (no trace): a clock's, or what follows an accepted change
    # (a delivery); on a case nobody changed, only a clock's.
    for case_id, kinds in platform.items():
        if case_id in verdict.touched:
            continue
        if set(kinds) <= CLOCK_KINDS:
            verdict.touched[case_id] = f"its clocks ({', '.join(sorted(set(kinds)))})"
        else:
            verdict.violations.append(f"{case_id}: the platform recorded {sorted(kinds)} "
                                      "though no request on it was accepted")
    for case in world.cases:
        if case.id in verdict.touched:
            continue
        verdict.checked.append(case.id)
        if before.cases[case.id] != after.cases[case.id] or \
                before.history[case.id] != after.history[case.id]:
            verdict.violations.append(
                f"{case.id} changed (history {before.history[case.id]} -> "
                f"{after.history[case.id]} events) though no request naming it was accepted")
    quiet = set(verdict.checked)
    for name, items in before.inboxes.items():
        was = {i for i in items if i[0] in quiet}
        now = {i for i in after.inboxes.get(name, set()) if i[0] in quiet}
        if was != now:
            verdict.violations.append(f"{name} changed on untouched cases: "
                                      f"-{sorted(was - now)} +{sorted(now - was)}")
    _judge_rosters(before, after, sent, verdict)
    accepted_reports = sum(1 for p, a in sent if a.ok and _creates_report(p))
    if after.reports - before.reports > accepted_reports:
        verdict.violations.append(
            f"{after.reports - before.reports} new reports but only {accepted_reports} "
            "report submissions were accepted")
    return verdict


def _judge_rosters(before: Snapshot, after: Snapshot, sent: Sequence[tuple[Probe, Answer]],
                   verdict: Verdict) -> None:
    """Officers and their sessions change only by an accepted roster request at the
    agency's desk; a session is added only by an accepted sign-in."""
    changers = {p.caller.partition("@")[2] for p, a in sent if a.ok and
                p.transport is Transport.DESK and p.rpc in ROSTER_CHANGES}
    signed_in = any(a.ok and p.rpc in SIGN_INS for p, a in sent)
    for agency, rows in before.rosters.items():
        now = after.rosters.get(agency, set())
        if agency in changers:
            continue
        added = {r for r in now - rows if r[0] == "officer" or not signed_in}
        if rows - now or added:
            verdict.violations.append(f"{agency}'s roster changed though no roster request "
                                      f"there was accepted: -{sorted(rows - now)} "
                                      f"+{sorted(added)}")
