"""The inbox as a work queue: what the open cases ask of the caller, from the read model.

Each case keeps its work items in the read model (`observability.projection`) in the
transaction that records its events, by the case's own rule (`workflows.rules.work`), so
an item follows its case as soon as the ledger has the case's change. A page is one
range of an index in queue order (the most overdue first), from where the last page
ended: no case is asked, and no backlog is cut.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from gateway import page_tokens
from gateway.errors import invalid
from observability import projection
from seamless.v1 import case_service_pb2 as pb

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class WorkPage:
    items: list[pb.WorkItem]
    next_page_token: str


def page_size(request: pb.CaseServiceListInboxRequest) -> int:
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"{request.page_size} is not between 0 and {MAX_PAGE_SIZE}")
    return request.page_size or DEFAULT_PAGE_SIZE


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


def _after(request: pb.CaseServiceListInboxRequest) -> projection.WorkPosition | None:
    position = page_tokens.opened(request)
    return None if position is None else projection.WorkPosition.decode(position)


def _read(ledger: Engine, viewer: str, request: pb.CaseServiceListInboxRequest
          ) -> tuple[list[pb.WorkItem], projection.WorkPosition | None]:
    with ledger.connect() as connection:
        return projection.work_page(connection, viewer, open_only=request.open_only,
                                    size=page_size(request), after=_after(request))


async def work_queue(ledger: Engine, request: pb.CaseServiceListInboxRequest, *,
                     viewer: str, now: datetime) -> WorkPage:
    """The viewer's work, one page in queue order. `viewer` is a verified agency id."""
    items, last = await asyncio.to_thread(_read, ledger, viewer, request)
    return WorkPage([as_of(item, now) for item in items],
                    page_tokens.seal(last.encode(), request) if last is not None else "")
