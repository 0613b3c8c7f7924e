"""The score store answers GetScorecards exactly as a replay of the whole ledger did.

Ledgers are written as the worker writes them (`LedgerActivities`, batch by batch, the
gap and score stores kept in each append's transaction): the hotline's hand-worked
ledger, and generated ones, realistic synthetic cases (bench.synthetic) with reports,
objections to the lead and reporters' ratings added by hypothesis. For several `since`
values, moments of the question and viewers (an all-seeing one, agencies that see only
their cases, a stranger), every figure summed from the store equals the one folded from
the replay, field by field. And the store is a cache: it catches up with a ledger it
lags, and a retried append changes nothing.
"""

from __future__ import annotations

import json
import random
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.synthetic import COORDINATOR, OTHERS, PLAYBOOKS, SyntheticCase, synthetic_case
from observability import analysis, gap_store, ledger, score_store, spans
from observability.scorecards import Scorecards, of_analysis, read
from records import event_schema as schema
from records import participation
from records.event_schema import Event
from records.event_schema import EventKind as K
from tests.observability import test_hotline_rates as hotline
from tests.test_migrations import RELEASED
from workflows.ledger_activities import LedgerActivities
from workflows.rules.effects import CaseEventBatch
from workflows.rules.model import Actor, CaseEvent

# Run by `make test`; `make test-fast` leaves these out to stay under a minute.

ALL_SEEING = (participation.OVERSIGHT, COORDINATOR)
STRANGER = "traffic-police"  # in no synthetic case: sees nothing


# ----- writing and reading, as the platform does ----------------------------------------

def append(engine: Engine, events: list[Event], batches: int = 1) -> None:
    """One chain's events through the worker's ledger activity, in `batches` appends."""
    worker = LedgerActivities(engine)
    size = max(1, -(-len(events) // batches))
    for start in range(0, len(events), size):
        worker._append(CaseEventBatch(events[0].case_id, [
            CaseEvent(e.sequence, K(e.kind), Actor(e.actor, e.officer), e.at, e.task_id,
                      attributes=e.attributes, trace_id=e.trace_id, span_id=e.span_id)
            for e in events[start:start + size]]))


def append_without_store(engine: Engine, events: list[Event]) -> None:
    """As a worker from before the score store appended: the events and their gaps."""
    case_id = events[0].case_id
    with Session(engine) as session:
        ledger.append(session=session, case_id=case_id, commit=False, events=[
            ledger.LedgerEntryBase(
                case_id=e.case_id, sequence=e.sequence, kind=e.kind, actor_agency=e.actor,
                actor_officer=e.officer, at=e.at, task_id=e.task_id,
                attributes=ledger.encode_attributes(e.attributes), trace_id=e.trace_id,
                span_id=e.span_id)
            for e in events])
        replay = spans.replay_case(ledger.stream_events(session.connection(),
                                                        case_id=case_id), case_id)
        replay.finish(events[-1].at)
        gap_store.rewrite_case(session, replay)
        session.commit()


def replayed(engine: Engine, *, now: datetime, since: datetime | None, viewer: str,
             coordinator: str) -> Scorecards:
    """GetScorecards as it was: every chain the viewer may see, replayed and folded."""
    include = None if participation.sees_every_case(viewer, coordinator=coordinator) else (
        lambda taking_part: participation.may_see(viewer, taking_part,
                                                  coordinator=coordinator))
    figures = analysis.analyse(analysis.replay_cases(ledger.stream_events(engine), now=now,
                                                     include=include), now=now, since=since)
    return sorted_waits(of_analysis(figures))


def stored(engine: Engine, *, now: datetime, since: datetime | None, viewer: str,
           coordinator: str) -> Scorecards:
    """GetScorecards as it is: SQL over the stores."""
    visible_to = None if participation.sees_every_case(viewer, coordinator=coordinator) \
        else viewer
    return sorted_waits(read(engine, since=since, visible_to=visible_to, now=now))


def sorted_waits(figures: Scorecards) -> Scorecards:
    """The fold lists a receiver's hand-off waits in the ledger's order, the store by
    length; only their number and median are answered."""
    for card in figures.ranked:
        card.handoff_waits.sort()
    return figures


def assert_same(engine: Engine, *, now: datetime, since: datetime | None, viewer: str,
                coordinator: str) -> None:
    old = replayed(engine, now=now, since=since, viewer=viewer, coordinator=coordinator)
    new = stored(engine, now=now, since=since, viewer=viewer, coordinator=coordinator)
    where = f"viewer {viewer}, since {since}, now {now}"
    assert new.ranked == old.ranked, where
    assert new.type_lines == old.type_lines, where
    assert new.bounce_chains == old.bounce_chains, where
    assert new.case_types == old.case_types, where
    assert new.area_reports == old.area_reports, where


def store_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {table.name: sorted(tuple(row) for row in connection.execute(
                    table.select())) for table in score_store.TABLES}


# ----- the hotline's hand-worked ledger -------------------------------------------------

@pytest.fixture
def hotline_engine(database_url: str) -> Iterator[Engine]:
    engine = ledger.open_ledger(database_url)
    for chain in hotline.scripted():
        append(engine, chain.events, batches=3)
    yield engine
    engine.dispose()


def test_the_hotline_ledger_gives_the_same_figures_from_the_store(hotline_engine: Engine
                                                                  ) -> None:
    for now in (hotline.at(hotline.NOW_MINUTES), hotline.at(40), hotline.at(3000)):
        for since in (None, hotline.at(0), hotline.at(5), hotline.at(60), hotline.at(105),
                      hotline.at(300), hotline.at(980), hotline.at(5000)):
            for viewer in (*ALL_SEEING, hotline.A, hotline.B, hotline.H, hotline.STRANGER):
                assert_same(hotline_engine, now=now, since=since, viewer=viewer,
                            coordinator=hotline.C)


def test_the_store_holds_the_hand_worked_rates(hotline_engine: Engine) -> None:
    """The figures test_hotline_rates works out by hand, read from the store."""
    figures = read(hotline_engine, since=None, visible_to=None,
                   now=hotline.at(hotline.NOW_MINUTES))
    cards = {c.agency: c for c in figures.ranked}
    a, b, h = cards[hotline.A], cards[hotline.B], cards[hotline.H]
    assert (h.tasks, h.sign_judged, h.signed_on_time) == (4, 3, 3)
    assert (a.ratings, a.solved, a.satisfied, a.basically_satisfied) == (3, 2, 2, 1)
    assert (b.objections, b.objections_upheld, b.objections_reassigned) == (2, 0, 1)
    assert (a.cases_led, a.cases_closed, b.cases_led, b.cases_closed) == (2, 2, 4, 2)
    types = {t.case_type: t for t in figures.case_types}
    assert (types[hotline.FOOD].reports, types[hotline.NOISE].reports) == (4, 5)
    assert figures.area_reports == [(hotline.PINGGU, 5), (hotline.HUAIROU, 3), ("", 1)]
    # Case 3's T3, signed for by nobody, counts as late once its hour has run out.
    later = read(hotline_engine, since=None, visible_to=None, now=hotline.at(1041))
    assert {c.agency: c for c in later.ranked}[hotline.H].sign_judged == 4


# ----- generated ledgers ----------------------------------------------------------------

AREAS = ("pinggu", "huairou", "")
REPORTS = tuple(f"R{n}" for n in range(6))  # few: the same report lands in several cases
SATISFACTIONS = tuple(s.value for s in schema.Satisfaction)


def synthetic_events(index: int, seed: int) -> list[Event]:
    """bench.synthetic's case `index` as events (what the ledger reads back)."""
    return chain_events(synthetic_case(index, seed=seed))


def chain_events(chain: SyntheticCase) -> list[Event]:
    events = []
    for _, row in chain.rows:
        (case_id, sequence, kind, actor, officer, at, task_id, _detail, attributes,
         trace_id, span_id, *_) = row
        events.append(Event(case_id, sequence, kind, actor,
                            datetime.fromisoformat(at).replace(tzinfo=UTC), task_id,
                            json.loads(attributes), trace_id, span_id, officer))
    return events


def with_hotline(events: list[Event], rng: random.Random) -> tuple[list[Event], list[Event]]:
    """A case with reports attached (some split off again), perhaps an objection to its
    lead (perhaps decided), perhaps no case type; and its reports' ratings, each a chain
    of its own. The case's events renumbered; the ratings' chains in one list."""
    opened = events[0]
    lead = opened.attributes[schema.OWNER]
    case_type = opened.attributes.get(schema.CASE_TYPE, "")
    if rng.random() < 0.1:  # an opening that names no type (an older or edited ledger)
        opened.attributes = {k: v for k, v in opened.attributes.items()
                             if k != schema.CASE_TYPE}
        case_type = ""
    extra: list[tuple[int, str, str, dict[str, str]]] = []  # (after, kind, actor, attrs)

    def somewhere() -> int:
        return rng.randrange(1, len(events) + 1)
    reports = rng.sample(REPORTS, k=rng.randrange(0, 4))
    for report in reports:
        after = somewhere()
        attached = {schema.REPORT_ID: report, schema.CHANNEL: "hotline",
                    schema.SERVICE_CODE: "complaint"}
        area = rng.choice(AREAS)
        if area:
            attached[schema.AREA] = area
        extra.append((after, K.REPORT_ATTACHED, COORDINATOR, attached))
        if rng.random() < 0.2:
            extra.append((rng.randrange(after, len(events) + 1), K.REPORT_DETACHED, lead,
                          {schema.REPORT_ID: report}))
    if rng.random() < 0.4:
        after = somewhere()
        extra.append((after, K.LEAD_OBJECTED, lead, {
            schema.OBJECTION_ID: "O1", schema.COORDINATOR: COORDINATOR,
            schema.DECIDE_BY: schema.timestamp(events[min(after, len(events) - 1)].at
                                               + timedelta(hours=2))}))
        fate = rng.random()
        if fate < 0.7:
            decided = {schema.OBJECTION_ID: "O1",
                       schema.OUTCOME: "UPHELD" if fate < 0.35 else "REASSIGNED"}
            if fate >= 0.35:
                decided[schema.OWNER] = rng.choice([a for a in OTHERS if a != lead])
            extra.append((rng.randrange(after, len(events) + 1), K.OBJECTION_DECIDED,
                          COORDINATOR, decided))
    merged: list[Event] = []
    for position, event in enumerate(events):
        merged.append(event)
        for after, kind, actor, attributes in sorted(extra, key=lambda e: e[0]):
            if after == position + 1:
                merged.append(Event(event.case_id, 0, kind, actor, event.at,
                                    attributes=attributes))
    for sequence, event in enumerate(merged, start=1):
        event.sequence = sequence
    ratings = []
    last = merged[-1].at
    for report in reports:
        if rng.random() < 0.6:
            chain = f"{schema.rating_chain(report)}@{opened.case_id[-12:]}"
            solved = rng.random() < 0.5
            ratings.append(Event(chain, 1, K.REPORT_RATED, COORDINATOR,
                                 last + timedelta(hours=rng.randrange(1, 48)), attributes={
                schema.REPORT_ID: report, schema.RATED_CASE: opened.case_id,
                schema.CASE_TYPE: case_type if rng.random() < 0.9 else "",
                schema.OWNER: lead if rng.random() < 0.9 else "",
                schema.SOLVED: "true" if solved else "false",
                schema.SATISFACTION: rng.choice(SATISFACTIONS)}))
    return merged, ratings


def empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in ("ledger_entry", "ledger_head", "case_gap", "case_participant",
                      *(t.name for t in score_store.TABLES)):
            connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = ledger.open_ledger(database_url)
    score_store.ready(engine)  # as the worker makes it
    yield engine
    engine.dispose()


def generated(engine: Engine, seed: int, cases: int, batches: int) -> list[Event]:
    """`cases` synthetic cases and their ratings, appended as the worker appends them;
    every event written."""
    rng = random.Random(seed)
    written: list[Event] = []
    for index in range(cases):
        events, ratings = with_hotline(synthetic_events(index, seed), rng)
        append(engine, events, batches)
        written += events
        for rating in ratings:
            append(engine, [rating])
            written.append(rating)
    return written


VIEWERS = (*ALL_SEEING, STRANGER, *sorted({b.lead for b in PLAYBOOKS} | set(OTHERS)))


def deadlines(events: list[Event]) -> list[datetime]:
    """Every clock's deadline the events name: a moment a clock runs out exactly."""
    keys = (schema.SIGN_BY, schema.ON_SCENE_BY, schema.DUE_BY)
    return sorted({schema.parse_time(e.attributes[k]) for e in events for k in keys
                   if k in e.attributes})


@settings(max_examples=min(25, settings().max_examples), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cases=st.integers(1, 6), batches=st.integers(1, 4),
       picks=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(VIEWERS),
                                st.sampled_from([0, 1, 6, 30, 24 * 20]), st.floats(0, 1)),
                      min_size=1, max_size=4))
def test_generated_ledgers_give_the_same_figures_from_the_store(
        engine: Engine, seed: int, cases: int, batches: int,
        picks: list[tuple[float, str, int, float]]) -> None:
    empty(engine)
    events = generated(engine, seed, cases, batches)
    times = sorted({e.at for e in events})
    clocks = deadlines(events)
    for where, viewer, hours, which in picks:
        # `since` at an event's own time (the boundary counts), or none at all; the
        # question asked at, or hours after, an event, or the moment a clock runs out.
        at = times[min(len(times) - 1, int(where * len(times)))]
        for since in (None, at):
            for now in (at + timedelta(hours=hours),
                        clocks[min(len(clocks) - 1, int(which * len(clocks)))]):
                assert_same(engine, now=now, since=since, viewer=viewer,
                            coordinator=COORDINATOR)


def test_figures_at_the_boundaries_are_the_same(engine: Engine) -> None:
    """A case closed at the very moment of its promised line, one at its legal line, and
    the question asked the moment a sign-for clock runs out."""
    day = 24 * 60
    on_promise = (hotline.Chain(hotline.case_id(1, hotline.FOOD))
                  .opened(hotline.A, hotline.FOOD)
                  .dispatch(0, "T1", hotline.A, hotline.H, sign=60)
                  .add(2 * day, K.CLOSED, hotline.A))
    on_legal = (hotline.Chain(hotline.case_id(2, hotline.FOOD))
                .opened(hotline.B, hotline.FOOD).add(7 * day, K.CLOSED, hotline.B))
    for chain in (on_promise, on_legal):
        append(engine, chain.events)
    for now in (hotline.at(59), hotline.at(60), hotline.at(61)):
        assert_same(engine, now=now, since=None, viewer=participation.OVERSIGHT,
                    coordinator=hotline.C)
    [lines] = read(engine, since=None, visible_to=None, now=hotline.at(60)).type_lines
    assert (lines.within_promised, lines.within_legal) == (1, 2)


# ----- a cache of the ledger ------------------------------------------------------------

def test_a_retried_append_leaves_the_same_rows(engine: Engine) -> None:
    events, _ = with_hotline(synthetic_events(3, seed=11), random.Random(3))
    append(engine, events)
    before = store_rows(engine)
    append(engine, events, batches=2)  # the same events again: nothing is new
    assert store_rows(engine) == before
    assert score_store.behind(engine) == []


def test_the_store_catches_up_with_chains_appended_without_it(engine: Engine) -> None:
    """A ledger from before the store, or appended to by a worker that did not keep it:
    `catch_up` derives exactly what appends through the store would have written."""
    rng = random.Random(5)
    chains = []
    for index in range(8):
        events, ratings = with_hotline(synthetic_events(index, seed=5), rng)
        chains += [events, *([r] for r in ratings)]
    for events in chains[:3]:
        append(engine, events)
    for events in chains[3:]:
        append_without_store(engine, events)
    lagging = sorted(events[0].case_id for events in chains[3:])
    assert score_store.behind(engine) == lagging
    now = max(e.at for events in chains for e in events)
    with pytest.raises(AssertionError):
        assert_same(engine, now=now, since=None, viewer=participation.OVERSIGHT,
                    coordinator=COORDINATOR)
    assert LedgerActivities(engine).catch_up() == len(lagging)
    assert score_store.behind(engine) == []
    assert LedgerActivities(engine).catch_up() == 0
    caught_up = store_rows(engine)
    for viewer in (participation.OVERSIGHT, *OTHERS[:3]):
        assert_same(engine, now=now, since=None, viewer=viewer, coordinator=COORDINATOR)
    # Derived again from nothing, the store is the one kept as the ledger grew.
    assert score_store.rebuild(engine) == len(chains)
    assert store_rows(engine) == caught_up


def test_a_chain_behind_its_head_is_derived_again(engine: Engine) -> None:
    events, _ = with_hotline(synthetic_events(2, seed=9), random.Random(9))
    append(engine, events[:5])
    append_without_store(engine, events[5:])
    assert score_store.behind(engine) == [events[0].case_id]
    assert score_store.catch_up(engine) == 1
    with engine.connect() as connection:
        assert connection.execute(text("SELECT through_sequence FROM score_chain")
                                  ).scalar() == len(events)


def test_a_catch_up_overtaken_by_an_append_leaves_what_the_append_wrote(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    events, _ = with_hotline(synthetic_events(4, seed=13), random.Random(13))
    append_without_store(engine, events[:5])  # a chain the store lags
    read_before = score_store._replays

    def replayed_then_appended(source: Engine, chains: list[str]
                               ) -> Iterator[tuple[Any, int]]:
        found = list(read_before(source, chains))  # the catch-up reads the chain ...
        append(engine, events)  # ... then the worker appends the rest, keeping the store
        return iter(found)
    monkeypatch.setattr(score_store, "_replays", replayed_then_appended)
    assert score_store.catch_up(engine) == 0
    kept = store_rows(engine)
    assert kept["score_chain"][0][1] == len(events)
    monkeypatch.undo()
    assert score_store.rebuild(engine) == 1 and store_rows(engine) == kept


def test_a_released_ledger_is_backfilled_at_the_first_worker_start(tmp_path: Path) -> None:
    """The data directory the release of 2026-11-30 left (a ledger without the store): the
    worker makes the store and derives it from the ledger, and its figures are the
    replay's."""
    with tarfile.open(RELEASED) as archive:
        archive.extractall(tmp_path, filter="data")
    engine = ledger.open_ledger(f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}")
    with engine.connect() as connection:
        chains = connection.execute(text("SELECT count(*) FROM ledger_head")).scalar()
    assert not score_store.is_ready(engine)
    worker = LedgerActivities(engine)
    assert score_store.behind(engine) and worker.catch_up() == chains
    assert score_store.behind(engine) == [] and worker.catch_up() == 0
    now = max(e.at for e in ledger.stream_events(engine)) + timedelta(hours=1)
    with engine.connect() as connection:
        agencies = [row[0] for row in connection.execute(text(
            "SELECT DISTINCT agency FROM case_participant ORDER BY agency"))]
    for viewer in (participation.OVERSIGHT, *agencies):
        for since in (None, now - timedelta(hours=2)):
            assert_same(engine, now=now, since=since, viewer=viewer, coordinator=COORDINATOR)
    engine.dispose()


def test_a_reader_sees_whether_the_store_is_made(database_url: str) -> None:
    """The gateway only reads: it answers UNAVAILABLE until the worker has made it."""
    from records import database
    engine = database.open_database(database_url, ledger.SCHEMA)
    assert not score_store.is_ready(engine)
    score_store.ready(engine)
    assert score_store.is_ready(engine)
    engine.dispose()


def test_the_benchmarks_synthetic_hotline_ledger_gives_the_same_figures(engine: Engine
                                                                       ) -> None:
    """The ledger bench.oversight measures, at a small size: cases with reports, objections
    and reassignments, and their ratings' chains."""
    for index in range(40):
        case = synthetic_case(index, seed=3, hotline=True)
        for chain in (case, *case.followers):
            append(engine, chain_events(chain), batches=2)
    with engine.connect() as connection:
        ratings = connection.execute(text("SELECT count(*) FROM score_rating")).scalar()
        reports = connection.execute(text("SELECT count(*) FROM score_report")).scalar()
    assert ratings and reports
    last = max(e.at for e in ledger.stream_events(engine))
    for since in (None, last - timedelta(days=2), last - timedelta(hours=6)):
        for viewer in (participation.OVERSIGHT, "ecology-environment", "natural-resources"):
            assert_same(engine, now=last + timedelta(hours=1), since=since, viewer=viewer,
                        coordinator=COORDINATOR)
