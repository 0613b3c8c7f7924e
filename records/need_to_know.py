"""How much of a case each party sees: the one rule of least knowledge.

`participation` decides *whether* a case exists for a viewer; this module decides *how
much* of it: its part in the case, and which of the case's events that part shows.

* **Whole case**: the owner now, the coordinator and the oversight body.
* **Assignee**: the case's header and its own tasks (findings, evidence, decline
  reasons: its own work), the acts on them, its own acts and who owns the case.
* **Offered**: an agency offered the case that has not accepted it sees a summary (the
  header) and the offer, enough to decide.
* **Own part**: an agency that took part and left (declined an offer, handed the case
  on, opened it for another lead) sees the header and only its own part of the
  history: what it did and what was addressed to it.

Other agencies' officers are named only to those who see the whole case: who acted is
the agency, for everyone else.

The gateway shapes a case (gRPC, HTTP, the console: `gateway.case_views`) and the ledger's
readers shape events (exports, timelines) with these same functions, from the case's
state or from its events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from enum import IntEnum
from itertools import groupby

from records import event_schema as schema
from records.event_schema import Event, EventKind
from records.participation import sees_every_case


class Part(IntEnum):
    """A viewer's part in a case, from least to most it sees."""
    NONE = 0
    OWN_PART = 1
    OFFERED = 2
    ASSIGNEE = 3
    WHOLE = 4


# What makes the header: every part sees that the case was opened; an assignee also
# sees who owns it now and that it closed.
_OPENING = frozenset({EventKind.OPENED})
_OWNERSHIP = frozenset({EventKind.OPENED, EventKind.HANDOFF_ACCEPTED,
                        EventKind.OWNER_ASSIGNED, EventKind.CLOSED})
# The events that name a new owner (an objection decided by reassigning does).
_NAMING_OWNER = frozenset({EventKind.OPENED, EventKind.OWNER_ASSIGNED,
                           EventKind.OBJECTION_DECIDED})
# The events that name their task's assignee (a redispatch makes a new task).
_ASSIGNING = frozenset({EventKind.TASK_DISPATCHED, EventKind.DECLINE_REVIEWED})


def part_of(viewer: str, *, owner: str, coordinator: str, assignees: Collection[str],
            offered: Collection[str], participants: Collection[str]) -> Part:
    """`offered`: agencies with an offer of the case pending now; `participants`: every
    agency that took part (`participation.participants`)."""
    if viewer == owner or sees_every_case(viewer, coordinator=coordinator):
        return Part.WHOLE
    if viewer in assignees:
        return Part.ASSIGNEE
    if viewer in offered:
        return Part.OFFERED
    if viewer in participants:
        return Part.OWN_PART
    return Part.NONE


def shows_event(part: Part, viewer: str, *, kind: str, actor: str, task_id: str,
                attributes: Mapping[str, str], own_tasks: Collection[str]) -> bool:
    """Whether a viewer with `part` sees one of the case's events; `own_tasks` are the
    ids of the viewer's own tasks in the case."""
    if part is Part.WHOLE:
        return True
    if part is Part.NONE:
        return False
    if actor == viewer or kind in _OPENING:
        return True
    if task_id and task_id in own_tasks:
        return True
    if attributes.get(schema.TO_AGENCY) == viewer:  # an offer to it, and how it ended
        return True
    if viewer in attributes.get(schema.RECIPIENTS, "").split(","):  # its notices
        return True
    return part is Part.ASSIGNEE and kind in _OWNERSHIP


def shows_officer(part: Part, viewer: str, actor: str) -> bool:
    """Whether a viewer sees which officer of `actor` acted, or only the agency."""
    return part is Part.WHOLE or actor == viewer


def shows_gap(opened_by: int, shown: Collection[int]) -> bool:
    """A gap (observability.accountability) is seen with the event that opened it:
    `opened_by` is that event's sequence, `shown` the sequences the viewer sees."""
    return opened_by in shown


def shows_bounce_chain(task_ids: Collection[str], tasks_seen: Collection[str]) -> bool:
    """A task's way from agency to agency, to a viewer who sees one of its tasks."""
    return any(task in tasks_seen for task in task_ids)


def own_tasks(viewer: str, events: Iterable[tuple[str, str, Mapping[str, str]]]) -> set[str]:
    """The viewer's tasks, from (kind, task id, attributes) of a case's events."""
    return {task_id for kind, task_id, attributes in events
            if kind in _ASSIGNING and task_id and attributes.get(schema.ASSIGNEE) == viewer}


class EventPart:
    """A viewer's part in one case, worked out from its events as they stream by (the
    ledger's readers: exports and timelines), in the order they were recorded."""

    def __init__(self, viewer: str, coordinator: str) -> None:
        self.viewer = viewer
        self.coordinator = coordinator
        self.owner = ""
        self.tasks: set[str] = set()
        self.offered_now: set[str] = set()
        self.took_part = False

    def note(self, kind: str, actor: str, task_id: str, attributes: Mapping[str, str]
             ) -> None:
        if kind in _NAMING_OWNER and schema.OWNER in attributes:
            self.owner = attributes[schema.OWNER]
        if kind == EventKind.HANDOFF_ACCEPTED:
            self.owner = attributes.get(schema.TO_AGENCY, self.owner)
        if kind == EventKind.HANDOFF_OFFERED:
            self.offered_now.add(attributes.get(schema.TO_AGENCY, ""))
        elif kind.startswith("HANDOFF_") or kind == EventKind.OWNER_ASSIGNED:
            self.offered_now.discard(attributes.get(schema.TO_AGENCY, ""))
        if kind in _ASSIGNING and attributes.get(schema.ASSIGNEE) == self.viewer:
            self.tasks.add(task_id)
        if actor == self.viewer or self.viewer in (attributes.get(schema.TO_AGENCY),
                                                   attributes.get(schema.ASSIGNEE)):
            self.took_part = True

    def part(self) -> Part:
        return part_of(self.viewer, owner=self.owner, coordinator=self.coordinator,
                       assignees={self.viewer} if self.tasks else set(),
                       offered=self.offered_now,
                       participants={self.viewer} if self.took_part else set())


def events_seen_by(viewer: str, events: Iterable[Event], *, coordinator: str
                   ) -> Iterator[Event]:
    """What `viewer` sees of ledger events ordered by case and sequence (a whole ledger,
    or one case): each case's events its part shows, other agencies' officers left
    unnamed unless it sees the whole case. One case is held in memory at a time."""
    for _, grouped in groupby(events, key=lambda e: e.case_id):
        case = list(grouped)
        reading = EventPart(viewer, coordinator)
        for e in case:
            reading.note(e.kind, e.actor, e.task_id, e.attributes)
        part = reading.part()
        for e in case:
            if shows_event(part, viewer, kind=e.kind, actor=e.actor, task_id=e.task_id,
                           attributes=e.attributes, own_tasks=reading.tasks):
                yield e if shows_officer(part, viewer, e.actor) or not e.officer \
                    else replace(e, officer="")
