"""The state a case's replay keeps and the moves every handler makes with it: open a
period or a gap, keep a task's phases, send a task (again), move the ownership."""

from __future__ import annotations

from datetime import datetime

from observability.replay_model import (
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
from records.event_schema import Event


class ReplayBase:
    """What `CaseReplay` holds while it reads a case's events; its handlers are split by
    what they replay (`replay_tasks`, `replay_case`)."""

    def __init__(self, case_id: str, *, phases: bool = True) -> None:
        self.case_id = case_id
        self.intervals: list[Interval] = []
        # Who took part, as the events say it (see `participants`).
        self._opener = ""
        self._owners: list[str] = []
        self._assignees: list[str] = []
        self._offered_agencies: list[str] = []
        self.case_type = ""
        self.owner = ""
        self.coordinator = ""
        self.opened_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.legal_by: datetime | None = None
        self.promised_by: datetime | None = None
        # Per task: (dispatched, signed) rounds and outcomes for scorecards.
        self.task_log: list[TaskOutcome] = []
        self.bounce_chains: dict[str, list[tuple[str, str]]] = {}
        self._phases = phases
        self._tasks: dict[str, ReplayedTask] = {}
        self._chain_of: dict[str, str] = {}
        self._handoffs: dict[str, Interval] = {}
        self._escalations: dict[str, Interval] = {}
        self._ownership: Interval | None = None
        self._case: Interval | None = None
        self._outcome: dict[str, TaskOutcome] = {}
        # 重办: the case this one reopens, if it does.
        self.reopened_from = ""
        # The reports on the case now (attached and not split off again), by id.
        self.reports: dict[str, CaseReport] = {}
        # Objections to the lead, by id, and the review gaps still open.
        self.objections: dict[str, LeadObjection] = {}
        self._objection_gaps: dict[str, Interval] = {}
        # A rating chain's one rating; None for a case.
        self.is_rating = is_rating_chain(case_id)
        self.rating: Rating | None = None

    # ----- helpers ------------------------------------------------------------------

    def _open(self, category: Category, name: str, event: Event, accountable: str, *,
              at: datetime | None = None, task_id: str = "", from_agency: str = "",
              to_agency: str = "", deadline: datetime | None = None, ref: str = ""
              ) -> Interval:
        interval = Interval(self.case_id, category, name, at or event.at, accountable, event,
                            task_id=task_id, from_agency=from_agency, to_agency=to_agency,
                            deadline=deadline, ref=ref)
        self.intervals.append(interval)
        return interval

    def _gap(self, kind: GapKind, event: Event, accountable: str, *,
             at: datetime | None = None, task_id: str = "", from_agency: str = "",
             to_agency: str = "", deadline: datetime | None = None, ref: str = ""
             ) -> Interval:
        return self._open(Category.GAP, kind.value, event, accountable, at=at,
                          task_id=task_id, from_agency=from_agency, to_agency=to_agency,
                          deadline=deadline, ref=ref)

    def _check_overdue(self, task: ReplayedTask, event: Event) -> None:
        if task.active and task.overdue is None and task.due_by < event.at:
            self._open_overdue(task, event)

    def _open_overdue(self, task: ReplayedTask, event: Event | None) -> None:
        # The gap starts at the deadline itself; the event that revealed it (or, at the
        # end of a replay, the latest one of the task) stands as its starting cause.
        task.overdue = self._gap(GapKind.OVERDUE, event or task.latest, task.assignee,
                                 at=task.due_by,
                                 task_id=task.id, from_agency=task.dispatcher,
                                 to_agency=task.assignee, deadline=task.due_by)

    def _phase(self, task: ReplayedTask, name: str, event: Event, accountable: str = "") -> None:
        if task.phase is not None:
            task.phase.closed_by(event)
            task.phase = None
        if self._phases and name:
            task.phase = self._open(Category.TASK_PHASE, name, event,
                                    accountable or task.assignee, task_id=task.id,
                                    from_agency=task.dispatcher, to_agency=task.assignee)

    def _close_task_gaps(self, task: ReplayedTask, event: Event) -> None:
        for name in ("unsigned", "arrival", "overdue"):
            gap = getattr(task, name)
            if gap is not None:
                gap.closed_by(event)
                setattr(task, name, None)

    def _send(self, task: ReplayedTask, event: Event) -> None:
        """The task is (again) waiting for its assignee to sign for it."""
        task.state = "DISPATCHED"
        task.unsigned = self._gap(GapKind.DISPATCH_UNSIGNED, event, task.assignee,
                                  task_id=task.id, from_agency=task.dispatcher,
                                  to_agency=task.assignee, deadline=task.sign_by)
        self._phase(task, "dispatched", event)
        outcome = TaskOutcome(task.assignee, event.at, task.sign_by, task.on_scene_by,
                              task.due_by)
        self._outcome[task.id] = outcome
        self.task_log.append(outcome)

    def _set_owner(self, owner: str, event: Event) -> None:
        if self._ownership is not None:
            self._ownership.closed_by(event)
        self.owner = owner
        self._owners.append(owner)
        self._ownership = self._open(Category.OWNERSHIP, "ownership", event, owner)
        # A decline waiting for review is the owner's to review: from now on the new one's.
        for task in self._tasks.values():
            review = task.review
            if review is not None and review.accountable != owner:
                review.closed_by(event)
                task.review = self._gap(GapKind.DECLINE_REVIEW, event, owner, task_id=task.id,
                                        from_agency=task.assignee, to_agency=owner,
                                        deadline=review.deadline)

    def _coordinator_acted(self, event: Event) -> None:
        """An escalation lasts until the coordinator acts on what was escalated: on its
        task (a review, a withdrawal) or, for one about the case, on the case."""
        for key, gap in list(self._escalations.items()):
            if gap.task_id == event.task_id:
                gap.closed_by(event)
                del self._escalations[key]
