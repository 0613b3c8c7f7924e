"""Who held responsibility when: a case's ledger events replayed into periods and gaps.

`CaseReplay` reads one case's events in sequence and yields:
* the case itself, each ownership period and each task phase, and
* every accountability gap of DESIGN.md's table, with the agency accountable while it
  lasted, the agencies on both sides, the deadline that applied and whether it was breached;
* what the hotline's figures count: the reports on the case (并单) and the objections to
  its lead (派单异议).

A reporter's rating (回访/评价) is a ledger chain of its own (`rating:<report>@<run>`, one
REPORT_RATED event): its replay is no case (no periods, no gaps, no lines), only the
`rating` the scorecards fold in.

Everything is derived from the ledger alone, so the spans a worker exports and the gaps
the oversight API reports are the same intervals by construction.

Split by what it replays: `replay_model` (what a replay yields), `replay_base` (the state
it keeps and the moves every handler makes), `replay_tasks` (the tasks' events) and
`replay_case` (the case's own); this module feeds each event to its handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from observability.replay_case import CaseEvents
from observability.replay_model import (
    PLATFORM,
    RATING_CHAIN_PREFIX,
    REASSIGNED,
    UPHELD,
    CaseReport,
    Category,
    GapKind,
    Interval,
    LeadObjection,
    Rating,
    ReplayedTask,
    TaskOutcome,
    is_rating_chain,
)
from observability.replay_tasks import TaskEvents
from records import participation
from records.event_schema import Event
from records.event_schema import EventKind as K

# What a replay yields, read by the scorecards, the gap store, the spans and the audits.
__all__ = ["PLATFORM", "RATING_CHAIN_PREFIX", "REASSIGNED", "UPHELD", "CaseReplay",
           "CaseReport", "Category", "GapKind", "Interval", "LeadObjection", "Rating",
           "TaskOutcome", "is_rating_chain"]


class CaseReplay(TaskEvents, CaseEvents):
    """Replays one case. Feed events in sequence, then `finish(now)`."""

    # ----- feeding ------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        if self.is_rating or event.kind == K.REPORT_RATED:
            # A rating chain holds its rating and nothing else; a rating anywhere else
            # was not recorded by a rating's run (`audit verify` says so): not counted.
            if self.is_rating and event.kind == K.REPORT_RATED:
                self._rated(event)
            return
        handler = _HANDLERS.get(event.kind)
        task = self._tasks.get(event.task_id) if event.task_id else None
        if task is not None:
            task.latest = event
            if event.kind != K.DEEMED_CONSENT:
                # Consent is the lawful end of an approval's silence, never an overdue.
                self._check_overdue(task, event)
        if event.actor and event.actor == self.coordinator and event.kind != K.OPENED:
            self._coordinator_acted(event)
        if handler is not None:
            handler(self, event, task)

    def finish(self, now: datetime) -> None:
        """Open overdue gaps for tasks whose due-by passed before `now`."""
        for task in self._tasks.values():
            if task.active and task.due_by < now and task.overdue is None:
                self._open_overdue(task, None)
        for outcome in self._outcome.values():
            outcome.settle(now)

    @property
    def participants(self) -> list[str]:
        """The agencies taking part (`records.participation`'s rule). In a rating:
        the hotline that recorded it and the agency rated, which sees its own ratings."""
        if self.rating is not None:
            rated = [self.rating.owner] if self.rating.owner else []
            return participation.participants(opener=self.rating.recorded_by, owners=rated,
                                              assignees=[], offered=[])
        return participation.participants(opener=self._opener, owners=self._owners,
                                          assignees=self._assignees, offered=self._offered_agencies)

    def reports_per_area(self) -> dict[str, int]:
        """The reports on the case now, per area ("" for those that named none)."""
        found: dict[str, int] = {}
        for report in self.reports.values():
            found[report.area] = found.get(report.area, 0) + 1
        return found

    # ----- results ------------------------------------------------------------------

    def gaps(self) -> list[Interval]:
        return [i for i in self.intervals if i.category is Category.GAP]


_HANDLERS: dict[str, Callable[[CaseReplay, Event, ReplayedTask | None], None]] = {
    K.OPENED: CaseReplay._opened,
    K.TASK_DISPATCHED: CaseReplay._dispatched,
    K.TASK_DELIVERED: CaseReplay._delivered,
    K.TASK_SIGNED: CaseReplay._signed,
    K.TASK_ON_SCENE: CaseReplay._on_scene,
    K.TASK_DONE: CaseReplay._done,
    K.TASK_DECLINED: CaseReplay._declined,
    K.DECLINE_REVIEWED: CaseReplay._reviewed,
    K.EXTENSION_DECIDED: CaseReplay._extension_decided,
    K.DEEMED_CONSENT: CaseReplay._deemed_consent,
    K.TASK_WITHDRAWN: CaseReplay._withdrawn,
    K.ESCALATION: CaseReplay._escalation,
    K.ESCALATION_RESOLVED: CaseReplay._escalation_resolved,
    K.HANDOFF_OFFERED: CaseReplay._offered,
    K.HANDOFF_ACCEPTED: CaseReplay._handoff_ended,
    K.HANDOFF_DECLINED: CaseReplay._handoff_ended,
    K.HANDOFF_WITHDRAWN: CaseReplay._handoff_ended,
    K.HANDOFF_EXPIRED: CaseReplay._handoff_ended,
    K.OWNER_ASSIGNED: CaseReplay._owner_assigned,
    K.CLOSED: CaseReplay._closed,
    K.REPORT_ATTACHED: CaseReplay._report_attached,
    K.REPORT_DETACHED: CaseReplay._report_detached,
    K.LEAD_OBJECTED: CaseReplay._lead_objected,
    K.OBJECTION_DECIDED: CaseReplay._objection_decided,
}
