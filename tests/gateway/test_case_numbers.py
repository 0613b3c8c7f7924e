"""The short case number: given at opening, unique across reopenings, shown with every
case, and accepted wherever a case id is: CaseService, the agency's desk, oversight."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone

import grpc

from records.participation import OVERSIGHT
from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb
from seamless.v1 import oversight_pb2 as opb
from tests.gateway.harness import Gateway, task_of
from tests.gateway.test_case_service import COORDINATOR, NR, STRANGER, TOWNSHIP, act, rid
from tests.gateway.test_oversight import recorded
from workflows.rules.opening import split_case_id

BEIJING = timezone(timedelta(hours=8))


async def open_about(gw: Gateway, subject: str, request_id: str = "") -> case_pb2.Case:
    reply = await gw.call("OpenCase", pb.OpenCaseRequest(
        request_id=request_id or rid(), type="illegal-mining", subject_key=subject,
        title="Quarrying by night", jurisdiction="jinhaihu"), TOWNSHIP)
    case: case_pb2.Case = reply.case
    return case


async def test_a_case_gets_a_dated_number_and_its_subject_stays_out_of_its_id(
        gw: Gateway) -> None:
    subject = f"Q-{uuid.uuid4().hex[:8].upper()}"
    request_id = rid()
    case = await open_about(gw, subject, request_id)
    today = datetime.now(UTC).astimezone(BEIJING).strftime("%Y%m%d")
    assert re.fullmatch(rf"{today}-\d{{4}}", case.number), case.number
    assert subject not in case.id and subject.lower() not in case.id
    # A retry is the same case, with the same number; no number is used up.
    again = await open_about(gw, subject, request_id)
    assert (again.id, again.number) == (case.id, case.number)
    # The subject typed otherwise is the same subject: refused, naming the open case, and
    # no number is used up by the refusal.
    failure = await gw.fails("OpenCase", pb.OpenCaseRequest(
        request_id=rid(), type="illegal-mining", subject_key=f" {subject.lower()[:1]} "
        f"{subject[2:].lower()}", title="The same pit", jurisdiction="jinhaihu"), TOWNSHIP)
    assert (failure.code, failure.reason) == (grpc.StatusCode.ALREADY_EXISTS,
                                              "CASE_ALREADY_OPEN")
    assert case.number in failure.message and failure.metadata["case_number"] == case.number
    other = await open_about(gw, f"Q-{uuid.uuid4().hex[:8]}")
    assert int(other.number[-4:]) == int(case.number[-4:]) + 1


async def test_the_number_the_full_id_and_the_id_without_run_all_name_the_case(
        gw: Gateway) -> None:
    case = await open_about(gw, f"Q-{uuid.uuid4().hex[:8]}")
    workflow_id, _run = split_case_id(case.id)
    for reference in (case.number, case.id, workflow_id):
        got = await gw.call("GetCase", pb.GetCaseRequest(case_id=reference), TOWNSHIP)
        assert (got.case.id, got.case.number) == (case.id, case.number)
    # A command by number acts on that case; so does the assignee's desk.
    signed = await act(gw, "SignTask", NR, case_id=case.number,
                       task_id=task_of(case, NR).id)
    assert task_of(signed, NR).state == case_pb2.TASK_STATE_SIGNED
    reply = await gw.act(NR, agency_pb2.ActOnTaskRequest(
        request_id=rid(), case_id=case.number, task_id=task_of(case, NR).id,
        action=agency_pb2.TASK_ACTION_ARRIVE))
    assert reply.item.case_number == case.number
    assert task_of(reply.case, NR).state == case_pb2.TASK_STATE_ON_SCENE
    # Oversight reads the record by number too.
    timeline = await recorded(gw, case.number, 5)
    assert (timeline.case_id, timeline.case_number) == (case.id, case.number)
    verdicts = await gw.call("VerifyLedger", opb.VerifyLedgerRequest(case_id=case.number),
                             OVERSIGHT)
    assert [v.case_id for v in verdicts.verdicts] == [case.id]


async def test_a_number_is_as_absent_to_a_stranger_as_one_never_given(gw: Gateway) -> None:
    case = await open_about(gw, f"Q-{uuid.uuid4().hex[:8]}")
    unused = f"{case.number[:8]}-9999"
    for reference in (case.number, unused):
        for method, request in (
                ("GetCase", pb.GetCaseRequest(case_id=reference)),
                ("SignTask", pb.SignTaskRequest(request_id=rid(), case_id=reference,
                                                task_id="T1"))):
            failure = await gw.fails(method, request, STRANGER)
            assert (failure.code, failure.message) == (
                grpc.StatusCode.NOT_FOUND, f"there is no case {reference}")
    unchanged = await gw.call("GetCase", pb.GetCaseRequest(case_id=case.number), COORDINATOR)
    assert all(t.state == case_pb2.TASK_STATE_DISPATCHED for t in unchanged.case.tasks)


async def test_a_reopened_subject_is_a_new_number_and_the_old_one_still_resolves(
        gw: Gateway) -> None:
    subject = f"Q-{uuid.uuid4().hex[:8]}"
    first = await open_about(gw, subject)
    for task in first.tasks:
        await act(gw, "WithdrawTask", TOWNSHIP, case_id=first.number, task_id=task.id,
                  reason="a false report")
    await act(gw, "CloseCase", TOWNSHIP, case_id=first.number, summary="a false report")
    second = await open_when_closed(gw, subject.lower())  # however it is spelt
    assert second.number != first.number and second.id != first.id
    old = await gw.call("GetCase", pb.GetCaseRequest(case_id=first.number), TOWNSHIP)
    assert (old.case.id, old.case.status, old.case.summary) == (
        first.id, case_pb2.CASE_STATUS_CLOSED, "a false report")
    # The id without its run is the latest opening.
    latest = await gw.call("GetCase", pb.GetCaseRequest(
        case_id=split_case_id(first.id)[0]), TOWNSHIP)
    assert latest.case.number == second.number


async def open_when_closed(gw: Gateway, subject: str) -> case_pb2.Case:
    """Open the subject again once its closed case has finished its last deliveries
    (until then the open is refused CASE_CLOSING, as a busy machine can make it)."""
    request_id = rid()
    for _ in range(100):
        try:
            return await open_about(gw, subject, request_id)
        except grpc.aio.AioRpcError as err:
            if "has just closed" not in (err.details() or ""):
                raise
        await asyncio.sleep(0.1)
    raise AssertionError(f"{subject}'s closed case never finished")


async def listed_eventually(gw: Gateway, request: pb.ListCasesRequest
                            ) -> list[pb.CaseSummary]:
    """The list once the search index has caught up with the open (it trails a moment)."""
    for _ in range(100):
        cases = list((await gw.call("ListCases", request, TOWNSHIP)).cases)
        if cases:
            return cases
        await asyncio.sleep(0.05)
    return []


async def test_the_case_list_shows_numbers_and_finds_a_subject_however_spelt(
        gw: Gateway) -> None:
    subject = f"Jhh Quarry {uuid.uuid4().hex[:6]}"
    case = await open_about(gw, subject)
    for spelling in (subject, subject.upper(), f"  {subject.lower()}  "):
        listed = await listed_eventually(gw, pb.ListCasesRequest(subject=spelling))
        assert [(c.number, c.id) for c in listed] == [(case.number, case.id)]
    stranger = await gw.call("ListCases", pb.ListCasesRequest(subject=subject), STRANGER)
    assert list(stranger.cases) == []
    # The subject is a value the query takes, never part of the query's text.
    injected = await gw.call("ListCases", pb.ListCasesRequest(subject="x' OR '1'='1"),
                             TOWNSHIP)
    assert list(injected.cases) == []
    refused = await gw.fails("ListCases", pb.ListCasesRequest(subject="x\x00"), TOWNSHIP)
    assert refused.code is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_number_whose_open_crashed_before_it_was_recorded_still_resolves(
        gw: Gateway) -> None:
    case = await open_about(gw, f"Q-{uuid.uuid4().hex[:8]}")
    # As if the gateway had stopped between starting the case and recording its number.
    with sqlite3.connect(gw.root / "gateway.db") as table:
        table.execute("UPDATE case_number SET case_id = '' WHERE number = ?", (case.number,))
    for _ in range(100):  # the search index trails the start by a moment
        try:
            got = await gw.call("GetCase", pb.GetCaseRequest(case_id=case.number), TOWNSHIP)
            break
        except grpc.aio.AioRpcError:
            await asyncio.sleep(0.05)
    assert got.case.id == case.id
    with sqlite3.connect(gw.root / "gateway.db") as table:
        (bound,) = table.execute("SELECT case_id FROM case_number WHERE number = ?",
                                 (case.number,)).fetchone()
    assert bound == case.id


async def test_a_retried_open_after_its_case_closed_is_that_case_not_a_second(
        gw: Gateway) -> None:
    request = pb.OpenCaseRequest(request_id=rid(), type="illegal-mining",
                                 subject_key=f"Q-{uuid.uuid4().hex[:8]}",
                                 title="Quarrying by night", jurisdiction="jinhaihu")
    case = (await gw.call("OpenCase", request, TOWNSHIP)).case
    for task in case.tasks:
        await act(gw, "WithdrawTask", TOWNSHIP, case_id=case.number, task_id=task.id)
    await act(gw, "CloseCase", TOWNSHIP, case_id=case.number)
    again = (await gw.call("OpenCase", request, TOWNSHIP)).case
    assert (again.id, again.number, again.status) == (case.id, case.number,
                                                      case_pb2.CASE_STATUS_CLOSED)
