"""The hotline's figures (12345 接诉即办) from a hand-written ledger whose answers are
worked out by hand below: response, solved, satisfaction and reopen rates per agency and
per case type, objections to a lead and their review gaps, reports per type and area;
and every reader of the ledger (gap store, spans, exports, audit, who sees what) copes
with reports, objections and the ratings' chains of their own.

The scripted ledger (minutes after T0; C is the hotline, the coordinator):

    case 1  food   opened by C, lead A  R1, R2 (pinggu), R3 (huairou, by hand; split off
                                        at 30); A objects at 10 (decide by 130), C
                                        upholds at 70; T1 -> H signed 20 of 60 (on time),
                                        T2 -> B signed 90 of 60 (late); closed at 500
    case 2  food   opened by C, lead B  R4 (huairou); B objects at 5 (decide by 125), C
                                        reassigns it to A at 100; T1 (A) -> H at 110,
                                        signed 150 of 170 (on time); closed by A at 250
    case 3  noise  opened by C, lead B  R5 (pinggu), R6 (no area), R3 (huairou, from
                                        case 1, at 35); B objects at 10 (decide by 70),
                                        undecided; T1 -> A signed 45 of 30 (late),
                                        T2 -> H signed 50 of 60 (on time), T3 -> H at 980
                                        (its clock not yet run out: not judged); open
    case 4  noise  opened by C, lead B  R7 (huairou), R8 (pinggu); closed at 60
    case 5  noise  opened by C at 100,  reopens case 4 (重办), R7 and R8 carried over; open
                   lead B
    case 6  food   opened by C, lead B  R9 (pinggu); closed at 50
    ratings (each a chain of its own), solved / satisfaction:
            R1 case 1, A: yes / SATISFIED            at 510
            R2 case 1, A: no  / SATISFIED            at 520
            R4 case 2, A: yes / BASICALLY_SATISFIED  at 300 (A led it when it closed)
            R7 case 4, B: no  / DISSATISFIED         at 100, reopened as case 5
            R8 case 4, B: yes / DISSATISFIED         at 110
            R9 case 6, B: no  / BASICALLY_SATISFIED  at 60

The figures are read at minute 1000.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from sqlalchemy import Engine
from sqlmodel import Session

from observability import (
    analysis,
    audit,
    export,
    gap_store,
    ledger,
    spans,
    witness,
)
from observability import attributes as attr
from observability.accountability import GapKind, Interval
from records import event_schema as schema
from records import participation
from records.event_schema import Event
from records.event_schema import EventKind as K
from tests.observability.recording import record
from tests.trust.kit import Kit, new_kit
from trust.pki import Role
from trust.statements import StatementType
from workflows.rules.commands import CloseCase
from workflows.rules.model import Actor
from workflows.seals import Sealer

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
NOW_MINUTES = 1000
A, B = "market-regulation", "urban-management"  # the two leads
H = "health"  # an assisting agency
C = "command-center"  # the hotline's coordinator
STRANGER = "traffic-police"
FOOD, NOISE = "food-supply-chain", "noise-nuisance"
PINGGU, HUAIROU = "pinggu", "huairou"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ts(minutes: float) -> str:
    return schema.timestamp(at(minutes))


def case_id(n: int, case_type: str) -> str:
    return f"case:{case_type}:SITE-{n}@run-{n}"


def rating_id(report: str) -> str:
    return f"{schema.rating_chain(report)}@run-{report}"


class Chain:
    """One ledger chain's events in sequence, with the attributes the rules record."""

    def __init__(self, chain_id: str) -> None:
        self.id = chain_id
        self.events: list[Event] = []

    def add(self, minutes: float, kind: str, actor: str, task_id: str = "",
            **attributes: str) -> Chain:
        self.events.append(Event(self.id, len(self.events) + 1, kind, actor, at(minutes),
                                 task_id, attributes, officer=f"{actor}-officer"))
        return self

    def opened(self, lead: str, case_type: str, minutes: float = 0, **more: str) -> Chain:
        return self.add(minutes, K.OPENED, C, owner=lead, case_type=case_type,
                        coordinator=C, legal_by=ts(minutes + 7 * 24 * 60),
                        promised_by=ts(minutes + 2 * 24 * 60), **more)

    def report(self, minutes: float, report: str, area: str = "", actor: str = C,
               **more: str) -> Chain:
        where = {schema.AREA: area} if area else {}
        return self.add(minutes, K.REPORT_ATTACHED, actor, report_id=report,
                        channel="hotline", service_code="complaint", **where, **more)

    def dispatch(self, minutes: float, task: str, owner: str, assignee: str, *,
                 sign: float, due: float = 2000) -> Chain:
        return self.add(minutes, K.TASK_DISPATCHED, owner, task, assignee=assignee,
                        sign_by=ts(minutes + sign), due_by=ts(minutes + due))

    def objected(self, minutes: float, objector: str, decide_by: float, **more: str
                 ) -> Chain:
        return self.add(minutes, K.LEAD_OBJECTED, objector, objection_id="O1",
                        coordinator=C, decide_by=ts(decide_by), **more)


def rated(report: str, case: str, case_type: str, owner: str, minutes: float, *,
          solved: bool, satisfaction: str) -> Chain:
    return Chain(rating_id(report)).add(
        minutes, K.REPORT_RATED, C, report_id=report, rated_case=case, case_type=case_type,
        owner=owner, solved="true" if solved else "false", satisfaction=satisfaction)


CASE1, CASE2, CASE3 = case_id(1, FOOD), case_id(2, FOOD), case_id(3, NOISE)
CASE4, CASE5, CASE6 = case_id(4, NOISE), case_id(5, NOISE), case_id(6, FOOD)


def scripted() -> list[Chain]:
    case1 = (Chain(CASE1).opened(A, FOOD)
             .report(0, "R1", PINGGU).report(0, "R2", PINGGU)
             .report(5, "R3", HUAIROU, actor=A, by_hand="true")
             .dispatch(0, "T1", A, H, sign=60).dispatch(0, "T2", A, B, sign=60)
             .objected(10, A, decide_by=130)
             .add(20, K.TASK_SIGNED, H, "T1")
             .add(30, K.REPORT_DETACHED, A, report_id="R3", channel="hotline",
                  service_code="complaint")
             .add(70, K.OBJECTION_DECIDED, C, objection_id="O1", outcome="UPHELD")
             .add(90, K.TASK_SIGNED, B, "T2")
             .add(400, K.TASK_DONE, H, "T1").add(450, K.TASK_DONE, B, "T2")
             .add(500, K.CLOSED, A, answered="true"))
    case2 = (Chain(CASE2).opened(B, FOOD).report(0, "R4", HUAIROU)
             .objected(5, B, decide_by=125, suggested_agency=A)
             .add(100, K.OBJECTION_DECIDED, C, objection_id="O1", outcome="REASSIGNED",
                  owner=A)
             .dispatch(110, "T1", A, H, sign=60)
             .add(150, K.TASK_SIGNED, H, "T1").add(200, K.TASK_DONE, H, "T1")
             .add(250, K.CLOSED, A, answered="true"))
    case3 = (Chain(CASE3).opened(B, NOISE).report(0, "R5", PINGGU).report(0, "R6")
             .dispatch(0, "T1", B, A, sign=30).dispatch(0, "T2", B, H, sign=60)
             .objected(10, B, decide_by=70)
             .report(35, "R3", HUAIROU)
             .add(45, K.TASK_SIGNED, A, "T1").add(50, K.TASK_SIGNED, H, "T2")
             .dispatch(980, "T3", B, H, sign=60))
    case4 = (Chain(CASE4).opened(B, NOISE).report(0, "R7", HUAIROU).report(0, "R8", PINGGU)
             .add(60, K.CLOSED, B, answered="true"))
    case5 = (Chain(CASE5).opened(B, NOISE, 100, reopened_from=CASE4)
             .report(100, "R7", HUAIROU).report(100, "R8", PINGGU))
    case6 = (Chain(CASE6).opened(B, FOOD).report(0, "R9", PINGGU)
             .add(50, K.CLOSED, B, answered="true"))
    ratings = [
        rated("R1", CASE1, FOOD, A, 510, solved=True, satisfaction="SATISFIED"),
        rated("R2", CASE1, FOOD, A, 520, solved=False, satisfaction="SATISFIED"),
        rated("R4", CASE2, FOOD, A, 300, solved=True, satisfaction="BASICALLY_SATISFIED"),
        # Unsolved and dissatisfied: reopened (CASE5 is the new case).
        rated("R7", CASE4, NOISE, B, 100, solved=False, satisfaction="DISSATISFIED"),
        rated("R8", CASE4, NOISE, B, 110, solved=True, satisfaction="DISSATISFIED"),
        rated("R9", CASE6, FOOD, B, 60, solved=False, satisfaction="BASICALLY_SATISFIED"),
    ]
    return [case1, case2, case3, case4, case5, case6, *ratings]


def stored(engine: Engine, chains: list[Chain]) -> None:
    """The chains appended as the worker appends them, each case's gaps kept as it goes."""
    for chain in chains:
        with Session(engine) as session:
            ledger.append(session=session, case_id=chain.id, commit=False, events=[
                ledger.LedgerEntryBase(
                    case_id=e.case_id, sequence=e.sequence, kind=e.kind, actor_agency=e.actor,
                    actor_officer=e.officer, at=e.at, task_id=e.task_id,
                    attributes=ledger.encode_attributes(e.attributes))
                for e in chain.events])
            replay = spans.replay_case(
                ledger.stream_events(session.connection(), case_id=chain.id), chain.id)
            replay.finish(chain.events[-1].at)
            gap_store.rewrite_case(session, replay)
            session.commit()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = ledger.open_ledger(database_url)
    stored(engine, scripted())
    yield engine
    engine.dispose()


def figures_of(engine: Engine, *, since: datetime | None = None,
               include: analysis.CaseFilter | None = None) -> analysis.Analysis:
    now = at(NOW_MINUTES)
    return analysis.analyse(analysis.replay_cases(ledger.stream_events(engine), now=now,
                                                  include=include), now=now, since=since)


def test_the_hotline_rates_per_agency_are_the_ones_worked_out_by_hand(engine: Engine
                                                                       ) -> None:
    found = figures_of(engine)
    a, b, h = found.scorecards[A], found.scorecards[B], found.scorecards[H]
    # Response (响应率) is the sign-for clock kept, of the tasks judged, per assignee:
    # H: case 1 T1, case 2 T1, case 3 T2 on time; case 3 T3 not judged yet -> 3/3.
    assert (h.tasks, h.sign_judged, h.signed_on_time, h.response_rate) == (4, 3, 3, 1.0)
    # A: case 3 T1 signed 15 minutes late -> 0/1; B: case 1 T2 late -> 0/1.
    assert (a.sign_judged, a.response_rate) == (1, 0.0)
    assert (b.sign_judged, b.response_rate) == (1, 0.0)
    assert a.response_rate == a.on_time_sign_rate  # one figure under two names
    # A is rated for R1, R2 and R4 (case 2 was reassigned to it, and it led it at close):
    # 3 ratings, 2 solved (R1, R4) -> 2/3; satisfied S, S, basically -> 3/3; no reopen.
    assert (a.ratings, a.solved, a.satisfied, a.basically_satisfied, a.dissatisfied,
            a.reopened) == (3, 2, 2, 1, 0, 0)
    assert (a.solved_rate, a.satisfaction_rate, a.reopen_rate) == (2 / 3, 1.0, 0.0)
    # B for R7, R8, R9: 1 solved (R8) -> 1/3; only R9 basically satisfied -> 1/3;
    # R7 reopened the matter -> 1/3.
    assert (b.ratings, b.solved, b.satisfied, b.basically_satisfied, b.dissatisfied,
            b.reopened) == (3, 1, 0, 1, 2, 1)
    assert (b.solved_rate, b.satisfaction_rate, b.reopen_rate) == (1 / 3, 1 / 3, 1 / 3)
    # Nobody rated the assisting agency.
    assert (h.ratings, h.solved_rate, h.satisfaction_rate, h.reopen_rate) == (
        0, None, None, None)
    # Objections: A one, upheld (case 1); B two: case 2 reassigned, case 3 undecided.
    assert (a.objections, a.objections_upheld, a.objections_reassigned) == (1, 1, 0)
    assert (b.objections, b.objections_upheld, b.objections_reassigned) == (2, 0, 1)
    # Closed is not solved: A closed both cases it led (1, 2) -> closure 2/2, solved 2/3;
    # B closed 2 of the 4 it leads (4 and 6 of 3, 4, 5, 6).
    assert (a.cases_led, a.closure_rate, b.cases_led, b.closure_rate) == (2, 1.0, 4, 0.5)
    # A's score: sign 0, no bounce 1, closure 1, solved 2/3, satisfaction 1 (nothing on
    # scene, nothing due yet) -> 11/15. Reopen and objections are not in it.
    assert a.score == pytest.approx((0 + 1 + 1 + 2 / 3 + 1) / 5)
    # B: sign 0, done on time 1, no bounce 1, closure 1/2, solved 1/3, satisfaction 1/3.
    assert b.score == pytest.approx((0 + 1 + 1 + 0.5 + 1 / 3 + 1 / 3) / 6)


def test_the_hotline_rates_per_case_type_are_the_ones_worked_out_by_hand(engine: Engine
                                                                          ) -> None:
    found = figures_of(engine)
    assert [t.case_type for t in found.case_type_scorecards()] == [FOOD, NOISE]
    food, noise = found.type_scorecards[FOOD], found.type_scorecards[NOISE]
    # Cases 1, 2 and 6 are food, all closed; 3, 4 and 5 noise, only 4 closed.
    assert (food.cases, food.closed, noise.cases, noise.closed) == (3, 3, 3, 1)
    # Food tasks: case 1 T1 on time, T2 late, case 2 T1 on time -> 2/3. Noise: case 3 T1
    # late, T2 on time, T3 not judged -> 1/2.
    assert (food.tasks, food.sign_judged, food.response_rate) == (3, 3, 2 / 3)
    assert (noise.tasks, noise.sign_judged, noise.response_rate) == (3, 2, 0.5)
    # Food ratings R1, R2, R4, R9: solved R1, R4 -> 1/2; S, S, B, B -> 4/4; no reopen.
    assert (food.ratings, food.solved_rate, food.satisfaction_rate, food.reopen_rate) == (
        4, 0.5, 1.0, 0.0)
    assert (food.satisfied, food.basically_satisfied, food.dissatisfied) == (2, 2, 0)
    # Noise ratings R7, R8: solved R8 -> 1/2; both dissatisfied -> 0; R7 reopened -> 1/2.
    assert (noise.ratings, noise.solved_rate, noise.satisfaction_rate,
            noise.reopen_rate) == (2, 0.5, 0.0, 0.5)
    # Objections: food 2 (case 1 upheld, case 2 reassigned), noise 1 (undecided).
    assert (food.objections, food.objections_upheld, food.objections_reassigned) == (2, 1, 1)
    assert (noise.objections, noise.objections_upheld, noise.objections_reassigned) == (
        1, 0, 0)
    # Reports, each once: food R1, R2 (case 1; R3 was split off), R4, R9 -> 4; noise R3
    # (moved to case 3), R5, R6, R7, R8 (carried over to case 5, not counted again) -> 5.
    assert (food.reports, noise.reports) == (4, 5)
    # Per area: pinggu R1, R2, R5, R8, R9; huairou R3, R4, R7; R6 named none.
    assert found.reports_per_area() == [(PINGGU, 5), (HUAIROU, 3), ("", 1)]


def test_the_counts_per_case_are_its_reports_now(engine: Engine) -> None:
    replays = {r.case_id: r for r in analysis.replay_cases(ledger.stream_events(engine),
                                                           now=at(NOW_MINUTES))}
    assert sorted(replays[CASE1].reports) == ["R1", "R2"]  # R3 was split off
    assert replays[CASE1].reports_per_area() == {PINGGU: 2}
    assert replays[CASE3].reports_per_area() == {PINGGU: 1, "": 1, HUAIROU: 1}
    assert replays[CASE5].reopened_from == CASE4


def test_figures_since_a_time_count_the_ratings_and_objections_made_since(engine: Engine
                                                                           ) -> None:
    found = figures_of(engine, since=at(105))
    # Rated at or after 105: R1 (510), R2 (520), R4 (300) of A; R8 (110) of B.
    assert (found.scorecards[A].ratings, found.scorecards[B].ratings) == (3, 1)
    # Every objection was raised before 105, and every report attached before it.
    assert all(c.objections == 0 for c in found.scorecards.values())
    assert found.reports_per_area() == []


Found = tuple[str, str, str, str, datetime, datetime | None, datetime | None, bool]


def objection_gaps(gaps: list[Interval]) -> list[Found]:
    now = at(NOW_MINUTES)
    return sorted((g.case_id, g.accountable, g.from_agency, g.ref, g.start, g.end,
                   g.deadline, g.breached(now))
                  for g in gaps if g.name == GapKind.LEAD_OBJECTION)


def test_a_lead_objection_is_the_coordinators_gap_until_it_decides(engine: Engine) -> None:
    expected = sorted([
        # Upheld after an hour, within its two hours.
        (CASE1, C, A, "O1", at(10), at(70), at(130), False),
        # Reassigned after 95 minutes, within its two hours.
        (CASE2, C, B, "O1", at(5), at(100), at(125), False),
        # Undecided, its hour long past: open and breached.
        (CASE3, C, B, "O1", at(10), None, at(70), True),
    ])
    assert objection_gaps(figures_of(engine).gaps) == expected
    # The gap store (what ListGaps reads) holds the same, and finds what is stalled now.
    now = at(NOW_MINUTES)
    kept = gap_store.list_gaps(engine, query=analysis.GapQuery(kind=GapKind.LEAD_OBJECTION),
                               now=now, visible_to=None, offset=0, limit=100).gaps
    assert objection_gaps(kept) == expected
    stalled = gap_store.list_gaps(engine, query=analysis.GapQuery(
        breached_only=True, open_only=True), now=now, visible_to=None, offset=0,
        limit=100).gaps
    assert [(g.case_id, g.name) for g in stalled] == [(CASE3, GapKind.LEAD_OBJECTION)]
    [summary] = [s for s in gap_store.summarize(engine, now=now)
                 if s.kind == GapKind.LEAD_OBJECTION]
    assert (summary.accountable, summary.gaps, summary.open, summary.breached) == (C, 3, 1, 1)


def test_a_reassignment_moves_the_case_at_the_decision(engine: Engine) -> None:
    replays = {r.case_id: r for r in analysis.replay_cases(
        ledger.stream_events(engine), now=at(NOW_MINUTES), phases=True)}
    case2 = replays[CASE2]
    owners = [(i.accountable, i.start, i.end) for i in case2.intervals
              if i.category.value == "ownership"]
    assert owners == [(B, at(0), at(100)), (A, at(100), at(250))]
    assert case2.owner == A and A in case2.participants


# ----- every reader of the ledger copes with the new kinds and the ratings' chains -----

def test_a_rating_chain_is_no_case(engine: Engine) -> None:
    replays = list(analysis.replay_cases(ledger.stream_events(engine), now=at(NOW_MINUTES)))
    ratings = [r for r in replays if r.rating is not None]
    assert len(ratings) == 6 and all(r.is_rating and not r.intervals for r in ratings)
    found = analysis.analyse(replays, now=at(NOW_MINUTES))
    assert sorted(c.case_id for c in found.cases) == sorted(
        [CASE1, CASE2, CASE3, CASE4, CASE5, CASE6])
    assert sum(t.cases for t in found.type_lines()) == 6
    assert "" not in found.scorecards and C not in found.scorecards
    assert not [g for g in found.gaps if g.case_id.startswith(schema.rating_chain(""))]


def test_who_sees_a_rating_is_the_agency_rated_and_those_who_see_every_case(
        engine: Engine) -> None:
    def visible(viewer: str) -> set[str]:
        return {r.case_id for r in analysis.replay_cases(
            ledger.stream_events(engine), now=at(NOW_MINUTES),
            include=None if participation.sees_every_case(viewer, coordinator=C) else
            lambda taking_part: participation.may_see(viewer, taking_part, coordinator=C))}
    a_ratings = {rating_id(r) for r in ("R1", "R2", "R4")}
    b_ratings = {rating_id(r) for r in ("R7", "R8", "R9")}
    # A took part in cases 1 and 2 (led it from the reassignment) and 3 (a task).
    assert visible(A) == {CASE1, CASE2, CASE3} | a_ratings
    assert visible(STRANGER) == set()
    assert visible(C) == visible(participation.OVERSIGHT) == {
        CASE1, CASE2, CASE3, CASE4, CASE5, CASE6} | a_ratings | b_ratings
    # The gap store keeps the same participants (what ListGaps, exports and audits ask).
    assert gap_store.cases_of(engine, A) == visible(A)
    assert gap_store.cases_of(engine, B) >= b_ratings and not gap_store.cases_of(
        engine, B) & a_ratings
    # An agency's own figures: its ratings are in them.
    mine = figures_of(engine, include=lambda taking_part: participation.may_see(
        A, taking_part, coordinator=C))
    assert (mine.scorecards[A].ratings, mine.scorecards[A].solved_rate) == (3, 2 / 3)


def test_spans_of_a_rating_chain_are_none_and_an_objection_is_a_gap_span(engine: Engine
                                                                          ) -> None:
    resource = Resource.create({})
    rating = rating_id("R7")
    replay = spans.replay_case(ledger.stream_events(engine, case_id=rating), rating)
    assert spans.spans_ended_between(replay, 1, 1, resource) == []
    replay = spans.replay_case(ledger.stream_events(engine, case_id=CASE1), CASE1)
    [objection] = [s for s in spans.spans_ended_between(replay, 1, 100, resource)
                   if s.attributes is not None
                   and s.attributes.get(attr.GAP_KIND) == GapKind.LEAD_OBJECTION]
    assert objection.attributes is not None
    assert (objection.attributes[attr.GAP_ACCOUNTABLE], objection.attributes[attr.GAP_FROM],
            objection.attributes[attr.DEADLINE_BREACHED]) == (C, A, False)
    assert (objection.start_time, objection.end_time) == (spans.nanos(at(10)),
                                                          spans.nanos(at(70)))


def test_the_exports_carry_the_new_kinds_and_the_ratings(engine: Engine) -> None:
    events = sum(len(chain.events) for chain in scripted())
    out = io.StringIO()
    assert export.write_ocel2_json(ledger.stream_events(engine), out) == events
    log = json.loads(out.getvalue())
    declared = {t["name"] for t in log["eventTypes"]}
    assert {K.REPORT_ATTACHED, K.REPORT_DETACHED, K.LEAD_OBJECTED, K.OBJECTION_DECIDED,
            K.REPORT_RATED} <= declared
    objects = {o["id"]: o for o in log["objects"]}
    assert all(r["objectId"] in objects for e in log["events"] for r in e["relationships"])
    assert objects[rating_id("R7")]["type"] == "rating"
    owners = [a["value"] for a in objects[CASE2]["attributes"] if a["name"] == schema.OWNER]
    assert owners == [B, A]
    rows = io.StringIO()
    assert export.write_csv(ledger.stream_events(engine), rows) == events
    kinds = {row["kind"] for row in csv.DictReader(io.StringIO(rows.getvalue()))}
    assert K.REPORT_RATED in kinds and K.OBJECTION_DECIDED in kinds


def test_the_gap_store_rebuilt_from_the_ledger_is_the_one_kept_as_it_went(engine: Engine
                                                                          ) -> None:
    now = at(NOW_MINUTES)
    query = analysis.GapQuery()

    def kept() -> list[tuple[object, ...]]:
        return sorted((g.case_id, g.name, g.accountable, g.start, g.end)
                      for g in gap_store.list_gaps(engine, query=query, now=now,
                                                   visible_to=None, offset=0,
                                                   limit=1000).gaps)
    before = kept()
    assert gap_store.rebuild(engine, now=now) == len(before)
    assert kept() == before


# ----- `audit verify` over reports, objections and a rating, signed as the platform signs

RATED_CASE = "case:noise-nuisance:SITE-9@run-9"
SIGNED_RATING = f"{schema.rating_chain('R-90')}@run-90"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    kit = new_kit(tmp_path / "pki")
    kit.party("gateway", Role.GATEWAY)
    kit.party("worker", Role.WORKER)
    return kit


def _signed(chain: str, sequence: int, kind: str, actor: str, seal: str,
            **attributes: str) -> ledger.LedgerEntryBase:
    return ledger.LedgerEntryBase(
        case_id=chain, sequence=sequence, kind=kind, actor_agency=actor,
        actor_officer="duty-officer", at=NOW + timedelta(seconds=sequence),
        attributes=ledger.encode_attributes(attributes), proofs=ledger.encode_proofs([seal]))


def signed_chains(kit: Kit, *, rating_sealed_for: str = SIGNED_RATING
                  ) -> dict[str, list[ledger.LedgerEntryBase]]:
    """A case the hotline opened for a report, whose lead objected and was upheld, a
    report split off, closed with an answer; and its rating, each event under the
    gateway's seal on the command that caused it."""
    # Sealed when the events happened, however long after collection the test runs.
    sealer = Sealer(kit.signer("gateway", Role.GATEWAY), clock=lambda: NOW)

    def seal(operation: str, actor: str, chain: str = RATED_CASE) -> str:
        wf, chain_run = chain.rsplit("@", 1)
        return sealer.seal(operation=operation, workflow_id=wf,
                           run_id="" if operation == "start" else chain_run,
                           command=CloseCase(f"r-{operation}", Actor(actor, "duty-officer")))
    opened = seal("start", C)
    report = {schema.REPORT_ID: "R-90", schema.CHANNEL: "hotline",
              schema.SERVICE_CODE: "noise"}
    case = [
        _signed(RATED_CASE, 1, K.OPENED, C, opened, owner=B, case_type=NOISE, coordinator=C),
        _signed(RATED_CASE, 2, K.REPORT_ATTACHED, C, opened, **report, area=PINGGU),
        _signed(RATED_CASE, 3, K.REPORT_ATTACHED, B, seal("attach_report", B),
                **report | {schema.REPORT_ID: "R-91"}, by_hand="true"),
        _signed(RATED_CASE, 4, K.LEAD_OBJECTED, B, seal("object_to_lead", B),
                objection_id="O1", coordinator=C, decide_by=schema.timestamp(NOW)),
        _signed(RATED_CASE, 5, K.OBJECTION_DECIDED, C, seal("decide_objection", C),
                objection_id="O1", outcome="UPHELD"),
        _signed(RATED_CASE, 6, K.REPORT_DETACHED, B, seal("detach_report", B),
                **report | {schema.REPORT_ID: "R-91"}),
        _signed(RATED_CASE, 7, K.CLOSED, B, seal("close_case", B), answered="true"),
    ]
    rating = [_signed(SIGNED_RATING, 1, K.REPORT_RATED, C, seal("start", C, rating_sealed_for),
                      report_id="R-90", rated_case=RATED_CASE, case_type=NOISE, owner=B,
                      solved="true", satisfaction="SATISFIED")]
    return {RATED_CASE: case, SIGNED_RATING: rating}


def audited(kit: Kit, chains: dict[str, list[ledger.LedgerEntryBase]], tmp_path: Path,
            database_url: str) -> list[ledger.Verdict]:
    ledger_engine = ledger.open_ledger(database_url)
    witness_engine = witness.open_witness(f"sqlite:///{tmp_path / 'witness.db'}")
    try:
        for chain, events in chains.items():
            record(ledger_engine, chain, events)  # with its gaps, as the worker does
        signer = kit.signer("worker", Role.WORKER)
        worker = witness.Witness(witness_engine, ledger_engine, lambda claims, when:
                                 signer.sign(StatementType.CHECKPOINT, claims, at=when))
        worker.sweep()
        worker.checkpoint()
        with Session(ledger_engine) as session:
            found = audit.audit(session, kit.store(), witness.read(witness_engine, kit.store()),
                                cases=sorted(chains), include_missing=True)
        assert not found.witness.problems
        return found.verdicts
    finally:
        ledger_engine.dispose()
        witness_engine.dispose()


def test_audit_verify_holds_for_reports_objections_and_a_rating(
        kit: Kit, tmp_path: Path, database_url: str) -> None:
    verdicts = audited(kit, signed_chains(kit), tmp_path, database_url)
    assert [(v.case_id, v.intact, v.problem) for v in verdicts] == [
        (RATED_CASE, True, ""), (SIGNED_RATING, True, "")]


def test_audit_verify_names_a_rating_sealed_for_another_report(
        kit: Kit, tmp_path: Path, database_url: str) -> None:
    chains = signed_chains(kit, rating_sealed_for=f"{schema.rating_chain('R-91')}@x")
    verdicts = {v.case_id: v for v in audited(kit, chains, tmp_path, database_url)}
    assert verdicts[RATED_CASE].intact
    broken = verdicts[SIGNED_RATING]
    assert (broken.intact, broken.broken_at) == (False, 1)
    assert "another case" in broken.problem
