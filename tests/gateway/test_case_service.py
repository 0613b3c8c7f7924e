"""CaseService, every RPC from every side: the allowed caller succeeds, a missing or
wrong credential is UNAUTHENTICATED, an agency taking no part gets NOT_FOUND and
changes nothing; and bad inputs get the right status and change nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from tests.gateway.harness import NO_CREDENTIAL, TRANSPORTS, WRONG_CREDENTIAL, Gateway

TOWNSHIP, NR, COORDINATOR = "jinhaihu-township", "natural-resources", "command-center"
STRANGER = "traffic-police"  # takes no part in the mining cases below


def rid() -> str:
    return f"t-{uuid.uuid4()}"


async def open_mining(gw: Gateway) -> case_pb2.Case:
    reply = await gw.call("OpenCase", pb.OpenCaseRequest(
        request_id=rid(), type="illegal-mining", subject_key=f"Q-{uuid.uuid4().hex[:10]}",
        title="Quarrying by night", jurisdiction="jinhaihu"), TOWNSHIP)
    case: case_pb2.Case = reply.case
    return case


async def get(gw: Gateway, case_id: str) -> case_pb2.Case:
    reply = await gw.call("GetCase", pb.GetCaseRequest(case_id=case_id), COORDINATOR)
    case: case_pb2.Case = reply.case
    return case


async def act(gw: Gateway, method: str, caller: str, **fields: object) -> case_pb2.Case:
    request = getattr(pb, f"{method}Request", None) or getattr(pb, f"CaseService{method}Request")
    reply = await gw.call(method, request(request_id=rid(), **fields), caller)
    case: case_pb2.Case = reply.case
    return case


async def settled(gw: Gateway, case_id: str) -> case_pb2.Case:
    """The case once every live task has reached its agency (deliveries run on their
    own, so a snapshot taken earlier could change under the test)."""
    for _ in range(200):
        case = await get(gw, case_id)
        if all(t.delivered for t in case.tasks if t.state == case_pb2.TASK_STATE_DISPATCHED):
            return case
        await asyncio.sleep(0.05)
    raise AssertionError(f"the tasks of {case_id} were not delivered")


def later(days: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC) + timedelta(days=days))
    return stamp


@dataclass
class Scenario:
    """A case in the state an RPC needs, the request, and who may send it."""

    method: str
    request: Message
    allowed: str
    case_id: str = ""


Setup = Callable[[Gateway], Awaitable[Scenario]]


async def _case_request(gw: Gateway, method: str, allowed: str,
                        prepare: Callable[[case_pb2.Case], Awaitable[None]] | None = None,
                        **fields: object) -> Scenario:
    case = await open_mining(gw)
    if prepare is not None:
        await prepare(case)
    request_type = getattr(pb, f"{method}Request", None) or \
        getattr(pb, f"CaseService{method}Request")
    t1 = case.tasks[0].id
    values = {k: (t1 if v == "T1" else v) for k, v in fields.items()}
    if "request_id" in request_type.DESCRIPTOR.fields_by_name:
        values["request_id"] = rid()
    request = request_type(case_id=case.id, **values)
    return Scenario(method, request, allowed, case.id)


Step = tuple[str, str, dict[str, Any]]


def _steps(gw: Gateway, *steps: Step
           ) -> Callable[[case_pb2.Case], Awaitable[None]]:
    async def run(case: case_pb2.Case) -> None:
        for method, caller, fields in steps:
            await act(gw, method, caller, case_id=case.id,
                      **{k: (case.tasks[0].id if v == "T1" else v) for k, v in fields.items()})
    return run


async def _offered(gw: Gateway, method: str, caller: str, **extra: object) -> Scenario:
    case = await open_mining(gw)
    offer = await gw.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=rid(), case_id=case.id, to_agency=NR, reason="theirs"), TOWNSHIP)
    request = getattr(pb, f"{method}Request")(request_id=rid(), case_id=case.id,
                                              handoff_id=offer.handoff_id, **extra)
    return Scenario(method, request, caller, case.id)


async def _escalated(gw: Gateway) -> Scenario:
    case = await open_mining(gw)
    await gw.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=rid(), case_id=case.id, to_agency=NR, reason="theirs",
        expires_within="1s"), TOWNSHIP)
    for _ in range(100):  # the offer expires and escalates to the coordinator
        escalations = (await get(gw, case.id)).escalations
        if escalations:
            return Scenario("ResolveEscalation", pb.ResolveEscalationRequest(
                request_id=rid(), case_id=case.id, escalation_id=escalations[0].id,
                resolution="the township keeps it"), COORDINATOR, case.id)
        await asyncio.sleep(0.1)
    raise AssertionError("the expired offer did not escalate")


async def _closable(gw: Gateway) -> Scenario:
    case = await open_mining(gw)
    for task in case.tasks:
        await act(gw, "WithdrawTask", TOWNSHIP, case_id=case.id, task_id=task.id)
    return Scenario("CloseCase", pb.CloseCaseRequest(request_id=rid(), case_id=case.id),
                    TOWNSHIP, case.id)


# The coordinator makes natural resources the lead, which may then object (派单异议).
ASSIGNED_TO_NR: Step = ("AssignOwner", COORDINATOR, {"agency": NR, "reason": "its site"})
OBJECTED: Step = ("ObjectToLead", NR, {"reason": "the township controls the site",
                                       "suggested_agency": TOWNSHIP})

SIGNED: Step = ("SignTask", NR, {"task_id": "T1"})
ON_SCENE: Step = ("ArriveOnScene", NR, {"task_id": "T1"})

CASE_RPCS: dict[str, Setup] = {
    "GetCase": lambda gw: _case_request(gw, "GetCase", TOWNSHIP),
    "DispatchTask": lambda gw: _case_request(gw, "DispatchTask", TOWNSHIP,
                                             kind="work-safety",
                                             assignee="emergency-management"),
    "SignTask": lambda gw: _case_request(gw, "SignTask", NR, task_id="T1"),
    "ArriveOnScene": lambda gw: _case_request(gw, "ArriveOnScene", NR,
                                              _steps(gw, SIGNED), task_id="T1"),
    "CompleteTask": lambda gw: _case_request(gw, "CompleteTask", NR,
                                             _steps(gw, SIGNED, ON_SCENE), task_id="T1",
                                             findings="ore seized"),
    "DeclineTask": lambda gw: _case_request(gw, "DeclineTask", NR, task_id="T1",
                                            reason="not ours"),
    "ReviewDecline": lambda gw: _case_request(
        gw, "ReviewDecline", TOWNSHIP,
        _steps(gw, ("DeclineTask", NR, {"task_id": "T1", "reason": "not ours"})),
        task_id="T1", outcome=case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED),
    "RequestExtension": lambda gw: _case_request(gw, "RequestExtension", NR,
                                                 _steps(gw, SIGNED), task_id="T1",
                                                 new_due_time=later(20), reason="lab"),
    "DecideExtension": lambda gw: _case_request(
        gw, "DecideExtension", TOWNSHIP,
        _steps(gw, SIGNED, ("RequestExtension", NR, {"task_id": "T1",
                                                     "new_due_time": later(20),
                                                     "reason": "lab"})),
        task_id="T1", grant=True),
    "WithdrawTask": lambda gw: _case_request(gw, "WithdrawTask", TOWNSHIP, task_id="T1"),
    "OfferHandoff": lambda gw: _case_request(gw, "OfferHandoff", TOWNSHIP, to_agency=NR,
                                             reason="theirs"),
    "AcceptHandoff": lambda gw: _offered(gw, "AcceptHandoff", NR),
    "DeclineHandoff": lambda gw: _offered(gw, "DeclineHandoff", NR, reason="not ours"),
    "WithdrawHandoff": lambda gw: _offered(gw, "WithdrawHandoff", TOWNSHIP),
    "AssignOwner": lambda gw: _case_request(gw, "AssignOwner", COORDINATOR, agency=NR,
                                            reason="dispute settled"),
    "ResolveEscalation": _escalated,
    "CloseCase": _closable,
    "ObjectToLead": lambda gw: _case_request(gw, "ObjectToLead", NR, _steps(gw, ASSIGNED_TO_NR),
                                             reason="the township controls the site"),
    "DecideObjection": lambda gw: _case_request(
        gw, "DecideObjection", COORDINATOR, _steps(gw, ASSIGNED_TO_NR, OBJECTED),
        objection_id="O1", outcome=case_pb2.OBJECTION_OUTCOME_UPHELD),
}


def test_every_rpc_of_the_contract_is_covered() -> None:
    service = pb.DESCRIPTOR.services_by_name["CaseService"]
    others = {"OpenCase", "ListCases", "ListInbox", "ListNotices", "ListAgencies",
              "ListPlaybooks"}
    assert {m.name for m in service.methods} == set(CASE_RPCS) | others


@pytest.mark.parametrize("rpc", sorted(CASE_RPCS))
async def test_case_rpc_triad(gw: Gateway, rpc: str) -> None:
    """On both transports: no credential or a wrong one is UNAUTHENTICATED, a stranger
    NOT_FOUND, and neither changes anything; the allowed caller succeeds, and the same
    request again over the other transport is the same answer, not a second change."""
    scenario = await CASE_RPCS[rpc](gw)
    before = await settled(gw, scenario.case_id)
    for transport in TRANSPORTS:
        for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
            failure = await gw.fails(scenario.method, scenario.request, caller, transport)
            assert (failure.code, failure.reason) == (grpc.StatusCode.UNAUTHENTICATED,
                                                      "UNAUTHENTICATED")
        stranger = await gw.fails(scenario.method, scenario.request, STRANGER, transport)
        assert (stranger.code, stranger.reason) == (grpc.StatusCode.NOT_FOUND,
                                                    "CASE_NOT_FOUND")
        assert stranger.message == f"there is no case {scenario.case_id}"
    assert await get(gw, scenario.case_id) == before
    # Half the RPCs succeed first over gRPC, the other half first over HTTP.
    first, again = TRANSPORTS if sorted(CASE_RPCS).index(rpc) % 2 else TRANSPORTS[::-1]
    reply = await gw.call(scenario.method, scenario.request, scenario.allowed, first)
    assert reply.case.id == scenario.case_id
    after = await settled(gw, scenario.case_id)
    retried = await gw.call(scenario.method, scenario.request, scenario.allowed, again)
    assert retried.case.id == scenario.case_id
    assert len((await settled(gw, scenario.case_id)).acts) == len(after.acts)


async def test_a_closed_case_is_as_absent_to_a_stranger_as_a_wrong_id(gw: Gateway) -> None:
    scenario = await _closable(gw)
    await gw.call("CloseCase", scenario.request, TOWNSHIP)
    late = pb.SignTaskRequest(request_id=rid(), case_id=scenario.case_id, task_id="T1")
    failure = await gw.fails("SignTask", late, STRANGER)
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND")
    participant = await gw.fails("SignTask", late, NR)
    assert participant.code is grpc.StatusCode.FAILED_PRECONDITION
    missing = await gw.fails("GetCase", pb.GetCaseRequest(case_id=scenario.case_id + "x"),
                             TOWNSHIP)
    assert missing.code is grpc.StatusCode.NOT_FOUND


async def test_open_case_triad_and_duplicate_subject(gw: Gateway) -> None:
    request = pb.OpenCaseRequest(request_id=rid(), type="illegal-mining",
                                 subject_key=f"Q-{uuid.uuid4().hex[:10]}",
                                 title="Quarrying", jurisdiction="jinhaihu")
    for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        assert (await gw.fails("OpenCase", request, caller)).code is \
            grpc.StatusCode.UNAUTHENTICATED
    case = (await gw.call("OpenCase", request, TOWNSHIP)).case
    assert (case.owner, len(case.tasks)) == (TOWNSHIP, 4)
    # The same request again is the same answer, not a second case.
    assert (await gw.call("OpenCase", request, TOWNSHIP)).case.id == case.id
    request.request_id = rid()
    duplicate = await gw.fails("OpenCase", request, "public-security")
    assert duplicate.code is grpc.StatusCode.ALREADY_EXISTS
    assert duplicate.metadata == {"case_id": case.id, "case_number": case.number,
                                  "owner": TOWNSHIP}
    assert duplicate.message.startswith(f"case {case.number} is already open")


async def test_list_cases_shows_each_agency_its_own_and_pages(gw: Gateway) -> None:
    first, second = await open_mining(gw), await open_mining(gw)
    await act(gw, "OfferHandoff", TOWNSHIP, case_id=second.id, to_agency="health",
              reason="an outbreak nearby")
    request = pb.ListCasesRequest(type="illegal-mining", page_size=1)
    for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        assert (await gw.fails("ListCases", request, caller)).code is \
            grpc.StatusCode.UNAUTHENTICATED

    async def listed(caller: str, request: pb.ListCasesRequest, expect: set[str]
                     ) -> list[str]:
        """Every page of the caller's list, once it shows `expect` (the visibility
        store is eventually consistent)."""
        for _ in range(100):
            ids, request.page_token = [], ""
            while True:
                reply = await gw.call("ListCases", request, caller)
                ids += [c.id for c in reply.cases]
                request.page_token = reply.next_page_token
                if not request.page_token:
                    break
            if expect <= set(ids):
                return ids
            await asyncio.sleep(0.1)
        raise AssertionError(f"{caller} never saw {expect - set(ids)}")

    both = {first.id, second.id}
    # One case a page, so both can only be seen by following the page token.
    await listed(TOWNSHIP, pb.ListCasesRequest(type="illegal-mining", page_size=1), both)
    health = await listed("health", pb.ListCasesRequest(page_size=5), {second.id})
    assert first.id not in health
    assert not both & set(await listed(STRANGER, pb.ListCasesRequest(), set()))
    await listed(COORDINATOR, pb.ListCasesRequest(owner=TOWNSHIP,
                                                  status=case_pb2.CASE_STATUS_OPEN), both)
    closed = await listed(COORDINATOR, pb.ListCasesRequest(
        owner=TOWNSHIP, status=case_pb2.CASE_STATUS_CLOSED), set())
    assert not both & set(closed)


async def test_inbox_and_directory(gw: Gateway) -> None:
    case = await open_mining(gw)
    request = pb.CaseServiceListInboxRequest(page_size=200)
    for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        assert (await gw.fails("ListInbox", request, caller)).code is \
            grpc.StatusCode.UNAUTHENTICATED
        assert (await gw.fails("ListAgencies", pb.ListAgenciesRequest(), caller)).code is \
            grpc.StatusCode.UNAUTHENTICATED
    for _ in range(100):
        items = (await gw.call("ListInbox", request, NR)).items
        if any(i.case_id == case.id for i in items):
            break
        await asyncio.sleep(0.1)
    assert [i.ref for i in items if i.case_id == case.id] == [case.tasks[0].id]
    stranger = (await gw.call("ListInbox", request, STRANGER)).items
    assert not [i for i in stranger if i.case_id == case.id]
    directory = await gw.call("ListAgencies", pb.ListAgenciesRequest(), STRANGER)
    assert directory.coordinator == COORDINATOR and len(directory.agencies) == 15


async def test_a_retried_dispatch_makes_one_task(gw: Gateway) -> None:
    case = await open_mining(gw)
    request = pb.DispatchTaskRequest(request_id=rid(), case_id=case.id, kind="work-safety",
                                     assignee="emergency-management")
    replies = await asyncio.gather(*[gw.call("DispatchTask", request, TOWNSHIP)
                                     for _ in range(3)])
    assert len({r.task_id for r in replies}) == 1
    assert len((await get(gw, case.id)).tasks) == 5


async def test_the_playbooks_say_what_an_open_needs_and_the_clocks_of_each_task(
        gw: Gateway) -> None:
    for caller in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        refused = await gw.fails("ListPlaybooks", pb.ListPlaybooksRequest(), caller)
        assert refused.code is grpc.StatusCode.UNAUTHENTICATED
    reply = await gw.call("ListPlaybooks", pb.ListPlaybooksRequest(), STRANGER)
    playbooks = {p.id: p for p in reply.playbooks}
    assert {"illegal-mining", "food-supply-chain"} <= set(playbooks)
    mining = playbooks["illegal-mining"]
    assert "jinhaihu" in mining.jurisdictions
    assert any(row.lead == TOWNSHIP and row.jurisdiction == "jinhaihu"
               for row in mining.matrix)
    inspect = next(k for k in mining.task_kinds if k.needs_presence)
    assert (inspect.sign_within, inspect.on_scene_within) == ("10m", "30m")
    # What the playbooks list is what an open takes: leaving the jurisdiction out is
    # answered with the ones to choose from.
    missing = await gw.fails("OpenCase", pb.OpenCaseRequest(
        request_id=rid(), type="illegal-mining", subject_key=f"Q-{uuid.uuid4().hex[:8]}",
        title="Quarrying"), TOWNSHIP)
    assert (missing.code, missing.metadata.get("field")) == (
        grpc.StatusCode.INVALID_ARGUMENT, "jurisdiction")
    assert all(j in missing.message for j in mining.jurisdictions)
