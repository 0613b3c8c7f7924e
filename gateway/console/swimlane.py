"""The case page's swimlane: one lane per agency, laid out from the case's timeline.

A lane holds the agency's ownership periods and its task phases on its first row and
every gap it was accountable for on its second, each coloured by kind and red once
breached; deadlines are markers. Positions are fractions of the case's time span, so
the page zooms by widening the drawing and pans by scrolling it, from minutes to weeks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seamless.v1 import case_pb2
from seamless.v1 import oversight_pb2 as ov

# A case a few seconds old is still drawn over a minute.
MIN_SPAN = timedelta(minutes=1)
# Room on the right, so that the running bars' ends and the next deadline are clear.
RIGHT_MARGIN = 0.05
# The platform itself is accountable while a delivery to an agency was failing.
PLATFORM = "seamless"
# Phases of a task, from the events that start and end them.
_K = case_pb2.CaseEventKind
_ENDS = {_K.CASE_EVENT_KIND_TASK_DONE, _K.CASE_EVENT_KIND_TASK_DECLINED,
         _K.CASE_EVENT_KIND_TASK_WITHDRAWN, _K.CASE_EVENT_KIND_DEEMED_CONSENT}
GAP_CLASSES = {
    case_pb2.GAP_KIND_HANDOFF_PENDING: "handoff",
    case_pb2.GAP_KIND_DISPATCH_UNSIGNED: "unsigned",
    case_pb2.GAP_KIND_ARRIVAL_PENDING: "arrival",
    case_pb2.GAP_KIND_OVERDUE: "overdue",
    case_pb2.GAP_KIND_DECLINE_REVIEW: "review",
    case_pb2.GAP_KIND_ESCALATION: "escalation",
    case_pb2.GAP_KIND_LEAD_OBJECTION: "objection",
}


@dataclass(frozen=True)
class Bar:
    row: int  # 0: ownership and task phases; 1: gaps
    css: str
    start: datetime
    end: datetime
    label: str
    open_ended: bool = False  # still running at the moment of the drawing
    left: float = 0.0  # fraction of the span
    width: float = 0.0


@dataclass
class Lane:
    agency: str
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str
    left: float


@dataclass(frozen=True)
class Swimlane:
    start: datetime
    end: datetime
    lanes: list[Lane]
    markers: list[Marker]
    # The share of the span that holds what happened so far (the page opens on it).
    focus: float = 1.0

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _time(stamp: object) -> datetime | None:
    if stamp is None or not stamp.ByteSize():  # type: ignore[attr-defined]
        return None
    moment: datetime = stamp.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined]
    return moment


def _phases(events: list[case_pb2.CaseEvent], now: datetime) -> list[tuple[str, Bar]]:
    """Each task's phases, in its assignee's lane: awaiting sign-for, on the way (signed,
    not yet on scene) and working (on scene, or signed where no presence is needed)."""
    phases: list[tuple[str, Bar]] = []
    open_phase: dict[str, tuple[str, str, datetime]] = {}  # task -> (assignee, css, since)
    assignees: dict[str, str] = {}

    def end(task: str, at: datetime) -> None:
        if task in open_phase:
            assignee, css, since = open_phase.pop(task)
            phases.append((assignee, Bar(0, css, since, at, f"{task}")))

    for event in events:
        at = _time(event.time)
        if at is None or not event.task_id:
            continue
        task = event.task_id
        if event.kind == _K.CASE_EVENT_KIND_TASK_DISPATCHED:
            assignees[task] = event.attributes.get("assignee", "")
            end(task, at)
            open_phase[task] = (assignees[task], "phase-dispatched", at)
        elif event.kind == _K.CASE_EVENT_KIND_TASK_SIGNED and task in assignees:
            end(task, at)
            open_phase[task] = (assignees[task], "phase-signed", at)
        elif event.kind == _K.CASE_EVENT_KIND_TASK_ON_SCENE and task in assignees:
            end(task, at)
            open_phase[task] = (assignees[task], "phase-working", at)
        elif event.kind in _ENDS:
            end(task, at)
    for task, (assignee, css, since) in list(open_phase.items()):
        phases.append((assignee, Bar(0, css, since, now, task, open_ended=True)))
    return [(agency, bar) for agency, bar in phases if agency]


def _as_is(key: str) -> str:
    return key.partition(":")[2]


def layout(timeline: ov.GetTimelineResponse, case: case_pb2.Case | None,
           now: datetime, words: Callable[[str], str] = _as_is) -> Swimlane:
    """`words` names what a bar or marker is, in the reader's language, from a key:
    "gap:<GapKind short name>", "clock:<CLOCK_NAMES value>", "line:legal" or
    "line:promised", "ownership:"."""
    bars: list[tuple[str, Bar]] = []
    for period in timeline.ownership:
        start, end = _time(period.start_time), _time(period.end_time)
        if start is not None:
            bars.append((period.owner, Bar(0, "ownership", start, end or now,
                                           words("ownership:"), open_ended=end is None)))
    bars += _phases(list(timeline.events), now)
    for gap in timeline.gaps:
        start, end = _time(gap.start_time), _time(gap.end_time)
        if start is None:
            continue
        css = "gap-" + GAP_CLASSES.get(gap.kind, "other")
        kind = case_pb2.GapKind.Name(gap.kind).removeprefix("GAP_KIND_").lower().replace(
            "_", " ")
        label = f"{words('gap:' + kind)} {gap.task_id or gap.ref}".strip()
        finish, deadline = end or now, _time(gap.deadline)
        # Red from the deadline on (all of it when the phase began already late).
        late_from = start if deadline is None or deadline <= start else deadline
        if gap.breached and late_from > start:
            bars.append((gap.accountable, Bar(1, css, start, late_from, label)))
        if gap.breached:
            bars.append((gap.accountable, Bar(1, css + " breached", late_from, finish,
                                              label, open_ended=end is None)))
        else:
            bars.append((gap.accountable, Bar(1, css, start, finish, label,
                                              open_ended=end is None)))
    clocks, lines = _deadlines(timeline, case, words)
    happened = max([b.end for _, b in bars] + [now])
    # The drawing spans what happened and the clocks running now; the case's legal and
    # promised lines (days or weeks away) are marked only when they fall inside it.
    moments = [b.start for _, b in bars] + [b.end for _, b in bars] + \
        [at for at, _ in clocks] + [now]
    start = min(moments)
    finish = max(max(moments), start + MIN_SPAN)
    finish += (finish - start) * RIGHT_MARGIN
    markers = clocks + [(at, label) for at, label in lines if start <= at <= finish]
    span = (finish - start).total_seconds()

    def place(bar: Bar) -> Bar:
        left = (bar.start - start).total_seconds() / span
        width = max((bar.end - bar.start).total_seconds() / span, 0.002)
        return Bar(bar.row, bar.css, bar.start, bar.end, bar.label, bar.open_ended,
                   left, width)

    lanes: dict[str, Lane] = {}
    for agency in _lane_order(timeline, bars):
        lanes[agency] = Lane(agency)
    for agency, bar in bars:
        lanes[agency].bars.append(place(bar))
    focus = min(1.0, (happened - start + (happened - start) * RIGHT_MARGIN).total_seconds()
                / span)
    return Swimlane(start, finish, list(lanes.values()), [
        Marker(at, label, (at - start).total_seconds() / span) for at, label in markers],
        focus=max(focus, MIN_SPAN.total_seconds() / span))


def _lane_order(timeline: ov.GetTimelineResponse, bars: list[tuple[str, Bar]]
                ) -> list[str]:
    """Owners first, in the order they owned the case; then the others as they first
    appear; the platform last."""
    order: list[str] = []
    for agency in [p.owner for p in timeline.ownership] + [a for a, _ in bars]:
        if agency not in order and agency != PLATFORM:
            order.append(agency)
    if any(a == PLATFORM for a, _ in bars):
        order.append(PLATFORM)
    return order


def _deadlines(timeline: ov.GetTimelineResponse, case: case_pb2.Case | None,
               words: Callable[[str], str]
               ) -> tuple[list[tuple[datetime, str]], list[tuple[datetime, str]]]:
    """The clock each live task runs against now; and the legal and promised lines."""
    lines: list[tuple[datetime, str]] = []
    opened = _time(timeline.lines.opened_time)
    if opened is not None:
        for name, line in (("legal", timeline.lines.legal),
                           ("promised", timeline.lines.promised)):
            if line.ByteSize():
                lines.append((opened + line.ToTimedelta(), words(f"line:{name}")))
    clocks: list[tuple[datetime, str]] = []
    for task in case.tasks if case is not None else ():
        step = running_clock(task)
        if step is not None:
            name, clock = step
            at = _time(clock.deadline)
            if at is not None:
                clocks.append((at, f"{task.id} {words('clock:' + name)}"))
    return clocks, lines


def phase_starts(timeline: ov.GetTimelineResponse) -> dict[str, datetime]:
    """When each task's current step began (its last dispatch, sign-for or arrival):
    the start of the clock it runs against now."""
    starts: dict[str, datetime] = {}
    steps = {_K.CASE_EVENT_KIND_TASK_DISPATCHED, _K.CASE_EVENT_KIND_TASK_SIGNED,
             _K.CASE_EVENT_KIND_TASK_ON_SCENE}
    for event in timeline.events:
        at = _time(event.time)
        if event.task_id and event.kind in steps and at is not None:
            starts[event.task_id] = at
    return starts


# What a page calls each clock.
CLOCK_NAMES = {"sign_by": "sign", "on_scene_by": "on scene", "due_by": "due"}


def running_clock(task: case_pb2.Task) -> tuple[str, case_pb2.Clock] | None:
    """The clock the task runs against now, as the case says (`Task.running_clock`)."""
    if not task.running_clock:
        return None
    return CLOCK_NAMES[task.running_clock], getattr(task, task.running_clock)
