"""Oversight figures from the ledger: gaps, bounce chains, the three lines, agency and
case-type scorecards (with the 12345 hotline's rates: response, solved, satisfaction,
reopen), reports per area, and the agency-pair hand-off matrix.

The ledger is read as one stream ordered by case and sequence; each case is replayed
(`accountability.CaseReplay`) and folded into the totals before the next is read, so
memory holds the figures, not the events.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from observability.accountability import (
    REASSIGNED,
    UPHELD,
    CaseReplay,
    Category,
    GapKind,
    Interval,
    LeadObjection,
    Rating,
    TaskOutcome,
)
from records.event_schema import Event, Satisfaction

T = TypeVar("T")

# Whether a caller may see a case, given the agencies taking part in it.
CaseFilter = Callable[[list[str]], bool]


def replay_cases(events: Iterable[Event], *, now: datetime, phases: bool = False,
                 include: CaseFilter | None = None) -> Iterator[CaseReplay]:
    """One finished replay per case; `events` come ordered by case, then sequence."""
    replay: CaseReplay | None = None
    for event in events:
        if replay is None or event.case_id != replay.case_id:
            if replay is not None:
                replay.finish(now)
                if include is None or include(replay.participants):
                    yield replay
            replay = CaseReplay(event.case_id, phases=phases)
        replay.feed(event)
    if replay is not None:
        replay.finish(now)
        if include is None or include(replay.participants):
            yield replay


@dataclass(frozen=True)
class GapQuery:
    agency: str = ""  # gaps this agency was accountable for
    kind: GapKind | None = None
    breached_only: bool = False
    since: datetime | None = None
    # Only gaps still open (nobody has acted yet): what is stalled now.
    open_only: bool = False

    def matches(self, gap: Interval, now: datetime) -> bool:
        return ((not self.agency or gap.accountable == self.agency)
                and (self.kind is None or gap.name == self.kind.value)
                and (not self.breached_only or gap.breached(now))
                and (not self.open_only or gap.end is None)
                and (self.since is None or gap.start >= self.since))


@dataclass(frozen=True)
class CaseLines:
    """The three lines of one case: legal, promised, and the time actually used."""

    case_id: str
    case_type: str
    opened_at: datetime
    legal_seconds: float | None
    promised_seconds: float | None
    actual_seconds: float
    closed: bool


@dataclass(frozen=True)
class TypeLines:
    case_type: str
    cases: int
    closed: int
    median_legal_seconds: float | None
    median_promised_seconds: float | None
    median_actual_seconds: float | None  # of closed cases
    within_promised: int
    within_legal: int


@dataclass(frozen=True)
class BounceChain:
    """A task sent from agency to agency (踢皮球): `hops` = the agencies it passed."""

    case_id: str
    task_ids: tuple[str, ...]
    agencies: tuple[str, ...]

    @property
    def bounces(self) -> int:
        return len(self.task_ids) - 1


@dataclass(kw_only=True)
class HotlineFigures:
    """What the agency and the case-type scorecards both count: the three rates 12345
    (接诉即办) ranks by and its reopen rate, and the objections to a lead (派单异议).

    响应率 is the sign-for clock kept (a task signed within it); 解决率, 满意率 and 重办率
    come from the reporters' ratings after close, each credited to the agency that led
    the case when it closed and to the case's type.
    """

    tasks: int = 0
    signed_on_time: int = 0
    sign_judged: int = 0
    ratings: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    reopened: int = 0
    # Objections raised (by the agency; in cases of the type), and how they were decided.
    objections: int = 0
    objections_upheld: int = 0  # the dispatch stood: the objector kept the case
    objections_reassigned: int = 0

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def on_time_sign_rate(self) -> float | None:
        return self.rate(self.signed_on_time, self.sign_judged)

    @property
    def response_rate(self) -> float | None:
        """响应率: the on-time sign-for rate, under the hotline's name (the same figure)."""
        return self.on_time_sign_rate

    @property
    def solved_rate(self) -> float | None:
        """解决率: ratings that say the matter was solved, per rating. Not
        `Scorecard.closure_rate` (cases closed): a closed case may be unsolved."""
        return self.rate(self.solved, self.ratings)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: satisfied and basically satisfied, per rating. Beijing's published
        practice counts 基本满意 as satisfied; the three counts are kept so that another
        weighting (满意 alone, or 基本满意 as a half) can be derived from them."""
        return self.rate(self.satisfied + self.basically_satisfied, self.ratings)

    @property
    def reopen_rate(self) -> float | None:
        """重办率: ratings that reopened the matter as a new case, per rating."""
        return self.rate(self.reopened, self.ratings)

    def count_sign(self, outcome: TaskOutcome) -> None:
        self.tasks += 1
        if outcome.signed_on_time is not None:
            self.sign_judged += 1
            self.signed_on_time += outcome.signed_on_time

    def count_rating(self, rating: Rating) -> None:
        self.ratings += 1
        self.solved += rating.solved
        self.satisfied += rating.satisfaction == Satisfaction.SATISFIED
        self.basically_satisfied += rating.satisfaction == Satisfaction.BASICALLY_SATISFIED
        self.dissatisfied += rating.satisfaction == Satisfaction.DISSATISFIED
        self.reopened += rating.reopened

    def count_objection(self, objection: LeadObjection) -> None:
        self.objections += 1
        self.objections_upheld += objection.outcome == UPHELD
        self.objections_reassigned += objection.outcome == REASSIGNED


@dataclass
class Scorecard(HotlineFigures):
    agency: str
    arrived_on_time: int = 0
    arrival_judged: int = 0
    done_on_time: int = 0
    completion_judged: int = 0
    declined: int = 0
    handoff_waits: list[float] = field(default_factory=list)
    cases_led: int = 0
    cases_closed: int = 0

    @property
    def on_time_arrival_rate(self) -> float | None:
        return self.rate(self.arrived_on_time, self.arrival_judged)

    @property
    def on_time_completion_rate(self) -> float | None:
        return self.rate(self.done_on_time, self.completion_judged)

    @property
    def bounce_rate(self) -> float | None:
        return self.rate(self.declined, self.tasks)

    @property
    def median_handoff_acceptance_seconds(self) -> float | None:
        return statistics.median(self.handoff_waits) if self.handoff_waits else None

    @property
    def closure_rate(self) -> float | None:
        """Cases led that are closed (结案率; the API's `resolution_rate`, named before
        the ratings' 解决率 existed): closed is not solved, see `solved_rate`."""
        return self.rate(self.cases_closed, self.cases_led)

    @property
    def score(self) -> float | None:
        """The mean of the rates judged so far, each 0..1 with 1 the best (a bounce
        counts as 1 - bounce rate): what agencies are ranked by.

        Of the hotline's figures, the three rates 12345 ranks by enter, each one equal
        share: response (it is the sign-for rate, counted once), solved and satisfaction,
        because they are the reporters' own verdict on the work and the clocks alone
        would rank an agency that closes fast and helps no one first. The reopen rate
        does not: a reopening is a rating already counted unsolved and dissatisfied,
        and would weigh one reporter three times. Nor do objections: objecting is the
        lead's right, and a score that fell with each one would teach agencies to keep
        cases they should not lead, the chasing of rankings the 2025 rules (国办函〔2025〕
        66号) warn against; they are shown beside the score instead.
        """
        bounce = self.bounce_rate
        rates = [self.on_time_sign_rate, self.on_time_arrival_rate,
                 self.on_time_completion_rate, None if bounce is None else 1 - bounce,
                 self.closure_rate, self.solved_rate, self.satisfaction_rate]
        judged = [r for r in rates if r is not None]
        return sum(judged) / len(judged) if judged else None


@dataclass
class TypeScorecard(HotlineFigures):
    """One case type's figures: its cases, the hotline's rates and its reports."""

    case_type: str
    cases: int = 0
    closed: int = 0
    # Reports on its cases (attached, less those split off again).
    reports: int = 0


@dataclass
class Analysis:
    now: datetime
    since: datetime | None = None
    gaps: list[Interval] = field(default_factory=list)
    cases: list[CaseLines] = field(default_factory=list)
    bounce_chains: list[BounceChain] = field(default_factory=list)
    scorecards: dict[str, Scorecard] = field(default_factory=dict)
    type_scorecards: dict[str, TypeScorecard] = field(default_factory=dict)
    # Reports on cases, per area ("" for reports that named none).
    area_reports: dict[str, int] = field(default_factory=dict)
    # The reports counted so far: each is counted once, though a reopened case (重办)
    # carries its matter's reports over and so holds them again.
    counted_reports: set[str] = field(default_factory=set, repr=False)

    def type_lines(self) -> list[TypeLines]:
        by_type: dict[str, list[CaseLines]] = defaultdict(list)
        for case in self.cases:
            by_type[case.case_type].append(case)
        return [_type_lines(name, cases) for name, cases in sorted(by_type.items())]

    def case_type_scorecards(self) -> list[TypeScorecard]:
        """By case type (types are compared, not ranked)."""
        return [self.type_scorecards[t] for t in sorted(self.type_scorecards)]

    def reports_per_area(self) -> list[tuple[str, int]]:
        return most_reports_first(self.area_reports)

    def ranked_scorecards(self) -> list[Scorecard]:
        return ranked(self.scorecards.values())


# The two orders GetScorecards answers in, whoever summed the figures (this fold, or the
# score store's queries: observability.scorecards).

# An agency is ranked, and may be on the 红黑榜, once this many of its tasks were judged
# (signed for on time or late): on one or two tasks a rate is chance, not a record, and a
# new agency would top or tail the lists on its first case.
RANKING_MINIMUM_TASKS = 10


def is_ranked(card: Scorecard) -> bool:
    """Whether the card takes a place in the ranking (and so may be listed red or black)."""
    return card.score is not None and card.sign_judged >= RANKING_MINIMUM_TASKS


def ranked(cards: Iterable[Scorecard]) -> list[Scorecard]:
    """The ranked agencies, best score first; then those with too few tasks judged, best
    score first; then those with nothing judged yet, by name."""
    return sorted(cards, key=lambda s: (not is_ranked(s), s.score is None,
                                        -(s.score or 0.0), s.agency))


def most_reports_first(area_reports: dict[str, int]) -> list[tuple[str, int]]:
    """Most reports first, then by area."""
    return sorted(area_reports.items(), key=lambda item: (-item[1], item[0]))


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _type_lines(case_type: str, cases: list[CaseLines]) -> TypeLines:
    closed = [c for c in cases if c.closed]
    return TypeLines(
        case_type, len(cases), len(closed),
        _median(c.legal_seconds for c in cases), _median(c.promised_seconds for c in cases),
        _median(c.actual_seconds for c in closed),
        sum(1 for c in closed if c.promised_seconds is not None
            and c.actual_seconds <= c.promised_seconds),
        sum(1 for c in closed if c.legal_seconds is not None
            and c.actual_seconds <= c.legal_seconds))


def analyse(replays: Iterable[CaseReplay], *, now: datetime, since: datetime | None = None,
            gap_query: GapQuery | None = None) -> Analysis:
    """Fold finished replays into the oversight figures; `since` keeps what began after it."""
    result = Analysis(now, since)
    for replay in replays:
        _fold(result, replay, gap_query or GapQuery(since=since))
    return result


def _fold(result: Analysis, replay: CaseReplay, gap_query: GapQuery) -> None:
    now, since = result.now, result.since
    if replay.rating is not None:
        return _fold_rating(result, replay.rating)
    for interval in replay.intervals:
        if interval.category is Category.GAP:
            if gap_query.matches(interval, now):
                result.gaps.append(interval)
            if interval.name == GapKind.HANDOFF_PENDING and (since is None
                                                             or interval.start >= since):
                _count_handoff(result, interval)
    _fold_reports_and_objections(result, replay)
    opened = replay.opened_at
    if opened is None or (since is not None and opened < since):
        return _fold_tasks(result, replay)
    end = replay.closed_at or now
    result.cases.append(CaseLines(
        replay.case_id, replay.case_type, opened,
        (replay.legal_by - opened).total_seconds() if replay.legal_by else None,
        (replay.promised_by - opened).total_seconds() if replay.promised_by else None,
        (end - opened).total_seconds(), replay.closed_at is not None))
    lead = _scorecard(result, replay.owner)
    lead.cases_led += 1
    lead.cases_closed += replay.closed_at is not None
    of_type = _type_scorecard(result, replay.case_type)
    if of_type is not None:
        of_type.cases += 1
        of_type.closed += replay.closed_at is not None
    for hops in replay.bounce_chains.values():
        if len(hops) > 1:
            result.bounce_chains.append(BounceChain(
                replay.case_id, tuple(t for t, _ in hops), tuple(a for _, a in hops)))
    _fold_tasks(result, replay)


def _began(result: Analysis, at: datetime) -> bool:
    return result.since is None or at >= result.since


def _fold_tasks(result: Analysis, replay: CaseReplay) -> None:
    of_type = _type_scorecard(result, replay.case_type)
    for outcome in replay.task_log:
        if not _began(result, outcome.dispatched_at):
            continue
        card = _scorecard(result, outcome.assignee)
        card.count_sign(outcome)
        if of_type is not None:
            of_type.count_sign(outcome)
        card.declined += outcome.declined
        if outcome.arrived_on_time is not None:
            card.arrival_judged += 1
            card.arrived_on_time += outcome.arrived_on_time
        if outcome.done_on_time is not None:
            card.completion_judged += 1
            card.done_on_time += outcome.done_on_time


def _fold_reports_and_objections(result: Analysis, replay: CaseReplay) -> None:
    """The reports on the case now (attached since `since`, each report once), per type
    and area, and the objections raised since then, for the objector and the type."""
    of_type = _type_scorecard(result, replay.case_type)
    for report in replay.reports.values():
        if _began(result, report.attached_at) and report.report_id not in \
                result.counted_reports:
            result.counted_reports.add(report.report_id)
            result.area_reports[report.area] = result.area_reports.get(report.area, 0) + 1
            if of_type is not None:
                of_type.reports += 1
    for objection in replay.objections.values():
        if _began(result, objection.raised_at):
            _scorecard(result, objection.objector).count_objection(objection)
            if of_type is not None:
                of_type.count_objection(objection)


def _fold_rating(result: Analysis, rating: Rating) -> None:
    """A reporter's rating, for the agency rated (the lead at close) and the case type."""
    if not _began(result, rating.at):
        return
    if rating.owner:
        _scorecard(result, rating.owner).count_rating(rating)
    of_type = _type_scorecard(result, rating.case_type)
    if of_type is not None:
        of_type.count_rating(rating)


def _count_handoff(result: Analysis, gap: Interval) -> None:
    """An accepted offer: how long the receiver took, for its scorecard."""
    end = gap.end_event
    if end is not None and end.kind == "HANDOFF_ACCEPTED":
        _scorecard(result, gap.to_agency).handoff_waits.append(gap.seconds(result.now))


def _scorecard(result: Analysis, agency: str) -> Scorecard:
    card = result.scorecards.get(agency)
    if card is None:
        card = result.scorecards[agency] = Scorecard(agency)
    return card


def _type_scorecard(result: Analysis, case_type: str) -> TypeScorecard | None:
    """The case type's scorecard; None for a case whose type the ledger does not say."""
    if not case_type:
        return None
    card = result.type_scorecards.get(case_type)
    if card is None:
        card = result.type_scorecards[case_type] = TypeScorecard(case_type)
    return card


# 红黑榜: the best and the worst agencies by score, at most five each and at most a third
# of those scored each, so that the lists mark the two ends rather than everyone.
RED_BLACK_MOST = 5


def red_and_black(ranked: Sequence[T]) -> tuple[list[T], list[T]]:
    """From the ranked agencies, best first (none below RANKING_MINIMUM_TASKS): the red
    list (best first) and the black list (worst first)."""
    size = min(RED_BLACK_MOST, len(ranked) // 3)
    if not size:
        return [], []
    return list(ranked[:size]), list(reversed(ranked[-size:]))
