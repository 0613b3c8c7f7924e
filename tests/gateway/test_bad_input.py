"""Bad input over gRPC: the right status, a message naming the field, nothing changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from tests.gateway.harness import Gateway
from tests.gateway.test_case_service import COORDINATOR, NR, TOWNSHIP, open_mining, rid, settled


@pytest.fixture(scope="module")
async def case(gw: Gateway) -> case_pb2.Case:
    opened = await open_mining(gw)
    return await settled(gw, opened.id)


def _open(**fields: object) -> pb.OpenCaseRequest:
    values: dict[str, object] = dict(request_id=rid(), type="illegal-mining",
                                     subject_key=f"Q-{uuid.uuid4().hex[:10]}",
                                     title="Quarrying", jurisdiction="jinhaihu")
    values.update(fields)
    return pb.OpenCaseRequest(**values)  # type: ignore[arg-type]


OPEN_CASES = {
    "missing subject": (_open(subject_key=""), grpc.StatusCode.INVALID_ARGUMENT,
                        "MISSING_FIELD", "subject"),
    "over-long title": (_open(title="x" * 201), grpc.StatusCode.INVALID_ARGUMENT,
                        "TEXT_TOO_LONG", "title"),
    "unknown type": (_open(type="piracy"), grpc.StatusCode.INVALID_ARGUMENT,
                     "UNKNOWN_CASE_TYPE", "type"),
    "priority out of range": (_open(priority=9), grpc.StatusCode.INVALID_ARGUMENT,
                              "OUT_OF_RANGE", "priority"),
    "negative priority": (_open(priority=-1), grpc.StatusCode.INVALID_ARGUMENT,
                          "INVALID_FIELD", "priority"),
    "lead the matrix forbids": (_open(lead="public-security"),
                                grpc.StatusCode.PERMISSION_DENIED, "LEAD_NOT_ALLOWED", ""),
}


@pytest.mark.parametrize("name", sorted(OPEN_CASES))
async def test_bad_open_requests_open_nothing(gw: Gateway, name: str) -> None:
    request, code, reason, field = OPEN_CASES[name]
    failure = await gw.fails("OpenCase", request, "public-security")
    assert (failure.code, failure.reason) == (code, reason), failure.message
    assert field in failure.message
    listed = await gw.call("ListCases", pb.ListCasesRequest(page_size=100), COORDINATOR)
    assert request.subject_key not in [c.subject_key for c in listed.cases]


def _case_requests(case_id: str, task_id: str) -> dict[str, tuple[str, Message, str,
                                                                   grpc.StatusCode, str]]:
    """name -> (method, request, caller, status, reason)."""
    bad = grpc.StatusCode.INVALID_ARGUMENT
    return {
        "a case id with a run that is not": ("SignTask", pb.SignTaskRequest(
            request_id=rid(), case_id=case_id.rpartition("@")[0] + "@no-such-run",
            task_id=task_id), NR, grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND"),
        "a case id of no case": ("SignTask", pb.SignTaskRequest(
            request_id=rid(), case_id="case:illegal-mining:NOBODY@" + case_id.rpartition(
                "@")[2], task_id=task_id), NR, grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND"),
        "missing case id": ("SignTask", pb.SignTaskRequest(request_id=rid(), task_id=task_id),
                            NR, bad, "INVALID_FIELD"),
        "over-long case id": ("GetCase", pb.GetCaseRequest(case_id="c" * 401), NR, bad,
                              "TEXT_TOO_LONG"),
        "unknown enum value": ("ReviewDecline", pb.ReviewDeclineRequest(
            request_id=rid(), case_id=case_id, task_id=task_id, outcome=7),  # type: ignore[arg-type]
            TOWNSHIP, bad, "INVALID_FIELD"),
        "unspecified enum value": ("ReviewDecline", pb.ReviewDeclineRequest(
            request_id=rid(), case_id=case_id, task_id=task_id), TOWNSHIP, bad,
            "INVALID_FIELD"),
        "over-long findings": ("CompleteTask", pb.CompleteTaskRequest(
            request_id=rid(), case_id=case_id, task_id=task_id, findings="f" * 4001), NR,
            bad, "TEXT_TOO_LONG"),
        "bad duration": ("DispatchTask", pb.DispatchTaskRequest(
            request_id=rid(), case_id=case_id, kind="work-safety",
            assignee="emergency-management", sign_within="soon"), TOWNSHIP, bad,
            "BAD_DURATION"),
        "unknown agency": ("DispatchTask", pb.DispatchTaskRequest(
            request_id=rid(), case_id=case_id, kind="work-safety", assignee="nobody"),
            TOWNSHIP, bad, "UNKNOWN_AGENCY"),
        "missing new due time": ("RequestExtension", pb.RequestExtensionRequest(
            request_id=rid(), case_id=case_id, task_id=task_id, reason="lab"), NR, bad,
            "MISSING_FIELD"),
        "over-long request id": ("SignTask", pb.SignTaskRequest(
            request_id="r" * 65, case_id=case_id, task_id=task_id), NR, bad,
            "TEXT_TOO_LONG"),
        "wrong role": ("CloseCase", pb.CloseCaseRequest(request_id=rid(), case_id=case_id),
                       NR, grpc.StatusCode.PERMISSION_DENIED, "NOT_OWNER"),
        "refused state change": ("CloseCase", pb.CloseCaseRequest(
            request_id=rid(), case_id=case_id), TOWNSHIP,
            grpc.StatusCode.FAILED_PRECONDITION, "TASKS_OPEN"),
        "oversized message": ("CompleteTask", pb.CompleteTaskRequest(
            request_id=rid(), case_id=case_id, task_id=task_id, findings="f" * 70_000), NR,
            grpc.StatusCode.RESOURCE_EXHAUSTED, ""),
        "too many evidence references": ("CompleteTask", pb.CompleteTaskRequest(
            request_id=rid(), case_id=case_id, task_id=task_id, findings="done",
            evidence_refs=[f"ref-{i}" for i in range(51)]), NR, bad, "TEXT_TOO_LONG"),
    }


BAD_CASE_REQUESTS = sorted(_case_requests("", ""))


@pytest.mark.parametrize("name", BAD_CASE_REQUESTS)
async def test_bad_case_requests_change_nothing(gw: Gateway, case: case_pb2.Case, name: str
                                                ) -> None:
    method, request, caller, code, reason = _case_requests(case.id, case.tasks[0].id)[name]
    before = await settled(gw, case.id)
    failure = await gw.fails(method, request, caller)
    assert failure.code is code, failure.message
    if reason:
        assert failure.reason == reason, failure.message
    assert failure.message
    assert await settled(gw, case.id) == before


@pytest.mark.parametrize("request_", [
    pb.ListCasesRequest(page_size=-1), pb.ListCasesRequest(page_size=101),
    pb.ListCasesRequest(page_token="%%%"), pb.ListCasesRequest(status=9),  # type: ignore[arg-type]
    pb.ListCasesRequest(owner="nobody"), pb.ListCasesRequest(type="piracy"),
], ids=["negative page size", "page too big", "bad token", "unknown status",
        "unknown owner", "unknown type"])
async def test_bad_list_requests(gw: Gateway, request_: pb.ListCasesRequest) -> None:
    failure = await gw.fails("ListCases", request_, TOWNSHIP)
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure.metadata.get("field", "?") in failure.message


async def test_bad_inbox_page_size(gw: Gateway) -> None:
    failure = await gw.fails("ListInbox", pb.CaseServiceListInboxRequest(page_size=-5), NR)
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in failure.message


async def test_the_worst_accepted_input_cannot_brick_a_case(gw: Gateway) -> None:
    """Every field at its limit, every clock at its longest: the case takes each request
    and is worked to its close (no validator's work grows past what the limits allow)."""
    opened = await gw.call("OpenCase", _open(
        subject_key="S" * 128, title="T" * 200, description="D" * 4000,
        location="L" * 200), TOWNSHIP)
    case_id = opened.case.id
    for task in opened.case.tasks:  # the whistle's own tasks, out of the way
        await gw.call("WithdrawTask", pb.CaseServiceWithdrawTaskRequest(
            request_id=rid(), case_id=case_id, task_id=task.id, reason="r" * 1000), TOWNSHIP)
    dispatched = await gw.call("DispatchTask", pb.DispatchTaskRequest(
        request_id=rid(), case_id=case_id, kind="mining-investigation", assignee=NR,
        title="t" * 200, instructions="i" * 4000, sign_within="250wd",
        on_scene_within="250wd", due_within="365d"), TOWNSHIP)
    task_id = dispatched.task_id
    await settled(gw, case_id)

    async def as_nr(method: str, **fields: object) -> case_pb2.Case:
        request = getattr(pb, f"{method}Request")(request_id=rid(), case_id=case_id,
                                                  task_id=task_id, **fields)
        reply = await gw.call(method, request, NR)
        case: case_pb2.Case = reply.case
        return case

    await as_nr("DeclineTask", reason="r" * 1000)
    await gw.call("ReviewDecline", pb.ReviewDeclineRequest(
        request_id=rid(), case_id=case_id, task_id=task_id, note="n" * 1000,
        outcome=case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED), TOWNSHIP)
    await as_nr("SignTask")
    asked = Timestamp()  # the furthest a due time may be: a year and a day from now
    asked.FromDatetime(datetime.now(UTC) + timedelta(days=366, minutes=-1))
    await as_nr("RequestExtension", new_due_time=asked, reason="r" * 1000)
    await gw.call("DecideExtension", pb.DecideExtensionRequest(
        request_id=rid(), case_id=case_id, task_id=task_id, grant=True, note="n" * 1000),
        TOWNSHIP)
    await as_nr("ArriveOnScene")
    done = await as_nr("CompleteTask", findings="f" * 4000,
                       evidence_refs=[f"{n:03d}" + "e" * 509 for n in range(50)])
    assert next(t for t in done.tasks if t.id == task_id).state == case_pb2.TASK_STATE_DONE
    closed = await gw.call("CloseCase", pb.CloseCaseRequest(
        request_id=rid(), case_id=case_id, summary="s" * 4000), TOWNSHIP)
    assert closed.case.status == case_pb2.CASE_STATUS_CLOSED
