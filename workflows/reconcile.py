"""The engine reconciled with the ledger: what was done to cases past the platform.

Whoever reaches Temporal's frontend (any local user of the embedded default's dev
server; an engine operator anywhere) can terminate, cancel, reset or delete an
execution, or run a workflow of their own under the platform's ids. None of that passes
through a case's rules, so none of it reaches the ledger: a terminated case records no
CLOSED event, and its last gap would stay open blamed on the last agency. So it is
found here, by comparing the engine's executions (its visibility store) with the ledger
and the read model, and named case by case with what happened and when:

* ENDED_BY_ENGINE: a case's (or a rating's) run the engine terminated, cancelled or
  timed out (a reset terminates the run it replaces), with the reason it recorded;
* GONE_FROM_ENGINE: a case the ledger shows open of which the engine runs nothing
  (deleted, or ended as above before the engine's visibility forgot it);
* UNKNOWN_TO_LEDGER: a case or rating run on the platform's queue the ledger never heard
  of (a start the worker refused: forged, or sent past the gateway);
* FOREIGN_QUEUE: a workflow on a queue the platform does not serve (someone's own
  worker), or of a type the platform does not run on its queue;
* NOT_COMPARED: the engine could not be compared this time (and nothing above is known).

`audit verify` asks for it (oversight staff, who see every case), and so does the
oversight page, where a stalled case the engine ended shows as an intervention on the
engine, not as the last agency's wait. The worker runs it every few minutes and logs
what is new (`watch`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHistoryEventFilterType,
)

from observability import ledger, projection
from observability.accountability import is_rating_chain
from workflows.case_workflow import CASE_WORKFLOW
from workflows.continuation import CASE_MEMO
from workflows.ratings import RATING_WORKFLOW
from workflows.rules.opening import case_id as make_case_id
from workflows.rules.opening import split_case_id

log = logging.getLogger(__name__)

ENDED_BY_ENGINE = "ENDED_BY_ENGINE"
GONE_FROM_ENGINE = "GONE_FROM_ENGINE"
UNKNOWN_TO_LEDGER = "UNKNOWN_TO_LEDGER"
FOREIGN_QUEUE = "FOREIGN_QUEUE"
# The engine could not be compared at all this time (not answering, too slow).
NOT_COMPARED = "NOT_COMPARED"

PLATFORM_TYPES = (CASE_WORKFLOW, RATING_WORKFLOW)
_ENDED = {WorkflowExecutionStatus.TERMINATED: "terminated",
          WorkflowExecutionStatus.CANCELED: "cancelled",
          WorkflowExecutionStatus.TIMED_OUT: "timed out"}
# A running run younger than this may not have reached the ledger yet (its first
# append).
SETTLING = timedelta(minutes=2)
# How often the worker looks (`watch`).
WATCH_EVERY = timedelta(minutes=5)
HISTORY_READS_AT_ONCE = 8
# Bounds of what one look reports (every finding is one line of the audit).
MAX_FINDINGS = 1000
_MAX_SHOWN = 120


@dataclass(frozen=True)
class Finding:
    kind: str
    case_id: str
    workflow_id: str
    run_id: str
    at: datetime | None
    detail: str
    case_number: str = ""


@dataclass(frozen=True)
class _Run:
    execution: WorkflowExecution
    case_id: str


async def reconcile(client: Client, ledger_engine: Engine, *, task_queue: str,
                    now: datetime | None = None) -> list[Finding]:
    """Everything about the engine's executions that the ledger does not account for,
    the latest first."""
    moment = now or datetime.now(UTC)
    runs = [_Run(execution, await _case_of(execution))
            async for execution in client.list_workflows()]
    chains, open_cases = await asyncio.to_thread(_ledger_side, ledger_engine)
    # An ended run's reason is one more read of the engine each: a few at a time.
    reading = asyncio.Semaphore(HISTORY_READS_AT_ONCE)

    async def judged(run: _Run) -> Finding | None:
        async with reading:
            return await _judge(client, run, task_queue, chains, moment)
    findings = [f for f in await asyncio.gather(*(judged(run) for run in runs))
                if f is not None]
    running = {split_case_id(run.case_id)[0] for run in runs
               if run.execution.status is WorkflowExecutionStatus.RUNNING
               and _ours(run.execution, task_queue)}
    ended = {f.case_id for f in findings if f.kind == ENDED_BY_ENGINE}
    findings += [Finding(GONE_FROM_ENGINE, case, split_case_id(case)[0], "", None,
                         "the ledger shows the case open, but the engine runs nothing of "
                         "it: deleted from the engine, or ended past the platform")
                 for case in open_cases
                 if split_case_id(case)[0] not in running and case not in ended]
    findings.sort(key=lambda f: f.at or moment, reverse=True)
    return await asyncio.to_thread(_numbered, ledger_engine, findings[:MAX_FINDINGS])


async def _case_of(execution: WorkflowExecution) -> str:
    """The case (or rating chain) a run belongs to: a continued run names its case in
    its memo (sealed: a foreign run's memo does not open, and names nothing)."""
    try:
        named = (await execution.memo()).get(CASE_MEMO)
    except Exception:  # a memo that does not decode is no platform's
        named = None
    if isinstance(named, str) and named:
        return named
    return make_case_id(execution.id, execution.run_id)


def _ours(execution: WorkflowExecution, task_queue: str) -> bool:
    return execution.task_queue == task_queue and execution.workflow_type in PLATFORM_TYPES


async def _judge(client: Client, run: _Run, task_queue: str, chains: set[str],
                 now: datetime) -> Finding | None:
    execution = run.execution
    kind = execution.workflow_type[:_MAX_SHOWN]
    status = execution.status
    shown = status.name.lower() if status is not None else "unknown"

    def found(what: str, detail: str, at: datetime | None) -> Finding:
        return Finding(what, run.case_id, execution.id, execution.run_id, at, detail)

    if not _ours(execution, task_queue):
        where = (f"on queue {execution.task_queue[:_MAX_SHOWN]!r}, which the platform "
                 "does not serve" if execution.task_queue != task_queue
                 else "on the platform's queue, which runs no such workflow")
        return found(FOREIGN_QUEUE, f"a {kind} ran under {execution.id[:_MAX_SHOWN]} "
                     f"{where} ({shown})", execution.start_time)
    if status in _ENDED:
        why = await _why_ended(client, execution)
        return found(ENDED_BY_ENGINE, f"the engine {_ENDED[status]} this run of the "
                     f"{'rating' if is_rating_chain(run.case_id) else 'case'} at "
                     f"{_at(execution.close_time)}, past the platform{why}",
                     execution.close_time)
    # A run still going may not have reached the ledger yet; one that ended would have.
    settled = (status is not WorkflowExecutionStatus.RUNNING
               or execution.start_time < now - SETTLING)
    if settled and run.case_id not in chains and status is not None:
        return found(UNKNOWN_TO_LEDGER, f"a {kind} the ledger never heard of ({shown}; "
                     "a start the worker refused is one sent past the gateway)",
                     execution.start_time)
    return None


async def _why_ended(client: Client, execution: WorkflowExecution) -> str:
    """The reason and the identity the engine recorded for ending the run."""
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    async for event in handle.fetch_history_events(
            event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            ended = event.workflow_execution_terminated_event_attributes
            return (f": {ended.reason[:_MAX_SHOWN]!r} by "
                    f"{ended.identity[:_MAX_SHOWN] or 'an unnamed caller'}")
    return ""


def _at(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else "an unknown time"


_OPEN_CASES = text("SELECT case_id FROM case_view WHERE status != 'CLOSED'")
_NUMBERS = text("SELECT case_id, number FROM case_view WHERE case_id IN :cases"
               ).bindparams(bindparam("cases", expanding=True))


def _ledger_side(ledger_engine: Engine) -> tuple[set[str], list[str]]:
    """The chains the ledger holds, and the cases the read model shows open."""
    with Session(ledger_engine) as session:
        chains = set(ledger.case_ids(session=session))
        connection = session.connection()
        open_cases = [row[0] for row in connection.execute(_OPEN_CASES)] \
            if projection.is_ready(connection) else []
    return chains, open_cases


def _numbered(ledger_engine: Engine, findings: list[Finding]) -> list[Finding]:
    """The findings with their cases' numbers (the read model's)."""
    cases = sorted({f.case_id for f in findings})
    with ledger_engine.connect() as connection:
        numbers: dict[str, str] = {} if not cases or not projection.is_ready(connection) \
            else {row[0]: row[1] for row in connection.execute(_NUMBERS, {"cases": cases})}
    return [Finding(f.kind, f.case_id, f.workflow_id, f.run_id, f.at, f.detail,
                    numbers.get(f.case_id, "")) for f in findings]


async def watch(client: Client, ledger_engine: Engine, *, task_queue: str,
                every: timedelta = WATCH_EVERY) -> None:
    """The worker's periodic look: each finding logged once, when it is first seen
    (the first look after `every`, so a starting worker does its own work first)."""
    seen: set[tuple[str, str, str]] = set()
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            for finding in await reconcile(client, ledger_engine, task_queue=task_queue):
                key = (finding.kind, finding.workflow_id, finding.run_id)
                if key not in seen:
                    seen.add(key)
                    log.warning("engine reconciliation: %s %s %s: %s", finding.kind,
                                finding.case_number or finding.case_id,
                                _at(finding.at), finding.detail)
        except Exception:  # the next look tries again; the worker's work goes on
            log.exception("engine reconciliation failed")
