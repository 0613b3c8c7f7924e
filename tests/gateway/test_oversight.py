"""OversightService from every side: the oversight identity reads every case and changes
none, a participant sees its own cases, a stranger sees nothing of them, and bad input
gets a clear status. Runs on the real worker's ledger behind the real gateway."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from gateway import page_tokens
from observability.analysis import RANKING_MINIMUM_TASKS
from records.participation import OVERSIGHT
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import oversight_pb2 as pb
from tests.gateway.harness import NO_CREDENTIAL, WRONG_CREDENTIAL, Gateway

STREET, MARKET, QUALITY = "urban-management", "market-regulation", "quality-inspection"
STRANGER = "traffic-police"  # takes no part in the food cases below
# Opened, T1 dispatched and delivered, offered (its notice delivered), accepted, signed.
EVENTS_OF_A_HANDED_OFF_CASE = 7
DELIVERIES = ("TASK_DELIVERED", "NOTICE_DELIVERED")


def rid() -> str:
    return f"o-{uuid.uuid4()}"


async def handed_off_case(gw: Gateway) -> str:
    """The street office opens, offers the case to quality inspection, which accepts;
    market regulation signs for its task."""
    reply = await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="food-supply-chain", subject_key=f"B-{uuid.uuid4().hex[:8]}",
        title="Stalls selling the recalled batch", stage="unlicensed",
        jurisdiction="pinggu"), STREET)
    case_id: str = reply.case.id
    offered = await gw.call("OfferHandoff", cs.OfferHandoffRequest(
        request_id=rid(), case_id=case_id, to_agency=QUALITY, reason="the source"), STREET)
    await gw.call("AcceptHandoff", cs.AcceptHandoffRequest(
        request_id=rid(), case_id=case_id, handoff_id=offered.handoff_id), QUALITY)
    await gw.call("SignTask", cs.SignTaskRequest(request_id=rid(), case_id=case_id,
                                                 task_id="T1"), MARKET)
    await recorded(gw, case_id, EVENTS_OF_A_HANDED_OFF_CASE)
    await gaps_stored(gw, case_id)
    return case_id


async def gaps_stored(gw: Gateway, case_id: str) -> None:
    """The gap store is rewritten just after the ledger takes the events: wait for it to
    hold the ended hand-off, as a person refreshing the screen would."""
    for _ in range(200):
        reply = await gw.call("ListGaps", pb.ListGapsRequest(
            page_size=500, kind=case_pb2.GAP_KIND_HANDOFF_PENDING), OVERSIGHT)
        if any(g.case_id == case_id and g.HasField("end_time") for g in reply.gaps):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gap store never showed the hand-off of {case_id}")


async def recorded(gw: Gateway, case_id: str, events: int) -> pb.GetTimelineResponse:
    """The timeline once the ledger holds `events` events of the case (appends trail the
    commands by a moment)."""
    for _ in range(200):
        try:
            reply: pb.GetTimelineResponse = await gw.call(
                "GetTimeline", pb.GetTimelineRequest(case_id=case_id), OVERSIGHT)
            if len(reply.events) >= events:
                return reply
        except grpc.aio.AioRpcError as err:
            if err.code() is not grpc.StatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(0.05)
    raise AssertionError(f"the ledger never held {events} events of {case_id}")


@pytest.fixture(scope="module")
def gw(own_gw: Gateway) -> Gateway:
    """The figures here count everything the platform holds: a platform of their own."""
    return own_gw


@pytest.fixture(scope="module")
async def case_id(gw: Gateway) -> str:
    return await handed_off_case(gw)


def kinds(reply: pb.GetTimelineResponse) -> list[str]:
    return [case_pb2.CaseEventKind.Name(e.kind).removeprefix("CASE_EVENT_KIND_")
            for e in reply.events]


async def test_the_oversight_identity_reads_every_case(gw: Gateway, case_id: str) -> None:
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case_id), OVERSIGHT)).case
    assert case.owner == QUALITY
    listed = await gw.call("ListCases", cs.ListCasesRequest(page_size=100), OVERSIGHT)
    for _ in range(100):  # the list reads Temporal visibility, which trails a moment
        if case_id in [c.id for c in listed.cases]:
            break
        await asyncio.sleep(0.05)
        listed = await gw.call("ListCases", cs.ListCasesRequest(page_size=100), OVERSIGHT)
    assert case_id in [c.id for c in listed.cases]


async def test_the_oversight_identity_changes_nothing(gw: Gateway, case_id: str) -> None:
    before = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case_id), OVERSIGHT)).case
    for method, request in [
            ("OpenCase", cs.OpenCaseRequest(request_id=rid(), type="food-supply-chain",
                                            subject_key="B-OVERSIGHT", title="x",
                                            stage="unlicensed", jurisdiction="pinggu")),
            ("CompleteTask", cs.CompleteTaskRequest(request_id=rid(), case_id=case_id,
                                                    task_id="T1", findings="none")),
            ("CloseCase", cs.CloseCaseRequest(request_id=rid(), case_id=case_id))]:
        failure = await gw.fails(method, request, OVERSIGHT)
        assert (failure.code, failure.reason) == (grpc.StatusCode.PERMISSION_DENIED,
                                                  "READ_ONLY_IDENTITY"), method
    after = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case_id), OVERSIGHT)).case
    assert after == before


async def test_timeline_shows_owners_events_and_gaps(gw: Gateway, case_id: str) -> None:
    reply = await recorded(gw, case_id, EVENTS_OF_A_HANDED_OFF_CASE)
    assert reply.verdict.intact and reply.verdict.events == len(reply.events)
    # Who acted, to the officer: the street office's duty officer opened it.
    assert (reply.events[0].actor.agency_id, reply.events[0].actor.officer_id) == (
        STREET, "duty-officer")
    # Deliveries land whenever the agency answers: somewhere after what they deliver.
    assert [k for k in kinds(reply) if k not in DELIVERIES][:5] == [
        "OPENED", "TASK_DISPATCHED", "HANDOFF_OFFERED", "HANDOFF_ACCEPTED", "TASK_SIGNED"]
    assert kinds(reply).index("TASK_DELIVERED") > kinds(reply).index("TASK_DISPATCHED")
    assert kinds(reply).index("NOTICE_DELIVERED") > kinds(reply).index("HANDOFF_OFFERED")
    assert [p.owner for p in reply.ownership] == [STREET, QUALITY]
    assert reply.ownership[0].end_time == reply.ownership[1].start_time
    handoff = [g for g in reply.gaps if g.kind == case_pb2.GAP_KIND_HANDOFF_PENDING]
    assert [(g.accountable, g.from_agency, g.to_agency, g.breached) for g in handoff] == [
        (STREET, STREET, QUALITY, False)]
    accepted = next(e for e in reply.events
                    if e.kind == case_pb2.CASE_EVENT_KIND_HANDOFF_ACCEPTED)
    assert handoff[0].HasField("end_time") and handoff[0].end_sequence == accepted.sequence
    # Every event names the request behind it; the gateway traces every call.
    assert all(len(e.trace_id) == 32 for e in reply.events
               if case_pb2.CaseEventKind.Name(e.kind).removeprefix("CASE_EVENT_KIND_")
               not in DELIVERIES)
    assert len(reply.trace_id) == 32 and reply.lines.case_type == "food-supply-chain"


async def test_timeline_triad(gw: Gateway, case_id: str) -> None:
    request = pb.GetTimelineRequest(case_id=case_id)
    assert (await gw.call("GetTimeline", request, MARKET)).case_id == case_id
    stranger = await gw.fails("GetTimeline", request, STRANGER)
    assert (stranger.code, stranger.message) == (grpc.StatusCode.NOT_FOUND,
                                                 f"there is no case {case_id}")
    nobody = await gw.fails("GetTimeline", pb.GetTimelineRequest(case_id="case:x:y@z"),
                            OVERSIGHT)
    assert (nobody.code, nobody.message) == (grpc.StatusCode.NOT_FOUND,
                                             "there is no case case:x:y@z")
    for who in (NO_CREDENTIAL, WRONG_CREDENTIAL):
        assert (await gw.fails("GetTimeline", request, who)).code is \
            grpc.StatusCode.UNAUTHENTICATED


async def test_gaps_are_seen_by_oversight_and_participants_only(gw: Gateway, case_id: str
                                                                ) -> None:
    def of_case(reply: pb.ListGapsResponse) -> list[pb.Gap]:
        return [g for g in reply.gaps if g.case_id == case_id]
    everything = pb.ListGapsRequest(page_size=500)
    assert of_case(await gw.call("ListGaps", everything, OVERSIGHT))
    assert of_case(await gw.call("ListGaps", everything, MARKET))
    assert not of_case(await gw.call("ListGaps", everything, STRANGER))
    handoffs = await gw.call("ListGaps", pb.ListGapsRequest(
        page_size=500, kind=case_pb2.GAP_KIND_HANDOFF_PENDING, agency=STREET), OVERSIGHT)
    assert {(g.kind, g.accountable) for g in handoffs.gaps} == {
        (case_pb2.GAP_KIND_HANDOFF_PENDING, STREET)}
    assert (await gw.fails("ListGaps", everything, NO_CREDENTIAL)).code is \
        grpc.StatusCode.UNAUTHENTICATED


async def test_gaps_page_by_page(gw: Gateway, case_id: str) -> None:
    await handed_off_case(gw)  # a second case, so there is more than one page
    seen: list[tuple[str, int]] = []
    token = ""
    while True:
        reply = await gw.call("ListGaps", pb.ListGapsRequest(page_size=1, page_token=token),
                              OVERSIGHT)
        seen += [(g.case_id, g.start_sequence) for g in reply.gaps]
        token = reply.next_page_token
        if not token:
            break
    whole = await gw.call("ListGaps", pb.ListGapsRequest(page_size=500), OVERSIGHT)
    assert seen == [(g.case_id, g.start_sequence) for g in whole.gaps] and len(seen) >= 4


@pytest.mark.parametrize("request_, field", [
    (pb.ListGapsRequest(page_size=501), "page_size"),
    (pb.ListGapsRequest(page_size=-1), "page_size"),
    (pb.ListGapsRequest(page_token="!!junk"), "page_token"),
    (pb.ListGapsRequest(agency="no-such-agency"), "agency"),
    (pb.ListGapsRequest(kind=99), "kind"),  # type: ignore[arg-type]
    (pb.ListGapsRequest(since=Timestamp(seconds=10**12)), "since")])
async def test_bad_gap_queries_are_refused(gw: Gateway, request_: pb.ListGapsRequest,
                                           field: str) -> None:
    failure = await gw.fails("ListGaps", request_, OVERSIGHT)
    assert (failure.code, failure.metadata.get("field")) == (
        grpc.StatusCode.INVALID_ARGUMENT, field)


async def test_an_absurd_since_is_refused_by_every_figure(gw: Gateway) -> None:
    for method, request in [
            ("GetScorecards", pb.GetScorecardsRequest(since=Timestamp(seconds=10**12))),
            ("GetHandoffMatrix", pb.GetHandoffMatrixRequest(since=Timestamp(nanos=2 * 10**9)))]:
        failure = await gw.fails(method, request, OVERSIGHT)
        assert (failure.code, failure.metadata.get("field")) == (
            grpc.StatusCode.INVALID_ARGUMENT, "since"), method


async def test_a_forged_page_token_far_past_the_end_is_refused(gw: Gateway) -> None:
    request = pb.ListGapsRequest(page_size=10)
    token = page_tokens.next_token(10**20, request)
    failure = await gw.fails("ListGaps", pb.ListGapsRequest(page_size=10, page_token=token),
                             OVERSIGHT)
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_page_token_of_another_query_is_refused(gw: Gateway, case_id: str) -> None:
    await handed_off_case(gw)
    first = await gw.call("ListGaps", pb.ListGapsRequest(page_size=1), OVERSIGHT)
    failure = await gw.fails("ListGaps", pb.ListGapsRequest(
        page_size=1, page_token=first.next_page_token, breached_only=True), OVERSIGHT)
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "for this query and caller" in failure.message


async def test_scorecards_and_handoff_matrix(gw: Gateway, case_id: str) -> None:
    cards = await gw.call("GetScorecards", pb.GetScorecardsRequest(), OVERSIGHT)
    # Ranked: best score first, ranks 1, 2, … for every agency with enough tasks judged;
    # then the scored agencies with too few, unranked; then those with no score.
    ranked = [c for c in cards.scorecards if c.rank]
    assert ranked == list(cards.scorecards[:len(ranked)])
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    assert [c.rank for c in ranked] == list(range(1, len(ranked) + 1))
    assert all(c.sign_judged >= RANKING_MINIMUM_TASKS for c in ranked)
    unranked = [c for c in cards.scorecards if not c.rank]
    assert all(c.sign_judged < RANKING_MINIMUM_TASKS for c in unranked if c.HasField("score"))
    market = next(c for c in cards.scorecards if c.agency == MARKET)
    assert market.tasks >= 1 and market.sign_judged >= 1
    assert market.on_time_sign_rate == 1.0  # signed within its hour, every time
    quality = next(c for c in cards.scorecards if c.agency == QUALITY)
    assert quality.handoffs_accepted >= 1 and quality.HasField("median_handoff_acceptance")
    assert "food-supply-chain" in [t.case_type for t in cards.case_type_lines]
    matrix = await gw.call("GetHandoffMatrix", pb.GetHandoffMatrixRequest(), OVERSIGHT)
    cell = next(c for c in matrix.cells if (c.from_agency, c.to_agency) == (STREET, QUALITY))
    assert cell.offers == cell.accepted >= 1 and cell.HasField("p90_wait")
    # A stranger's figures are built from its own cases only: none of these.
    theirs = await gw.call("GetHandoffMatrix", pb.GetHandoffMatrixRequest(), STRANGER)
    assert not theirs.cells


async def test_export_as_ocel2_and_csv(gw: Gateway, case_id: str) -> None:
    ocel = json.loads(await gw.export(
        pb.ExportEventLogRequest(format=pb.EXPORT_FORMAT_OCEL2_JSON), OVERSIGHT))
    assert {"objectTypes", "eventTypes", "objects", "events"} <= set(ocel)
    assert case_id in {o["id"] for o in ocel["objects"]}
    ids = {o["id"] for o in ocel["objects"]}
    assert all(r["objectId"] in ids for e in ocel["events"] for r in e["relationships"])
    mine = list(csv.DictReader(io.StringIO((await gw.export(
        pb.ExportEventLogRequest(format=pb.EXPORT_FORMAT_CSV), MARKET)).decode())))
    assert case_id in {row["case_id"] for row in mine}
    theirs = list(csv.DictReader(io.StringIO((await gw.export(
        pb.ExportEventLogRequest(format=pb.EXPORT_FORMAT_CSV), STRANGER)).decode())))
    assert case_id not in {row["case_id"] for row in theirs}
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await gw.export(pb.ExportEventLogRequest(), OVERSIGHT)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    for who in (NO_CREDENTIAL, WRONG_CREDENTIAL):  # a streamed answer is guarded too
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await gw.export(pb.ExportEventLogRequest(format=pb.EXPORT_FORMAT_CSV), who)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_verify_reports_an_intact_chain_then_the_tampered_event(gw: Gateway) -> None:
    case_id = await handed_off_case(gw)
    request = pb.VerifyLedgerRequest(case_id=case_id)
    intact = await gw.call("VerifyLedger", request, OVERSIGHT)
    assert [(v.case_id, v.intact, v.events) for v in intact.verdicts] == [
        (case_id, True, EVENTS_OF_A_HANDED_OFF_CASE)]
    assert (await gw.fails("VerifyLedger", request, STRANGER)).code is \
        grpc.StatusCode.NOT_FOUND
    # Someone with access to the database makes the street office the one who accepted.
    timeline = await recorded(gw, case_id, EVENTS_OF_A_HANDED_OFF_CASE)
    accepted = next(e.sequence for e in timeline.events
                    if e.kind == case_pb2.CASE_EVENT_KIND_HANDOFF_ACCEPTED)
    with gw.ledger.begin() as connection:
        connection.execute(text("UPDATE ledger_entry SET actor_agency = :who "
                                "WHERE case_id = :case AND sequence = :sequence"),
                           {"who": STREET, "case": case_id, "sequence": accepted})
    broken = await gw.call("VerifyLedger", request, OVERSIGHT)
    assert (broken.cases_broken, broken.verdicts[0].broken_at) == (1, accepted)
    assert "altered" in broken.verdicts[0].problem
    # The timeline, read from that record, says it is not to be trusted.
    doubted = await gw.call("GetTimeline", pb.GetTimelineRequest(case_id=case_id), OVERSIGHT)
    assert (doubted.verdict.intact, doubted.verdict.broken_at) == (False, accepted)


async def test_verify_reports_a_gap_moved_onto_another_agency_in_the_gap_store(
        gw: Gateway) -> None:
    case_id = await handed_off_case(gw)
    request = pb.VerifyLedgerRequest(case_id=case_id)
    assert (await gw.call("VerifyLedger", request, OVERSIGHT)).cases_broken == 0
    # The ledger untouched, but the table oversight's gap lists read edited: the street
    # office's wait for an answer to its offer, blamed on market regulation.
    moved = ("UPDATE case_gap SET accountable = :who WHERE case_id = :case "
             "AND kind = 'HANDOFF_PENDING'")
    with gw.ledger.begin() as connection:
        connection.execute(text(moved), {"who": MARKET, "case": case_id})
    try:
        broken = await gw.call("VerifyLedger", request, OVERSIGHT)
        assert broken.cases_broken == 1
        problem = broken.verdicts[0].problem
        assert problem.startswith("the gap store's HANDOFF_PENDING gap"), problem
        assert f"accountable '{MARKET}' where the ledger gives '{STREET}'" in problem
    finally:  # the gateway is shared: leave the store as the worker wrote it
        with gw.ledger.begin() as connection:
            connection.execute(text(moved), {"who": STREET, "case": case_id})
    assert (await gw.call("VerifyLedger", request, OVERSIGHT)).cases_broken == 0
