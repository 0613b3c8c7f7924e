"""Scripted cases with known gaps, on the time-skipping server: the analysis of the ledger
the real worker wrote reports every injected gap, with the right agency, duration,
deadline and breach, and no others."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from observability import analysis, gap_store
from observability.accountability import PLATFORM, Interval
from observability.ledger import open_ledger, stream_events
from tests.trust.kit import worker_seals
from tests.workflows.harness import Recorder, eventually
from workflows.catalog_loader import Catalog
from workflows.client import case_handle, get_case, open_case, send
from workflows.ledger_activities import LedgerActivities
from workflows.rules.commands import (
    AcceptHandoff,
    CloseCase,
    CompleteTask,
    DeclineTask,
    DispatchTask,
    OfferHandoff,
    OpenCase,
    ResolveEscalation,
    ReviewDecline,
    SignTask,
)
from workflows.rules.model import Actor, ReviewOutcome
from workflows.worker import build_worker

STREET = "urban-management"
MARKET = "market-regulation"
QUALITY = "quality-inspection"
FARMS = "agriculture-rural"
HEALTH = "health"
COORDINATOR = "command-center"
_n = 0


def rid() -> str:
    global _n
    _n += 1
    return f"truth-{_n}"


@dataclass(frozen=True, order=True)
class Found:
    """A gap as a person reads it off the oversight screen (minutes, rounded)."""

    kind: str
    accountable: str
    task_id: str
    minutes: int
    breached: bool


def found(gap: Interval, now: datetime) -> Found:
    return Found(gap.name, gap.accountable, gap.task_id, round(gap.seconds(now) / 60),
                 gap.breached(now))


@asynccontextmanager
async def worker_with_ledger(client: Client, database_url: str, recorder: Recorder
                             ) -> AsyncIterator[tuple[str, Engine]]:
    engine = open_ledger(database_url)
    ledger = LedgerActivities(engine)
    queue = f"truth-{uuid.uuid4()}"
    worker = build_worker(client, task_queue=queue, activities=[
        recorder.deliver_task, recorder.withdraw_task, recorder.send_notice,
        ledger.record_case_events], seals=worker_seals())
    async with worker:
        yield queue, engine
    engine.dispose()


async def open_food_case(client: Client, catalog: Catalog, queue: str, subject: str) -> str:
    # Stage "unlicensed": the street office leads and market regulation gets task T1.
    result = await open_case(client, catalog, OpenCase(
        rid(), Actor(STREET, "wang.fang"), "food-supply-chain", subject,
        "Unlicensed stalls selling the recalled batch", stage="unlicensed",
        jurisdiction="pinggu"), task_queue=queue)
    return result.case_id


def gaps_of(engine: Engine, now: datetime) -> list[Interval]:
    """The gaps the analysis of the whole ledger finds, after checking that the gap store
    (kept by the worker as it appends, and what ListGaps reads) holds the very same."""
    replays = list(analysis.replay_cases(stream_events(engine), now=now))

    def key(gap: Interval) -> tuple[object, ...]:
        return (gap.case_id, gap.name, gap.accountable, gap.task_id, gap.start, gap.end,
                gap.deadline, gap.breached(now))
    # All of them, and what is stalled now: the store's filters are the analysis's.
    for query in (analysis.GapQuery(), analysis.GapQuery(open_only=True),
                  analysis.GapQuery(open_only=True, breached_only=True)):
        found = analysis.analyse(replays, now=now, gap_query=query).gaps
        stored = gap_store.list_gaps(engine, query=query, now=now, visible_to=None,
                                     offset=0, limit=1000).gaps
        assert sorted(map(key, stored), key=repr) == sorted(map(key, found), key=repr)
    return analysis.analyse(replays, now=now).gaps


async def test_every_injected_gap_is_reported_with_its_agency_and_nothing_else(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog, database_url: str) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    recorder = Recorder(flaky={"T2": 2})  # T2's delivery fails twice before it lands
    async with worker_with_ledger(client, database_url, recorder) as (queue, engine):
        case_id = await open_food_case(client, catalog, queue, "BATCH-TRUTH-1")

        async def act(cmd: object) -> None:
            await send(client, case_id, cmd)  # type: ignore[arg-type]

        await act(OfferHandoff(rid(), Actor(STREET), QUALITY, "processing is the source"))
        await env.sleep(timedelta(minutes=10))
        await act(SignTask(rid(), Actor(MARKET), "T1"))                      # +0:10
        await env.sleep(timedelta(minutes=110))
        await act(AcceptHandoff(rid(), Actor(QUALITY), "H1"))                # +2:00
        await act(DispatchTask(rid(), Actor(QUALITY), "trace-production", FARMS,
                               sign_within="30m", due_within="1h"))         # T2, due +3:00
        await env.sleep(timedelta(minutes=45))
        await act(SignTask(rid(), Actor(FARMS), "T2"))                       # +2:45
        await env.sleep(timedelta(minutes=35))
        await act(DeclineTask(rid(), Actor(MARKET), "T1", "not a market matter"))  # +3:20
        await act(CompleteTask(rid(), Actor(FARMS), "T2", "traced to farm 12"))   # +3:20
        await env.sleep(timedelta(minutes=40))
        await act(ReviewDecline(rid(), Actor(QUALITY), "T1", ReviewOutcome.OVERRULED,
                                note="the stalls buy from your markets"))  # +4:00
        await env.sleep(timedelta(minutes=5))
        await act(SignTask(rid(), Actor(MARKET), "T1"))                      # +4:05
        await act(CompleteTask(rid(), Actor(MARKET), "T1", "recalled"))
        await act(OfferHandoff(rid(), Actor(QUALITY), HEALTH, "illness reported",
                               expires_within="1h"))                         # +4:05
        await env.sleep(timedelta(minutes=90))  # expires at +5:05 and escalates
        await act(ResolveEscalation(rid(), Actor(COORDINATOR), "E1",
                                    "quality inspection keeps the lead"))  # +5:35
        await act(CloseCase(rid(), Actor(QUALITY), "done"))
        await case_handle(client, case_id).result()

        now = datetime.now(UTC) + timedelta(days=30)  # everything has ended by then
        reported = sorted((found(g, now) for g in gaps_of(engine, now)),
                          key=lambda f: (f.kind, f.task_id, f.minutes))
        matrix = {(c.from_agency, c.to_agency): (c.offers, c.accepted,
                                                 round((c.median_wait_seconds or 0) / 60))
                  for c in gap_store.handoff_matrix(engine, since=None, visible_to=None)}
    assert matrix == {(STREET, QUALITY): (1, 1, 120), (QUALITY, HEALTH): (1, 0, 60)}
    assert reported == sorted([
        Found("HANDOFF_PENDING", STREET, "", 120, False),
        Found("HANDOFF_PENDING", QUALITY, "", 60, True),      # expired unanswered
        Found("ESCALATION", COORDINATOR, "", 30, False),
        Found("DISPATCH_UNSIGNED", MARKET, "T1", 10, False),
        Found("DISPATCH_UNSIGNED", MARKET, "T1", 5, False),   # sent back after review
        Found("DECLINE_REVIEW", QUALITY, "T1", 40, False),
        # Two failed deliveries: the platform held T2 up for its retries (seconds)...
        Found("DISPATCH_UNSIGNED", PLATFORM, "T2", 0, False),
        # ...then the farms office left it unsigned past its 30-minute clock.
        Found("DISPATCH_UNSIGNED", FARMS, "T2", 45, True),
        Found("OVERDUE", FARMS, "T2", 20, True),
    ], key=lambda f: (f.kind, f.task_id, f.minutes))


async def test_an_open_case_reports_its_gaps_as_still_open(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog, database_url: str) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with worker_with_ledger(client, database_url, Recorder()) as (queue, engine):
        case_id = await open_food_case(client, catalog, queue, "BATCH-TRUTH-2")
        await send(client, case_id, OfferHandoff(rid(), Actor(STREET), MARKET, "yours"))
        await env.sleep(timedelta(minutes=20))
        opened = (await get_case(client, case_id)).opened_at
        now = opened + timedelta(minutes=20)

        async def ledger_caught_up() -> bool:
            return len(gaps_of(engine, now)) == 2
        await eventually(ledger_caught_up)
        reported = sorted((found(g, now), g.end is None) for g in gaps_of(engine, now))
    assert reported == sorted([(Found("HANDOFF_PENDING", STREET, "", 20, False), True),
                               (Found("DISPATCH_UNSIGNED", MARKET, "T1", 20, False), True)])
