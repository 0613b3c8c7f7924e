"""An agency with a backlog far past what one list used to read (500 cases) sees all of
it, in queue order, page by page, over both transports: the most overdue first, no item
twice and none left out, even while new work arrives between pages. And the case list
pages the same way.

The backlog is written as the worker writes it (the ledger's append, with what each
case's rules project beside its events), into the gateway's own module platform; the
reads are the gateway's, as any officer makes them.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from seamless.v1 import case_service_pb2 as pb
from tests.gateway.harness import Gateway
from workflows.catalog_loader import load_catalog
from workflows.ledger_activities import LedgerActivities
from workflows.projection import project
from workflows.rules.case import CaseEngine
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor
from workflows.rules.opening import open_case

CATALOG = load_catalog()
NR, TOWNSHIP, STRANGER = "natural-resources", "jinhaihu-township", "health"
BACKLOG = 620
# The backlog's cases were opened over the past two days, one every five minutes: the
# oldest are long overdue, the newest not yet (their sign-for clock runs 10 minutes).
NOW = datetime.now(UTC)


def backlog_case(number: int, opened: datetime) -> CaseEngine:
    rules = CATALOG.rules_for("illegal-mining")
    assert rules is not None
    return open_case(OpenCase(
        request_id=f"backlog-{number}", actor=Actor(TOWNSHIP, "zhang.wei"),
        type="illegal-mining", subject_key=f"BACKLOG-{number:04d}-{NOW.timestamp()}",
        title=f"Quarry {number}", jurisdiction="jinhaihu",
        number=f"20261201-{number + 5000:04d}"),
        rules, now=opened)


def record(gw: Gateway, cases: list[CaseEngine]) -> None:
    activities = LedgerActivities(gw.ledger)
    for case in cases:
        batch = case.take_events()
        assert batch is not None
        activities._append(dataclasses.replace(batch, projection=project(case.state,
                                                                         case.rules)))


async def every_page(gw: Gateway, caller: str, request: pb.CaseServiceListInboxRequest,
                     transport: str, between: list[CaseEngine] | None = None
                     ) -> list[pb.WorkItem]:
    items: list[pb.WorkItem] = []
    while True:
        reply = await gw.call("ListInbox", request, caller, transport)
        items += reply.items
        if not reply.next_page_token:
            return items
        if between:  # new work arrives while the officer pages
            record(gw, [between.pop()])
        request = pb.CaseServiceListInboxRequest(
            page_size=request.page_size, open_only=request.open_only,
            page_token=reply.next_page_token)


def lateness(item: pb.WorkItem) -> datetime:
    """When the item was, or will be, late: the queue's order."""
    since = item.overdue_since if item.HasField("overdue_since") else item.deadline
    return since.ToDatetime(tzinfo=UTC)


@pytest.fixture(scope="module")
def backlog(own_gw: Gateway) -> list[CaseEngine]:
    """The backlog, recorded once for the module (whichever test runs first)."""
    cases = [backlog_case(n, NOW - timedelta(minutes=5 * (BACKLOG - n)))
             for n in range(BACKLOG)]
    record(own_gw, cases)
    return cases


async def test_a_backlog_past_the_old_cut_is_read_whole_in_queue_order(
        own_gw: Gateway, backlog: list[CaseEngine]) -> None:
    gw, cases = own_gw, backlog
    arriving = [backlog_case(BACKLOG + n, NOW - timedelta(days=30 + n)) for n in range(3)]
    for transport in ("grpc", "http"):
        request = pb.CaseServiceListInboxRequest(page_size=200, open_only=True)
        items = await every_page(gw, NR, request, transport,
                                 between=arriving if transport == "grpc" else None)
        keys = [(i.case_id, i.ref) for i in items]
        assert len(keys) == len(set(keys)), "an item was shown twice"
        # Every case of the backlog, each with its one task for natural resources.
        assert {c.state.id for c in cases} <= {i.case_id for i in items}
        assert all(i.open and i.action == pb.WORK_ACTION_SIGN for i in items)
        # The most overdue first: by the moment each was (or will be) late.
        assert [lateness(i) for i in items] == sorted(lateness(i) for i in items)
        overdue = [i for i in items if i.overdue]
        assert overdue and items[:len(overdue)] == overdue
        assert all(i.seconds_left < 0 for i in overdue)
    # Work that arrived while the officer paged sorted before where the officer was:
    # the next reading has it, and nothing already read was shown again meanwhile.
    after = await every_page(gw, NR, pb.CaseServiceListInboxRequest(page_size=200,
                                                                    open_only=True), "grpc")
    assert len(after) == BACKLOG + 3
    assert not all(i.overdue for i in after)
    assert not (await gw.call("ListInbox", pb.CaseServiceListInboxRequest(page_size=200),
                              STRANGER)).items


async def test_the_case_list_pages_through_every_case_newest_first(
        own_gw: Gateway, backlog: list[CaseEngine]) -> None:
    gw = own_gw
    seen: list[pb.CaseSummary] = []
    request = pb.ListCasesRequest(page_size=100)
    while True:
        reply = await gw.call("ListCases", request, TOWNSHIP)
        seen += reply.cases
        if not reply.next_page_token:
            break
        request = pb.ListCasesRequest(page_size=100, page_token=reply.next_page_token)
    ids = [c.id for c in seen]
    assert len(ids) == len(set(ids)) >= BACKLOG
    opened = [c.opened_at.ToDatetime() for c in seen]
    assert opened == sorted(opened, reverse=True)
    # Another caller cannot use the township's token (it names the township's query).
    first = await gw.call("ListCases", pb.ListCasesRequest(page_size=100), TOWNSHIP)
    refused = await gw.fails("ListCases", pb.ListCasesRequest(
        page_size=100, page_token=first.next_page_token), NR)
    assert refused.reason == "BAD_PAGE_TOKEN"
