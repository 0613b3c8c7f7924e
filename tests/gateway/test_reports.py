"""ReportService through a real gateway: intake routes by the catalog and merges by
subject (并单) atomically, the reporter's contact is masked for everyone but the hotline
and the lead, a case with reports closes with an answer, and a dissatisfied, unsolved
rating reopens the matter (重办) once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as pb
from tests.gateway.harness import Gateway
from tests.workflows.harness import eventually

HOTLINE, TOWNSHIP, NR = "command-center", "jinhaihu-township", "natural-resources"
STRANGER = "traffic-police"
PHONE = "13812345678"
# A point in Jinhaihu township (the gazetteer's area; the mining matrix's lead there).
JINHAIHU = (40.17, 117.35)


def quarry_report(site: str, *, request_id: str = "") -> pb.SubmitReportRequest:
    lat, lon = JINHAIHU
    return pb.SubmitReportRequest(
        request_id=request_id or f"t-{uuid.uuid4()}", service_code="night-quarrying",
        description="blasting and trucks at night", address="north of the reservoir",
        lat=lat, lon=lon, located=True,
        attributes=[pb.ReportAttribute(code="site", value=site)],
        contact=pb.ReporterContact(name="王小明", phone=PHONE, email="wang@example.cn"))


async def submit(gw: Gateway, request: pb.SubmitReportRequest) -> pb.Report:
    reply = await gw.call("SubmitReport", request, HOTLINE)
    report: pb.Report = reply.report
    return report


async def case_of(gw: Gateway, report: pb.Report) -> case_pb2.Case:
    reply = await gw.call("GetCase", cs.GetCaseRequest(case_id=report.case_id), HOTLINE)
    case: case_pb2.Case = reply.case
    return case


async def test_reports_on_one_subject_merge_into_one_case(gw: Gateway) -> None:
    site = f"quarry {uuid.uuid4().hex[:8]}"
    first = await submit(gw, quarry_report(site))
    case = await case_of(gw, first)
    assert case.owner == TOWNSHIP  # the catalog's case type, the matrix's lead there
    assert case.type == "illegal-mining" and case.jurisdiction == "jinhaihu"
    second = await submit(gw, quarry_report(f"  {site} "))
    assert second.case_id == first.case_id
    case = await case_of(gw, second)
    assert [r.id for r in case.reports] == [first.id, second.id]
    # A retry is the same report, not a third.
    again = await submit(gw, quarry_report(site, request_id="fixed-" + site[-8:]))
    retry = await submit(gw, quarry_report(site, request_id="fixed-" + site[-8:]))
    assert retry.id == again.id


async def test_twenty_reports_at_once_make_one_case(gw: Gateway) -> None:
    site = f"quarry {uuid.uuid4().hex[:8]}"
    reports = await asyncio.gather(*(submit(gw, quarry_report(site)) for _ in range(20)))
    assert len({r.case_id for r in reports}) == 1
    case = await case_of(gw, reports[0])
    assert sorted(r.id for r in case.reports) == sorted(r.id for r in reports)


async def test_the_phone_is_masked_for_everyone_but_the_hotline_and_the_lead(gw: Gateway
                                                                             ) -> None:
    report = await submit(gw, quarry_report(f"quarry {uuid.uuid4().hex[:8]}"))
    assert report.contact.phone == PHONE
    lead = (await gw.call("GetReport", pb.GetReportRequest(report_id=report.id), TOWNSHIP))
    assert lead.report.contact.phone == PHONE and not lead.report.contact.masked
    # Natural resources has an opening task: it sees the report, never the number.
    assisting = await gw.call("GetReport", pb.GetReportRequest(report_id=report.id), NR)
    assert assisting.report.contact.masked
    assert PHONE not in str(assisting) and assisting.report.contact.phone == "138****5678"
    stranger = await gw.fails("GetReport", pb.GetReportRequest(report_id=report.id), STRANGER)
    assert stranger.code is grpc.StatusCode.NOT_FOUND
    # The case itself never carries the contact.
    assert PHONE not in str(await case_of(gw, report))


async def test_only_the_hotline_takes_reports_in(gw: Gateway) -> None:
    failure = await gw.fails("SubmitReport", quarry_report("quarry x"), TOWNSHIP)
    assert (failure.code, failure.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_HOTLINE")


@pytest.mark.parametrize(("change", "reason"), [
    ({"service_code": "no-such-service"}, "UNKNOWN_SERVICE"),
    ({"description": "x" * 4001}, "TEXT_TOO_LONG"),
    ({"lat": 31.2, "lon": 121.5}, "OUTSIDE_DISTRICT"),
    ({"contact": pb.ReporterContact(phone="call me")}, "BAD_PHONE"),
])
async def test_a_bad_report_is_refused_and_stores_nothing(gw: Gateway, change: dict[str, object],
                                                          reason: str) -> None:
    request = quarry_report("quarry bad")
    for key, value in change.items():
        if isinstance(value, list):
            request.ClearField(key)
        elif isinstance(value, pb.ReporterContact):
            request.contact.CopyFrom(value)
        else:
            setattr(request, key, value)
    failure = await gw.fails("SubmitReport", request, HOTLINE)
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)


async def close_with_tasks_done(gw: Gateway, case: case_pb2.Case, answer: str) -> None:
    for task in case.tasks:
        await gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
            request_id=f"t-{uuid.uuid4()}", case_id=case.id, task_id=task.id), TOWNSHIP)
    await gw.call("CloseCase", cs.CloseCaseRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, summary="site sealed",
        answer=answer), TOWNSHIP)


async def test_answer_rating_and_reopen(gw: Gateway) -> None:
    site = f"quarry {uuid.uuid4().hex[:8]}"
    report = await submit(gw, quarry_report(site))
    case = await case_of(gw, report)
    for task in case.tasks:
        await gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
            request_id=f"t-{uuid.uuid4()}", case_id=case.id, task_id=task.id), TOWNSHIP)
    unanswered = await gw.fails("CloseCase", cs.CloseCaseRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, summary="done"), TOWNSHIP)
    assert (unanswered.code, unanswered.reason) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                    "ANSWER_REQUIRED")
    early = await gw.fails("RateReport", pb.RateReportRequest(
        report_id=report.id, solved=True, satisfaction=pb.SATISFACTION_SATISFIED), HOTLINE)
    assert early.reason == "CASE_OPEN"
    await gw.call("CloseCase", cs.CloseCaseRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, summary="done",
        answer="The quarry was sealed on 30 November."), TOWNSHIP)
    closed = await case_of(gw, report)
    assert closed.answer == "The quarry was sealed on 30 November."
    follow_ups = await gw.call("ListReports", pb.ListReportsRequest(follow_up=True), HOTLINE)
    assert report.id in [r.id for r in follow_ups.reports]
    rated = await gw.call("RateReport", pb.RateReportRequest(
        report_id=report.id, solved=False, satisfaction=pb.SATISFACTION_DISSATISFIED), HOTLINE)
    reopened = rated.report.reopened_as
    assert reopened and reopened != closed.id and rated.report.case_id == reopened
    new = (await gw.call("GetCase", cs.GetCaseRequest(case_id=reopened), HOTLINE)).case
    assert new.reopened_from == closed.id and new.owner == closed.owner
    assert new.status == case_pb2.CASE_STATUS_OPEN and [r.id for r in new.reports] == [report.id]
    # Rated once on this case; the next rating is of the redone work, once it is done.
    twice = await gw.fails("RateReport", pb.RateReportRequest(
        report_id=report.id, solved=True, satisfaction=pb.SATISFACTION_SATISFIED), HOTLINE)
    assert (twice.code, twice.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CASE_OPEN")


async def test_only_the_hotline_or_the_owner_merges_and_nobody_else_learns_the_contact(
        gw: Gateway) -> None:
    report = await submit(gw, quarry_report(f"quarry {uuid.uuid4().hex[:8]}"))
    # Natural resources takes part (an opening task) and may dispatch: merging the report
    # into its own case must neither work nor hand it the reporter's number.
    refused = await gw.fails("MergeReport", pb.MergeReportRequest(
        request_id=f"t-{uuid.uuid4()}", report_id=report.id, case_id=report.case_id), NR)
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWNER")
    assert PHONE not in refused.message
    by_lead = await gw.call("MergeReport", pb.MergeReportRequest(
        request_id=f"t-{uuid.uuid4()}", report_id=report.id, case_id=report.case_id),
        TOWNSHIP)
    assert by_lead.report.contact.phone == PHONE  # the lead may call back


async def test_a_merge_refused_on_either_case_changes_neither(gw: Gateway) -> None:
    mine = await submit(gw, quarry_report(f"quarry {uuid.uuid4().hex[:8]}"))
    other = await submit(gw, quarry_report(f"quarry {uuid.uuid4().hex[:8]}"))
    before = [len((await case_of(gw, r)).reports) for r in (mine, other)]
    # Natural resources owns neither case.
    await gw.fails("MergeReport", pb.MergeReportRequest(
        request_id=f"t-{uuid.uuid4()}", report_id=mine.id, case_id=other.case_id), NR)
    assert [len((await case_of(gw, r)).reports) for r in (mine, other)] == before
    moved = await gw.call("MergeReport", pb.MergeReportRequest(
        request_id=f"t-{uuid.uuid4()}", report_id=mine.id, case_id=other.case_id), HOTLINE)
    assert moved.report.case_id == other.case_id
    assert [r.id for r in (await case_of(gw, other)).reports] == [other.id, mine.id]
    assert (await case_of(gw, mine)).reports == []
    split = await gw.call("SplitReport", pb.SplitReportRequest(
        request_id=f"t-{uuid.uuid4()}", report_id=mine.id, reason="another quarry"), HOTLINE)
    # Split off, it is on a case of its own (not back on the one its subject names).
    assert split.report.case_id not in (mine.case_id, other.case_id) and split.report.case_id
    assert [r.id for r in (await case_of(gw, split.report)).reports] == [mine.id]


async def test_the_reporter_typed_into_the_description_is_masked_for_other_agencies(
        gw: Gateway) -> None:
    request = quarry_report(f"quarry {uuid.uuid4().hex[:8]}")
    request.description = "trucks again; call me on +86 138-1234-5678, 王小明"
    report = await submit(gw, request)
    case = await case_of(gw, report)
    assert "5678" not in case.description and "王小明" not in case.description
    seen = (await gw.call("GetReport", pb.GetReportRequest(report_id=report.id), NR)).report
    assert "5678" not in seen.description and "王小明" not in seen.description
    lead = (await gw.call("GetReport", pb.GetReportRequest(report_id=report.id),
                          TOWNSHIP)).report
    assert lead.description == request.description


async def test_two_ratings_at_once_record_one_and_reopen_at_most_once(gw: Gateway) -> None:
    report = await submit(gw, quarry_report(f"quarry {uuid.uuid4().hex[:8]}"))
    case = await case_of(gw, report)
    await close_with_tasks_done(gw, case, "sealed")
    ratings = [pb.RateReportRequest(report_id=report.id, solved=False,
                                    satisfaction=pb.SATISFACTION_DISSATISFIED),
               pb.RateReportRequest(report_id=report.id, solved=True,
                                    satisfaction=pb.SATISFACTION_SATISFIED)]

    async def rate(request: pb.RateReportRequest) -> str:
        try:
            await gw.call("RateReport", request, HOTLINE)
            return "rated"
        except grpc.aio.AioRpcError as err:
            assert err.code() is grpc.StatusCode.ALREADY_EXISTS
            return "already"
    outcomes = await asyncio.gather(*(rate(r) for r in ratings))
    assert sorted(outcomes) == ["already", "rated"]
    stored = (await gw.call("GetReport", pb.GetReportRequest(report_id=report.id),
                            HOTLINE)).report
    winner = ratings[outcomes.index("rated")]
    assert (stored.solved, stored.satisfaction) == (winner.solved, winner.satisfaction)
    assert bool(stored.reopened_as) == (not winner.solved)


async def _closed(gw: Gateway, case: case_pb2.Case) -> None:
    """The case's tasks withdrawn and the case closed with an answer, by its lead."""
    for task in case.tasks:
        if task.state in (case_pb2.TASK_STATE_DISPATCHED, case_pb2.TASK_STATE_SIGNED,
                          case_pb2.TASK_STATE_ON_SCENE):
            await gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
                request_id=f"t-{uuid.uuid4()}", case_id=case.id, task_id=task.id), case.owner)
    await gw.call("CloseCase", cs.CloseCaseRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, summary="done",
        answer="Done as asked."), case.owner)


async def test_a_report_carried_into_a_case_open_on_its_subject_is_rated_there_afresh(
        gw: Gateway) -> None:
    site = f"quarry {uuid.uuid4().hex[:8]}"
    first = await submit(gw, quarry_report(site))
    await _closed(gw, await case_of(gw, first))
    # A new call on the subject opens a new case, X, while the first reporter waits.
    second = await submit(gw, quarry_report(site))

    async def routed() -> bool:  # once the closed case has let its subject go
        nonlocal second
        second = (await gw.call("GetReport", pb.GetReportRequest(report_id=second.id),
                                HOTLINE)).report
        return bool(second.case_id)
    await eventually(routed, within=60)
    x = await case_of(gw, second)
    assert x.id != first.case_id and not x.reopened_from
    rated = await gw.call("RateReport", pb.RateReportRequest(
        report_id=first.id, solved=False, satisfaction=pb.SATISFACTION_DISSATISFIED), HOTLINE)
    assert rated.report.case_id == x.id  # the matter goes on in X, with every report
    await _closed(gw, (await gw.call("GetCase", cs.GetCaseRequest(case_id=x.id),
                                     HOTLINE)).case)
    # Satisfied with X: recorded as said, reopening nothing (not the first rating again).
    again = await gw.call("RateReport", pb.RateReportRequest(
        report_id=first.id, solved=True, satisfaction=pb.SATISFACTION_SATISFIED), HOTLINE)
    assert (again.report.rated, again.report.solved, again.report.satisfaction) == (
        True, True, pb.SATISFACTION_SATISFIED)
    assert again.report.case_id == x.id and not again.report.reopened_as
    closed = (await gw.call("GetCase", cs.GetCaseRequest(case_id=x.id), HOTLINE)).case
    assert closed.status == case_pb2.CASE_STATUS_CLOSED


async def test_the_reports_are_read_by_those_working_the_case_and_answers_are_masked(
        gw: Gateway) -> None:
    request = quarry_report(f"quarry {uuid.uuid4().hex[:8]}")
    request.attributes.append(pb.ReportAttribute(code="machines", value="2"))
    request.description = f"trucks at night, call me on {PHONE}"
    report = await submit(gw, request)
    case = await case_of(gw, report)
    working = {t.assignee for t in case.tasks} - {case.owner}
    assert NR in working
    seen = (await gw.call("ListReports", pb.ListReportsRequest(case_id=case.id), NR)).reports
    assert [r.id for r in seen] == [report.id] and PHONE not in str(seen[0])
    # Offered the case but not working it: the header only, not what the citizen wrote.
    await gw.call("OfferHandoff", cs.OfferHandoffRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, to_agency="market-regulation",
        reason="it may be a crime"), case.owner)
    refused = await gw.fails("ListReports", pb.ListReportsRequest(case_id=case.id),
                             "market-regulation")
    assert refused.code == grpc.StatusCode.NOT_FOUND
    refused = await gw.fails("GetReport", pb.GetReportRequest(report_id=report.id),
                             "market-regulation")
    assert refused.code == grpc.StatusCode.NOT_FOUND
