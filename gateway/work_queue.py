"""The inbox as a work queue: what the open cases ask of the caller, read from the cases
themselves (`workflows.rules.work`), so every item follows its case.

The cases to read are found with one query of the search index: those the caller takes
part in, or that wait on it (the coordinator takes part in few cases but is waited on by
every escalation). Each is then asked what it asks of the caller (the `work` query), a
few at a time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from gateway import page_tokens
from gateway.errors import GatewayError, invalid
from observability import participation
from seamless.v1 import case_service_pb2 as pb
from workflows import client as cases
from workflows import continuation, search

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# How many open cases one inbox reads, the most recently opened first. An agency with
# more open cases than this has a backlog no list will fix; the answer says it is cut.
MAX_CASES = 500
# Cases asked for their work at once, and how long each may take to answer.
_CONCURRENT_QUERIES = 16
_QUERY_TIMEOUT = timedelta(seconds=10)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkPage:
    items: list[pb.WorkItem]
    next_page_token: str
    truncated: bool
    unanswered: list[str]


def query(viewer: str, open_only: bool, task_queue: str, sees_every_case: bool) -> str:
    """Open cases that wait on the viewer or (for all its work) that it takes part in.
    `viewer` is a verified agency id, never request text.

    Cases that never said whom they wait on (running since before the index did) are
    read whenever the viewer takes part in them."""
    waiting, taking_part = (f"{search.AWAITING.name} = '{viewer}'",
                            f"{search.PARTICIPANTS.name} = '{viewer}'")
    never_said = f"{search.AWAITING.name} IS NULL"
    if sees_every_case:  # the coordinator: every such case may hold its escalations
        cases = f"({waiting} OR {never_said})" if open_only else \
            f"({waiting} OR {taking_part} OR {never_said})"
    else:
        cases = f"({waiting} OR ({taking_part} AND {never_said}))" if open_only else \
            f"({waiting} OR {taking_part})"
    return (f"WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running' AND "
            f"TaskQueue = '{task_queue}' AND {search.STATUS.name} = 'OPEN' AND {cases}")


def page_size(request: pb.CaseServiceListInboxRequest) -> int:
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"{request.page_size} is not between 0 and {MAX_PAGE_SIZE}")
    return request.page_size or DEFAULT_PAGE_SIZE


async def _open_cases(client: Client, viewer: str, open_only: bool, task_queue: str,
                      sees_every_case: bool) -> tuple[list[str], bool]:
    found: list[str] = []
    async for execution in client.list_workflows(
            query(viewer, open_only, task_queue, sees_every_case), page_size=100,
            limit=MAX_CASES + 1):
        found.append(continuation.case_of_run(execution.id, execution.run_id or "",
                                              await execution.memo()))
    return found[:MAX_CASES], len(found) > MAX_CASES


async def _work(client: Client, case_ids: list[str], viewer: str
                ) -> tuple[list[pb.WorkItem], list[str]]:
    """What each case asks of the viewer, and the cases that did not answer. One case
    that does not answer (stuck, or its worker busy) leaves the rest of the inbox
    standing; none answering means the engine is down."""
    gate = asyncio.Semaphore(_CONCURRENT_QUERIES)

    async def one(case_id: str) -> list[pb.WorkItem] | None:
        async with gate:
            try:
                return await cases.get_work(client, case_id, viewer,
                                            timeout=_QUERY_TIMEOUT)
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return []  # gone since the list was made
                logger.warning("case %s did not say what it asks of %s: %s", case_id,
                               viewer, err.message)
                return None
            except WorkflowQueryFailedError as err:
                logger.error("case %s could not say what it asks of %s: %s", case_id,
                             viewer, err)
                return None
    answers = await asyncio.gather(*(one(c) for c in case_ids))
    unanswered = [c for c, items in zip(case_ids, answers, strict=True) if items is None]
    if unanswered and len(unanswered) == len(case_ids):
        raise GatewayError(grpc.StatusCode.UNAVAILABLE, "ENGINE_UNAVAILABLE",
                           "no case answered; the case worker may be down: try again "
                           "shortly")
    return [item for items in answers if items for item in items], unanswered


def as_of(item: pb.WorkItem, now: datetime) -> pb.WorkItem:
    """The item as of `now`: the time left, and whether (and since when) it is late. A
    step is late once its deadline passed; after a missed clock the deadline shown is
    the supervision's grace, and the lateness began at the deadline missed (already in
    overdue_since)."""
    if item.HasField("deadline"):
        deadline = item.deadline.ToDatetime(tzinfo=UTC)
        item.seconds_left = int((deadline - now).total_seconds())
        if item.open and not item.HasField("overdue_since") and deadline <= now:
            item.overdue_since.CopyFrom(item.deadline)
    item.overdue = item.open and item.HasField("overdue_since")
    return item


def _sort_key(item: pb.WorkItem) -> tuple[int, float]:
    """Overdue first, the longest overdue first; then the rest of the open work by
    deadline, and what has none by age; finished work and work waiting on others last,
    the newest first."""
    if item.overdue:
        return (0, item.overdue_since.ToNanoseconds() / 1e9)
    if item.open and item.HasField("deadline"):
        return (1, item.deadline.ToNanoseconds() / 1e9)
    if item.open:
        return (2, item.since.ToNanoseconds() / 1e9)
    return (3, -item.since.ToNanoseconds() / 1e9)


async def work_queue(client: Client, request: pb.CaseServiceListInboxRequest, *,
                     viewer: str, coordinator: str, task_queue: str, now: datetime
                     ) -> WorkPage:
    """The viewer's work in the cases the gateway's workers run (`task_queue`)."""
    size, offset = page_size(request), page_tokens.offset_of(request)
    case_ids, truncated = await _open_cases(
        client, viewer, request.open_only, task_queue,
        participation.sees_every_case(viewer, coordinator=coordinator))
    answered, unanswered = await _work(client, case_ids, viewer)
    items = [as_of(item, now) for item in answered if item.open or not request.open_only]
    items.sort(key=_sort_key)
    more = offset + size < len(items)
    return WorkPage(items[offset:offset + size],
                    page_tokens.next_token(offset + size, request) if more else "",
                    truncated, unanswered)
