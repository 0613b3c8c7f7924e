"""The inbox as a work queue: what the open cases ask of the caller, read from the cases
themselves (`workflows.rules.work`), so every item follows its case.

The cases to read are found with one query of the search index: those the caller takes
part in, or that wait on it (the coordinator takes part in few cases but is waited on by
every escalation). Each is then asked for its state, a few at a time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from gateway.errors import GatewayError, invalid
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows import client as cases
from workflows import search
from workflows.rules.opening import case_id as join_case_id
from workflows.rules.work import CaseWork, WorkItem
from workflows.to_proto import enum_value, timestamp

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# How many open cases one inbox reads, the most recently changed first. An agency with
# more open cases than this has a backlog no list will fix; the answer says it is cut.
MAX_CASES = 500
# Cases asked for their work at once, and how long each may take to answer.
_CONCURRENT_QUERIES = 16
_QUERY_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class WorkPage:
    items: list[pb.WorkItem]
    next_page_token: str
    truncated: bool


def query(viewer: str, open_only: bool, task_queue: str) -> str:
    """Open cases that wait on the viewer or (for all its work) that it takes part in.
    `viewer` is a verified agency id, never request text.

    Cases that never said whom they wait on (running since before the index did) are
    read whenever the viewer takes part in them."""
    waiting, taking_part = (f"{search.AWAITING.name} = '{viewer}'",
                            f"{search.PARTICIPANTS.name} = '{viewer}'")
    cases = (f"({waiting} OR ({taking_part} AND {search.AWAITING.name} IS NULL))"
             if open_only else f"({waiting} OR {taking_part})")
    return (f"WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running' AND "
            f"TaskQueue = '{task_queue}' AND {search.STATUS.name} = 'OPEN' AND {cases}")


def page_size(request: pb.CaseServiceListInboxRequest) -> int:
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"{request.page_size} is not between 0 and {MAX_PAGE_SIZE}")
    return request.page_size or DEFAULT_PAGE_SIZE


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == "work" and number.isdigit():
            return int(number)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise invalid("page_token", "is not a token this service issued; start without it",
                  "BAD_PAGE_TOKEN")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"work:{offset}".encode()).decode()


async def _open_cases(client: Client, viewer: str, open_only: bool, task_queue: str
                      ) -> tuple[list[str], bool]:
    found: list[str] = []
    async for execution in client.list_workflows(query(viewer, open_only, task_queue),
                                                 page_size=100, limit=MAX_CASES + 1):
        found.append(join_case_id(execution.id, execution.run_id or ""))
    return found[:MAX_CASES], len(found) > MAX_CASES


async def _work(client: Client, case_ids: list[str], viewer: str) -> list[CaseWork]:
    """What each case asks of the viewer. A case that does not answer fails the whole
    list: an inbox quietly missing work would be worse than none."""
    gate = asyncio.Semaphore(_CONCURRENT_QUERIES)

    async def one(case_id: str) -> CaseWork | None:
        async with gate:
            try:
                return await cases.get_work(client, case_id, viewer,
                                            timeout=_QUERY_TIMEOUT)
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return None  # gone since the list was made
                raise GatewayError(grpc.StatusCode.UNAVAILABLE, "ENGINE_UNAVAILABLE",
                                   f"case {case_id} did not answer ({err.message}); the "
                                   "case worker may be down: try again shortly") from None
            except WorkflowQueryFailedError as err:
                raise GatewayError(grpc.StatusCode.INTERNAL, "ENGINE_ERROR",
                                   f"case {case_id} could not say what it asks of you: "
                                   f"{err}") from None
    answers = await asyncio.gather(*(one(c) for c in case_ids))
    return [work for work in answers if work is not None]


def _sort_key(now: datetime) -> Callable[[tuple[CaseWork, WorkItem]], tuple[int, float]]:
    """Overdue first, the longest overdue first; then the rest of the open work by
    deadline, and what has none by age; finished work and work waiting on others last,
    the newest first."""
    def key(pair: tuple[CaseWork, WorkItem]) -> tuple[int, float]:
        _state, item = pair
        late = item.overdue_since(now)
        if late is not None:
            return (0, late.timestamp())
        if item.open and item.deadline is not None:
            return (1, item.deadline.timestamp())
        if item.open:
            return (2, item.since.timestamp())
        return (3, -item.since.timestamp())
    return key


def to_proto(case: CaseWork, item: WorkItem, now: datetime) -> pb.WorkItem:
    left = int((item.deadline - now).total_seconds()) if item.deadline else 0
    late = item.overdue_since(now)
    return pb.WorkItem(
        case_id=case.case_id, case_number=case.number, case_type=case.type,
        case_title=case.title, owner=case.owner,
        kind=f"WORK_KIND_{item.kind.value}", ref=item.ref, title=item.title,
        action=f"WORK_ACTION_{item.action.value}",
        next_step=item.next_step, open=item.open, since=timestamp(item.since),
        deadline=timestamp(item.deadline), seconds_left=left,
        overdue=late is not None, overdue_since=timestamp(late), misses=item.misses,
        task_state=enum_value(item.task_state) if item.task_state else
        case_pb2.TASK_STATE_UNSPECIFIED,
        detail=item.detail, asked_due=timestamp(item.asked_due), delivered=item.delivered)


async def work_queue(client: Client, request: pb.CaseServiceListInboxRequest, *,
                     viewer: str, task_queue: str, now: datetime) -> WorkPage:
    """The viewer's work in the cases the gateway's workers run (`task_queue`)."""
    size, offset = page_size(request), _offset(request.page_token)
    case_ids, truncated = await _open_cases(client, viewer, request.open_only, task_queue)
    pairs = [(case, item) for case in await _work(client, case_ids, viewer)
             for item in case.items if item.open or not request.open_only]
    pairs.sort(key=_sort_key(now))
    page = pairs[offset:offset + size]
    more = offset + size < len(pairs)
    return WorkPage([to_proto(s, i, now) for s, i in page],
                    _token(offset + size) if more else "", truncated)
