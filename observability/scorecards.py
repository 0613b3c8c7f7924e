"""What GetScorecards answers, summed in SQL: agencies ranked by score, the three lines
per case type, bounce chains, case-type scorecards with the hotline's rates, and reports
per area.

The same figures `analysis.analyse` folds from a replay of every case, read instead from
the per-chain facts of the score store (`score_store`): GROUP BY queries in the database
over a row per task round, case, report or rating rather than per event, and never a
read of the ledger. What comes back row by row
is what no SQL both databases speak can sum: the three lines of each case and accepted
hand-offs' waits (their medians are taken here), and the bounce chains the answer lists.
A test holds the two to the same answer, field by field
(tests/observability/test_score_store.py).

Each figure counts what began at or after `since`, as the fold decides it: a task round
from its dispatch, a case (its lead, close, lines, bounce chains) from its opening, an
objection when raised, a report when attached, a rating when given, a hand-off when
offered. Who may see which chain is the gap store's participants, `participation`'s
rule: `visible_to` None sees every chain, an agency those it takes part in.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from observability import analysis
from observability.accountability import REASSIGNED, UPHELD
from observability.analysis import BounceChain, Scorecard, TypeLines, TypeScorecard
from observability.gap_store import VISIBLE_TO, micros
from records import database
from records.event_schema import Satisfaction


@dataclass(frozen=True)
class Scorecards:
    """What GetScorecards answers, in the order it answers."""

    ranked: list[Scorecard]
    type_lines: list[TypeLines]
    bounce_chains: list[BounceChain]
    case_types: list[TypeScorecard]  # by case type
    area_reports: list[tuple[str, int]]  # most reports first


def of_analysis(figures: analysis.Analysis) -> Scorecards:
    """The same answer from a replay of the ledger (what GetScorecards used to do)."""
    return Scorecards(figures.ranked_scorecards(), figures.type_lines(),
                      list(figures.bounce_chains), figures.case_type_scorecards(),
                      figures.reports_per_area())


def _count(condition: str) -> str:
    """How many rows meet `condition` (PostgreSQL does not sum booleans)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _judged(clock: str) -> str:
    """A clock kept or missed by an act, or still running past its deadline at `now`."""
    return _count(f"{clock}_on_time IS NOT NULL OR {clock}_open_by_us <= :now")


class _Query:
    """The filters every query shares: since when, and whose chains."""

    def __init__(self, since: datetime | None, visible_to: str | None, now: datetime
                 ) -> None:
        self.since = since
        self.visible_to = visible_to
        self.params: dict[str, object] = {"now": micros(now)}
        if since is not None:
            self.params["since"] = micros(since)
        if visible_to is not None:
            self.params["visible_to"] = visible_to

    def conditions(self, began: str | None, *clauses: str) -> list[str]:
        """`clauses`, what began since `since` (by the column `began`), and only the
        chains the caller may see."""
        found = list(clauses)
        if began is not None and self.since is not None:
            found.append(f"{began} >= :since")
        if self.visible_to is not None:
            found.append(VISIBLE_TO)
        return found

    def where(self, began: str | None, *clauses: str) -> str:
        found = self.conditions(began, *clauses)
        return (" WHERE " + " AND ".join(found)) if found else ""


class _Figures:
    def __init__(self) -> None:
        self.cards: dict[str, Scorecard] = {}
        self.types: dict[str, TypeScorecard] = {}

    def card(self, agency: str) -> Scorecard:
        found = self.cards.get(agency)
        if found is None:
            found = self.cards[agency] = Scorecard(agency)
        return found

    def of_type(self, case_type: str) -> TypeScorecard | None:
        """None for chains whose type the ledger does not say, as in the fold."""
        if not case_type:
            return None
        found = self.types.get(case_type)
        if found is None:
            found = self.types[case_type] = TypeScorecard(case_type)
        return found


def read(engine: Engine, *, since: datetime | None, visible_to: str | None, now: datetime
         ) -> Scorecards:
    """The scorecards of the chains `visible_to` may see, counting what began since
    `since`, with the clocks still running judged at `now`."""
    query = _Query(since, visible_to, now)
    # One snapshot for every query, so the figures agree with each other while the worker
    # appends: SQLite's read transaction has one; PostgreSQL's READ COMMITTED would take
    # a new one per statement.
    with engine.connect() as connection:
        if database.is_postgres(connection):
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            return _read(connection, query)


def _read(connection: Connection, query: _Query) -> Scorecards:
    figures = _Figures()
    _tasks(connection, query, figures)
    lines = _cases(connection, query, figures)
    _objections(connection, query, figures)
    _ratings(connection, query, figures)
    areas = _reports(connection, query, figures)
    _handoffs(connection, query, figures)
    chains = _bounce_chains(connection, query)
    return Scorecards(analysis.ranked(figures.cards.values()), lines, chains,
                      [figures.types[t] for t in sorted(figures.types)],
                      analysis.most_reports_first(areas))


def _rows(connection: Connection, sql: str, query: _Query) -> Iterable[Any]:
    return connection.execute(text(sql), query.params)


def _tasks(connection: Connection, query: _Query, figures: _Figures) -> None:
    """Each round at its assignee: the three clocks and declines; for the case type,
    the sign-for clock (the hotline's response rate)."""
    sql = (f"SELECT assignee, case_type, COUNT(*), {_judged('sign')}, "
           f"{_count('sign_on_time = 1')}, SUM(declined), {_judged('arrival')}, "
           f"{_count('arrival_on_time = 1')}, {_judged('done')}, "
           f"{_count('done_on_time = 1')} FROM score_task_round"
           f"{query.where('dispatched_us')} GROUP BY assignee, case_type")
    for (assignee, case_type, tasks, sign_judged, signed, declined, arrival_judged,
         arrived, done_judged, done) in _rows(connection, sql, query):
        card = figures.card(assignee)
        card.tasks += tasks
        card.sign_judged += int(sign_judged)
        card.signed_on_time += int(signed)
        card.declined += int(declined)
        card.arrival_judged += int(arrival_judged)
        card.arrived_on_time += int(arrived)
        card.completion_judged += int(done_judged)
        card.done_on_time += int(done)
        of_type = figures.of_type(case_type)
        if of_type is not None:
            of_type.tasks += tasks
            of_type.sign_judged += int(sign_judged)
            of_type.signed_on_time += int(signed)


def _cases(connection: Connection, query: _Query, figures: _Figures) -> list[TypeLines]:
    """Cases led and closed per lead and type, and the three lines per type."""
    # Every case the caller sees has its type's scorecard, whenever it was opened (the
    # fold makes one for each case it reads).
    typed = query.where(None, "case_type <> ''")
    for (case_type,) in _rows(connection, f"SELECT DISTINCT case_type FROM score_chain{typed}",
                              query):
        figures.of_type(case_type)
    opened = query.where("opened_us", "opened_us IS NOT NULL")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    sql = (f"SELECT owner, case_type, COUNT(*), {_count('closed_us IS NOT NULL')}, "
           f"{_count('closed_us <= promised_by_us')}, {_count('closed_us <= legal_by_us')} "
           f"FROM score_chain{opened} GROUP BY owner, case_type")
    for owner, case_type, cases, closed, within_promised, within_legal in _rows(
            connection, sql, query):
        card = figures.card(owner)
        card.cases_led += cases
        card.cases_closed += int(closed)
        of_type = figures.of_type(case_type)
        if of_type is not None:
            of_type.cases += cases
            of_type.closed += int(closed)
        total = counts[case_type]
        for n, value in enumerate((cases, closed, within_promised, within_legal)):
            total[n] += int(value)
    medians = _line_medians(connection, query, opened)
    lines = []
    for case_type, (cases, closed, within_promised, within_legal) in sorted(counts.items()):
        legal, promised, actual = medians[case_type]
        lines.append(TypeLines(case_type, cases, closed, legal, promised, actual,
                               within_promised, within_legal))
    return lines


def _line_medians(connection: Connection, query: _Query, opened: str
                  ) -> dict[str, list[float | None]]:
    """Per case type, the median of each line (legal and promised of every case that has
    them, actual of closed cases), by `statistics.median` as the fold takes it.

    The one query that returns a row per case: no SQL both databases speak takes a median,
    and SQLite's window functions took ten times as long as reading the three numbers of
    every case (some 40 ms at a million events)."""
    lines: defaultdict[str, tuple[list[float], ...]] = defaultdict(lambda: ([], [], []))
    sql = ("SELECT case_type, legal_by_us - opened_us, promised_by_us - opened_us, "
           f"closed_us - opened_us FROM score_chain{opened}")
    for case_type, *lengths in _rows(connection, sql, query):
        for line, us in zip(lines[case_type], lengths, strict=True):
            if us is not None:
                line.append(us / 1e6)
    return {case_type: [statistics.median(line) if line else None for line in found]
            for case_type, found in lines.items()}


def _objections(connection: Connection, query: _Query, figures: _Figures) -> None:
    upheld, reassigned = (_count(f"outcome = '{o}'") for o in (UPHELD, REASSIGNED))
    sql = (f"SELECT objector, case_type, COUNT(*), {upheld}, {reassigned} FROM score_objection"
           f"{query.where('raised_us')} GROUP BY objector, case_type")
    for objector, case_type, objections, upheld, reassigned in _rows(connection, sql, query):
        for found in (figures.card(objector), figures.of_type(case_type)):
            if found is not None:
                found.objections += objections
                found.objections_upheld += int(upheld)
                found.objections_reassigned += int(reassigned)


def _ratings(connection: Connection, query: _Query, figures: _Figures) -> None:
    """Each rating, for the agency rated (when it names one) and the case type."""
    satisfaction = ", ".join(_count(f"satisfaction = '{s.value}'") for s in (
        Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED))
    sql = (f"SELECT owner, case_type, COUNT(*), SUM(solved), {satisfaction}, SUM(reopened) "
           f"FROM score_rating{query.where('at_us')} GROUP BY owner, case_type")
    for (owner, case_type, ratings, solved, satisfied, basically, dissatisfied,
         reopened) in _rows(connection, sql, query):
        for found in (figures.card(owner) if owner else None, figures.of_type(case_type)):
            if found is not None:
                found.ratings += ratings
                found.solved += int(solved)
                found.satisfied += int(satisfied)
                found.basically_satisfied += int(basically)
                found.dissatisfied += int(dissatisfied)
                found.reopened += int(reopened)


def _reports(connection: Connection, query: _Query, figures: _Figures) -> dict[str, int]:
    """Reports per area and per case type, each report once: a reopened case holds its
    matter's reports again, and the first case in the ledger's order that holds one
    (of those the caller sees, attached since `since`) is the one that counts it."""
    # Unqualified, the conditions name the columns of the nearest table: `held`'s
    # outside the subquery, `earlier`'s inside it.
    earlier = " AND ".join(["earlier.report_id = held.report_id",
                            "earlier.case_id < held.case_id",
                            *query.conditions("attached_us")])
    first = f"NOT EXISTS (SELECT 1 FROM score_report AS earlier WHERE {earlier})"
    sql = (f"SELECT area, case_type, COUNT(*) FROM score_report AS held"
           f"{query.where('attached_us', first)} GROUP BY area, case_type")
    areas: dict[str, int] = defaultdict(int)
    for area, case_type, reports in _rows(connection, sql, query):
        areas[area] += reports
        of_type = figures.of_type(case_type)
        if of_type is not None:
            of_type.reports += reports
    return dict(areas)


def _handoffs(connection: Connection, query: _Query, figures: _Figures) -> None:
    """How long each receiver took to accept an offer (their median is taken here, as
    the scorecard lists them)."""
    sql = (f"SELECT to_agency, waited_us FROM score_handoff{query.where('offered_us')} "
           "ORDER BY to_agency, waited_us")
    for agency, waited in _rows(connection, sql, query):
        figures.card(agency).handoff_waits.append(waited / 1e6)


def _bounce_chains(connection: Connection, query: _Query) -> list[BounceChain]:
    """Of cases opened since `since`, in the ledger's order of cases (the fold's)."""
    sql = (f"SELECT case_id, chain, task_id, agency FROM score_bounce"
           f"{query.where('opened_us')} ORDER BY case_id, chain, hop")
    chains: list[BounceChain] = []
    current: tuple[str, int] | None = None
    tasks: list[str] = []
    agencies: list[str] = []
    for case_id, chain, task_id, agency in _rows(connection, sql, query):
        if (case_id, chain) != current:
            if current is not None:
                chains.append(BounceChain(current[0], tuple(tasks), tuple(agencies)))
            current, tasks, agencies = (case_id, chain), [], []
        tasks.append(task_id)
        agencies.append(agency)
    if current is not None:
        chains.append(BounceChain(current[0], tuple(tasks), tuple(agencies)))
    return chains
