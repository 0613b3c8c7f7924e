"""The inbox is the work queue: every item that needs the caller, what to do next and by
when, overdue first; finished work only when asked for; each item follows its case; and
the notices the agency received have a place to be read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import grpc

from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from tests.gateway.harness import NO_CREDENTIAL, WRONG_CREDENTIAL, Gateway, task_of
from tests.gateway.test_case_service import (
    COORDINATOR,
    NR,
    STRANGER,
    TOWNSHIP,
    _escalated,
    act,
    open_mining,
    rid,
)

ALL = pb.CaseServiceListInboxRequest(page_size=200)
OPEN_ONLY = pb.CaseServiceListInboxRequest(page_size=200, open_only=True)


async def inbox(gw: Gateway, caller: str, case: case_pb2.Case,
                request: pb.CaseServiceListInboxRequest = ALL) -> list[pb.WorkItem]:
    reply = await gw.call("ListInbox", request, caller)
    return [i for i in reply.items if i.case_id == case.id]


async def inbox_until(gw: Gateway, caller: str, case: case_pb2.Case,
                      ready: Callable[[list[pb.WorkItem]], bool],
                      request: pb.CaseServiceListInboxRequest = ALL) -> list[pb.WorkItem]:
    """The caller's items of the case once `ready` holds (the search index the inbox
    reads trails each change by a moment)."""
    for _ in range(100):
        items = await inbox(gw, caller, case, request)
        if ready(items):
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"the inbox of {caller} never got there: {items}")


async def test_a_task_is_in_its_assignees_inbox_with_the_next_step_and_its_deadline(
        gw: Gateway) -> None:
    for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        assert (await gw.fails("ListInbox", ALL, caller)).code is \
            grpc.StatusCode.UNAUTHENTICATED
    case = await open_mining(gw)
    task = task_of(case, NR)
    (item,) = await inbox_until(gw, NR, case, lambda items: len(items) == 1)
    assert (item.kind, item.ref, item.action, item.open) == (
        pb.WORK_KIND_TASK, task.id, pb.WORK_ACTION_SIGN, True)
    assert (item.case_number, item.owner, item.title) == (case.number, TOWNSHIP, task.title)
    assert item.deadline == task.sign_by.deadline
    assert 0 < item.seconds_left <= 10 * 60 and not item.overdue
    await act(gw, "SignTask", NR, case_id=case.number, task_id=task.id)
    (item,) = await inbox_until(gw, NR, case,
                                lambda i: i[0].action == pb.WORK_ACTION_ARRIVE)
    assert item.deadline == task.on_scene_by.deadline
    assert await inbox(gw, STRANGER, case) == []


async def test_open_only_hides_finished_work_and_a_withdrawn_task_is_withdrawn(
        gw: Gateway) -> None:
    case = await open_mining(gw)
    task = task_of(case, NR)
    await act(gw, "WithdrawTask", TOWNSHIP, case_id=case.id, task_id=task.id,
              reason="reported twice")
    (item,) = await inbox_until(gw, NR, case, lambda i: len(i) == 1 and not i[0].open)
    assert item.task_state == case_pb2.TASK_STATE_WITHDRAWN
    assert item.action == pb.WORK_ACTION_NONE and "withdrawn" in item.next_step
    assert await inbox_until(gw, NR, case, lambda i: not i, OPEN_ONLY) == []


async def test_an_offer_is_the_receivers_and_the_owner_follows_the_case(
        gw: Gateway) -> None:
    case = await open_mining(gw)
    offer = await gw.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=rid(), case_id=case.number, to_agency=NR, reason="it is a mining case"),
        TOWNSHIP)
    items = await inbox_until(gw, NR, case, lambda i: len(i) == 2, OPEN_ONLY)
    (answer,) = [i for i in items if i.kind == pb.WORK_KIND_HANDOFF_OFFER]
    assert (answer.ref, answer.action, answer.detail) == (
        offer.handoff_id, pb.WORK_ACTION_ANSWER_HANDOFF, "it is a mining case")
    assert answer.HasField("deadline")
    await act(gw, "AcceptHandoff", NR, case_id=case.number, handoff_id=offer.handoff_id)
    police = await inbox_until(gw, "public-security", case, lambda i: i[0].owner == NR)
    assert [i.kind for i in police] == [pb.WORK_KIND_TASK]
    assert not [i for i in await inbox(gw, NR, case)
                if i.kind == pb.WORK_KIND_HANDOFF_OFFER]


async def test_declines_and_extensions_wait_in_the_owners_inbox(gw: Gateway) -> None:
    case = await open_mining(gw)
    nr_task, police_task = task_of(case, NR), task_of(case, "public-security")
    await act(gw, "DeclineTask", "public-security", case_id=case.number,
              task_id=police_task.id, reason="no crime reported")
    await act(gw, "SignTask", NR, case_id=case.number, task_id=nr_task.id)
    await act(gw, "RequestExtension", NR, case_id=case.number, task_id=nr_task.id,
              new_due_within="5d", reason="the rain")
    items = await inbox_until(gw, TOWNSHIP, case, lambda i: len(i) == 2, OPEN_ONLY)
    by_kind = {i.kind: i for i in items}
    review = by_kind[pb.WORK_KIND_DECLINE_REVIEW]
    assert (review.ref, review.action, review.detail) == (
        police_task.id, pb.WORK_ACTION_REVIEW_DECLINE, "no crime reported")
    extension = by_kind[pb.WORK_KIND_EXTENSION_DECISION]
    assert (extension.ref, extension.action) == (nr_task.id, pb.WORK_ACTION_DECIDE_EXTENSION)
    assert extension.HasField("asked_due")
    # The decliner's own item waits on the owner: not its work any more.
    (declined,) = await inbox(gw, "public-security", case)
    assert not declined.open and TOWNSHIP in declined.next_step


async def test_an_escalation_waits_in_the_coordinators_inbox_until_settled(
        gw: Gateway) -> None:
    scenario = await _escalated(gw)
    case = (await gw.call("GetCase", pb.GetCaseRequest(case_id=scenario.case_id),
                          COORDINATOR)).case
    (item,) = await inbox_until(gw, COORDINATOR, case, lambda i: len(i) == 1, OPEN_ONLY)
    assert (item.kind, item.action) == (pb.WORK_KIND_ESCALATION,
                                        pb.WORK_ACTION_RESOLVE_ESCALATION)
    await gw.call("ResolveEscalation", scenario.request, COORDINATOR)
    assert await inbox_until(gw, COORDINATOR, case, lambda i: not i, OPEN_ONLY) == []


async def test_overdue_work_comes_first_the_longest_overdue_first(gw: Gateway) -> None:
    case = await open_mining(gw)
    dispatched = []
    for sign_within in ("2s", "1s"):  # the second falls due first
        reply = await gw.call("DispatchTask", pb.DispatchTaskRequest(
            request_id=rid(), case_id=case.number, kind="work-safety",
            assignee="emergency-management", sign_within=sign_within), TOWNSHIP)
        dispatched.append(reply.task_id)
    await asyncio.sleep(2.2)
    items = await inbox_until(gw, "emergency-management", case,
                              lambda i: sum(1 for x in i if x.overdue) == 2, OPEN_ONLY)
    opening = task_of(case, "emergency-management").id
    assert [i.ref for i in items] == [dispatched[1], dispatched[0], opening]
    first = items[0]
    assert first.misses >= 1 and first.HasField("overdue_since")
    assert first.overdue_since.ToDatetime() < items[1].overdue_since.ToDatetime()
    assert not items[2].overdue


async def test_notices_have_a_place_to_be_read(gw: Gateway) -> None:
    case = await open_mining(gw)
    await gw.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=rid(), case_id=case.number, to_agency=NR, reason="it is a mining case"),
        TOWNSHIP)
    for _ in range(100):
        notices = [n for n in (await gw.call("ListNotices", pb.ListNoticesRequest(),
                                             NR)).notices if n.case_id == case.id]
        if notices:
            break
        await asyncio.sleep(0.05)
    (notice,) = notices
    assert (notice.case_number, notice.kind) == (case.number,
                                                 case_pb2.NOTICE_KIND_HANDOFF_OFFER)
    assert "offers the case to natural-resources" in notice.text and notice.unread
    others = (await gw.call("ListNotices", pb.ListNoticesRequest(), STRANGER)).notices
    assert not [n for n in others if n.case_id == case.id]


async def test_the_inbox_pages_and_a_token_serves_only_its_own_query(gw: Gateway) -> None:
    for _ in range(3):
        await open_mining(gw)
    whole = (await gw.call("ListInbox", OPEN_ONLY, NR)).items
    first = await gw.call("ListInbox", pb.CaseServiceListInboxRequest(
        page_size=2, open_only=True), NR)
    second = await gw.call("ListInbox", pb.CaseServiceListInboxRequest(
        page_size=2, open_only=True, page_token=first.next_page_token), NR)
    def keys(items: Iterable[pb.WorkItem]) -> list[tuple[str, str]]:
        return [(i.case_id, i.ref) for i in items]
    assert keys([*first.items, *second.items]) == keys(whole[:4])
    # The same token for the whole inbox (not only the open work), and a made-up one.
    for request in (pb.CaseServiceListInboxRequest(page_size=2,
                                                   page_token=first.next_page_token),
                    pb.CaseServiceListInboxRequest(page_token="not-a-token")):
        refused = await gw.fails("ListInbox", request, NR)
        assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                  "BAD_PAGE_TOKEN")
