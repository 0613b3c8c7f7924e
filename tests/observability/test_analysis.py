"""The figures oversight reads, from a hand-written ledger whose answers are known:
scorecards, the hand-off matrix, bounce chains, the three lines, and gaps still open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from observability import analysis, gap_store, ledger
from records import event_schema as schema
from records.event_schema import Event

T0 = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
CASE = "case:food-supply-chain:B-1@run"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ts(minutes: float) -> str:
    return schema.timestamp(at(minutes))


class Script:
    """Writes one case's events in order, as the workflow would."""

    def __init__(self, case_id: str = CASE) -> None:
        self.case_id = case_id
        self.events: list[Event] = []

    def add(self, minutes: float, kind: str, actor: str, task_id: str = "",
            **attributes: str) -> Script:
        self.events.append(Event(self.case_id, len(self.events) + 1, kind, actor,
                                 at(minutes), task_id, attributes))
        return self

    def dispatch(self, minutes: float, task_id: str, owner: str, assignee: str, *,
                 sign: float = 60, due: float = 600, on_scene: float | None = None,
                 bounced_from: str = "") -> Script:
        clocks = {schema.ASSIGNEE: assignee, schema.SIGN_BY: ts(minutes + sign),
                  schema.DUE_BY: ts(minutes + due)}
        if on_scene is not None:
            clocks[schema.ON_SCENE_BY] = ts(minutes + on_scene)
        if bounced_from:
            clocks[schema.REDISPATCHED_FROM] = bounced_from
        return self.add(minutes, "TASK_DISPATCHED", owner, task_id, **clocks)


def opened(owner: str = "market-regulation", case_id: str = CASE) -> Script:
    return Script(case_id).add(0, "OPENED", owner, owner=owner,
                               case_type="food-supply-chain", legal_by=ts(15 * 24 * 60),
                               promised_by=ts(7 * 24 * 60), coordinator="command-center")


def figures(*scripts: Script, now: datetime) -> analysis.Analysis:
    events = [e for s in scripts for e in s.events]
    return analysis.analyse(analysis.replay_cases(events, now=now), now=now)


def test_scorecards_count_each_clock_kept_or_missed() -> None:
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "agriculture-rural", on_scene=30)
              .add(20, "TASK_SIGNED", "agriculture-rural", "T1")         # on time
              .add(45, "TASK_ON_SCENE", "agriculture-rural", "T1")       # 15 min late
              .add(500, "TASK_DONE", "agriculture-rural", "T1")          # on time
              .dispatch(0, "T2", "market-regulation", "health")
              .add(90, "TASK_SIGNED", "health", "T2")                    # late
              .add(700, "TASK_DONE", "health", "T2")                     # late
              .dispatch(0, "T3", "market-regulation", "quality-inspection")
              .add(10, "TASK_DECLINED", "quality-inspection", "T3",
                   review_by=ts(130), suggested_agency="health")
              .add(20, "DECLINE_REVIEWED", "market-regulation", "T3", outcome="UPHELD")
              .dispatch(20, "T4", "market-regulation", "health", bounced_from="T3")
              .add(30, "TASK_SIGNED", "health", "T4")
              .add(40, "TASK_DONE", "health", "T4")
              .add(800, "CLOSED", "market-regulation"))
    found = figures(script, now=at(900))
    farms, health, quality = (found.scorecards[a] for a in (
        "agriculture-rural", "health", "quality-inspection"))
    assert (farms.on_time_sign_rate, farms.on_time_arrival_rate,
            farms.on_time_completion_rate) == (1.0, 0.0, 1.0)
    assert (health.tasks, health.on_time_sign_rate, health.on_time_completion_rate) == (
        2, 0.5, 0.5)
    assert (quality.tasks, quality.bounce_rate, quality.sign_judged) == (1, 1.0, 0)
    lead = found.scorecards["market-regulation"]
    assert (lead.cases_led, lead.closure_rate) == (1, 1.0)
    [chain] = found.bounce_chains
    assert (chain.task_ids, chain.agencies, chain.bounces) == (
        ("T3", "T4"), ("quality-inspection", "health"), 1)
    [lines] = found.type_lines()
    assert (lines.cases, lines.closed, lines.median_actual_seconds,
            lines.median_promised_seconds, lines.within_promised) == (
        1, 1, 800 * 60, 7 * 24 * 3600, 1)


def test_the_handoff_matrix_counts_offers_and_their_waits(database_url: str) -> None:
    scripts = []
    for n, (wait, answer) in enumerate([(30, "HANDOFF_ACCEPTED"), (60, "HANDOFF_DECLINED"),
                                        (120, "HANDOFF_ACCEPTED")]):
        parties = {schema.HANDOFF_ID: "H1", schema.FROM_AGENCY: "market-regulation",
                   schema.TO_AGENCY: "agriculture-rural"}
        script = opened(case_id=f"case:food-supply-chain:B-{n}@run")
        script.add(0, "HANDOFF_OFFERED", "market-regulation", expires_at=ts(240), **parties)
        script.add(wait, answer, "agriculture-rural", **parties)
        scripts.append(script)
    found = figures(*scripts, now=at(1000))
    engine = ledger.open_ledger(database_url)
    for replay in analysis.replay_cases([e for s in scripts for e in s.events], now=at(1000)):
        gap_store.refresh_case(engine, replay)
    [cell] = gap_store.handoff_matrix(engine, since=None, visible_to=None)
    assert (cell.from_agency, cell.to_agency, cell.offers, cell.accepted,
            cell.median_wait_seconds, cell.p90_wait_seconds) == (
        "market-regulation", "agriculture-rural", 3, 2, 3600, 7200)
    assert gap_store.handoff_matrix(engine, since=None, visible_to="health") == []
    assert found.scorecards["agriculture-rural"].median_handoff_acceptance_seconds == 75 * 60
    # The second case's owner is unchanged by the declined offer; the others moved.
    assert [g.accountable for g in found.gaps] == ["market-regulation"] * 3


def test_an_open_case_reports_an_overdue_task_as_an_open_breached_gap() -> None:
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "health", due=60)
              .add(10, "TASK_SIGNED", "health", "T1"))
    now = at(90)
    gaps = [(g.name, g.accountable, g.start, g.end, g.breached(now), g.seconds(now))
            for g in figures(script, now=now).gaps]
    assert gaps == [("DISPATCH_UNSIGNED", "health", at(0), at(10), False, 600),
                    ("OVERDUE", "health", at(60), None, True, 1800)]
    stalled = analysis.analyse(analysis.replay_cases(script.events, now=now), now=now,
                               gap_query=analysis.GapQuery(open_only=True)).gaps
    assert [g.name for g in stalled] == ["OVERDUE"]


def test_gaps_are_filtered_by_agency_kind_breach_and_start() -> None:
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "health", sign=5)
              .add(10, "TASK_SIGNED", "health", "T1")
              .dispatch(30, "T2", "market-regulation", "agriculture-rural")
              .add(35, "TASK_SIGNED", "agriculture-rural", "T2"))
    now = at(100)
    replays = list(analysis.replay_cases(script.events, now=now))

    def query(**filters: object) -> list[str]:
        gaps = analysis.analyse(replays, now=now,
                                gap_query=analysis.GapQuery(**filters)).gaps  # type: ignore[arg-type]
        return [g.task_id for g in gaps]
    assert query() == ["T1", "T2"]
    assert query(agency="health") == ["T1"]
    assert query(breached_only=True) == ["T1"]
    assert query(since=at(20)) == ["T2"]


def test_a_decline_awaiting_review_passes_to_the_new_owner_with_the_case() -> None:
    parties = {schema.HANDOFF_ID: "H1", schema.FROM_AGENCY: "market-regulation",
               schema.TO_AGENCY: "quality-inspection"}
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "health")
              .add(10, "TASK_SIGNED", "health", "T1")
              .add(60, "TASK_DECLINED", "health", "T1", review_by=ts(180))
              .add(60, "HANDOFF_OFFERED", "market-regulation", expires_at=ts(600), **parties)
              .add(120, "HANDOFF_ACCEPTED", "quality-inspection", **parties)
              .add(300, "DECLINE_REVIEWED", "quality-inspection", "T1", outcome="UPHELD"))
    now = at(400)
    reviews = [(g.accountable, g.start, g.end, g.breached(now))
               for g in figures(script, now=now).gaps if g.name == "DECLINE_REVIEW"]
    assert reviews == [("market-regulation", at(60), at(120), False),
                       ("quality-inspection", at(120), at(300), True)]


def test_an_escalation_ends_when_the_coordinator_acts_on_its_task() -> None:
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "health")
              .add(10, "TASK_SIGNED", "health", "T1")
              .add(20, "TASK_DECLINED", "health", "T1", review_by=ts(80))
              .add(80, "ESCALATION", "seamless", "T1", escalation_id="E1",
                   coordinator="command-center")
              .add(95, "DECLINE_REVIEWED", "command-center", "T1", outcome="UPHELD"))
    now = at(400)
    escalations = [(g.accountable, g.start, g.end)
                   for g in figures(script, now=now).gaps if g.name == "ESCALATION"]
    assert escalations == [("command-center", at(80), at(95))]


def test_agencies_are_ranked_by_the_mean_of_their_judged_rates() -> None:
    from observability.analysis import RANKING_MINIMUM_TASKS as ENOUGH
    from observability.analysis import Analysis, Scorecard
    prompt = Scorecard("prompt", tasks=ENOUGH, signed_on_time=ENOUGH, sign_judged=ENOUGH,
                       done_on_time=4, completion_judged=4)
    slow = Scorecard("slow", tasks=12, signed_on_time=3, sign_judged=12, done_on_time=2,
                     completion_judged=4, declined=6)
    # Perfect on one task, and half on another: too few to rank either way.
    lucky = Scorecard("lucky", tasks=1, signed_on_time=1, sign_judged=1)
    unlucky = Scorecard("unlucky", tasks=1, signed_on_time=0, sign_judged=1)
    unjudged = Scorecard("new")
    assert prompt.score == 1.0 and lucky.score == 1.0 and unlucky.score == 0.5
    # sign 0.25, completion 0.5, bounces 6 of 12 -> 1 - 0.5: mean 0.4166…
    assert slow.score is not None and abs(slow.score - (0.25 + 0.5 + 0.5) / 3) < 1e-9
    assert unjudged.score is None
    cards = (unjudged, unlucky, slow, lucky, prompt)
    figures = Analysis(now=datetime.now(UTC), scorecards={c.agency: c for c in cards})
    assert [c.agency for c in figures.ranked_scorecards()] == [
        "prompt", "slow", "lucky", "unlucky", "new"]
    assert [analysis.is_ranked(c) for c in figures.ranked_scorecards()] == [
        True, True, False, False, False]


def test_an_arrival_after_a_late_sign_is_one_late_arrival_already_late_from_its_start(
        ) -> None:
    """What a breach means when the clock before was already missed: the on-scene
    deadline passed before the officer signed, so the arrival gap is breached however
    short it was (it is this phase's deadline), and marked late from its start; the
    scorecard counts that arrival late, once, and the late sign-for once more."""
    script = (opened()
              .dispatch(0, "T1", "market-regulation", "agriculture-rural", sign=10,
                        on_scene=30)
              .add(40, "TASK_SIGNED", "agriculture-rural", "T1")          # 30 min late
              .add(40.01, "TASK_ON_SCENE", "agriculture-rural", "T1"))    # 0.6 s later
    found = figures(script, now=at(60))
    [arrival] = [g for g in found.gaps if g.name == "ARRIVAL_PENDING"]
    assert arrival.breached(at(60)) and arrival.seconds(at(60)) < 1
    assert arrival.deadline is not None and arrival.start >= arrival.deadline
    farms = found.scorecards["agriculture-rural"]
    assert (farms.sign_judged, farms.signed_on_time) == (1, 0)
    assert (farms.arrival_judged, farms.arrived_on_time) == (1, 0)


@pytest.mark.parametrize("scored, red, black", [
    (0, [], []), (2, [], []), (3, [0], [2]), (8, [0, 1], [7, 6]),
    (17, [0, 1, 2, 3, 4], [16, 15, 14, 13, 12]), (40, [0, 1, 2, 3, 4], [39, 38, 37, 36, 35])])
def test_the_red_and_black_lists_mark_the_two_ends(scored: int, red: list[int],
                                                   black: list[int]) -> None:
    assert analysis.red_and_black(list(range(scored))) == (red, black)
