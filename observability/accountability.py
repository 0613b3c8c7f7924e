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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from records import event_schema as schema
from records import participation
from records.event_schema import Event
from records.event_schema import EventKind as K

# Who is accountable while a delivery is failing: the platform itself.
PLATFORM = schema.PLATFORM_ACTOR
# The chains of reporters' ratings: `rating:<report>@<run>`.
RATING_CHAIN_PREFIX = schema.rating_chain("")


def is_rating_chain(chain_id: str) -> bool:
    """Whether a ledger chain is a reporter's rating rather than a case."""
    return chain_id.startswith(RATING_CHAIN_PREFIX)


class Category(StrEnum):
    CASE = "case"
    OWNERSHIP = "ownership"
    TASK_PHASE = "task_phase"
    GAP = "gap"


class GapKind(StrEnum):
    HANDOFF_PENDING = "HANDOFF_PENDING"
    DISPATCH_UNSIGNED = "DISPATCH_UNSIGNED"
    ARRIVAL_PENDING = "ARRIVAL_PENDING"
    OVERDUE = "OVERDUE"
    DECLINE_REVIEW = "DECLINE_REVIEW"
    ESCALATION = "ESCALATION"
    LEAD_OBJECTION = "LEAD_OBJECTION"



# OBJECTION_DECIDED's outcomes: the dispatch stood (the objector keeps the case), or the
# case went to another lead.
UPHELD, REASSIGNED = "UPHELD", "REASSIGNED"


@dataclass(slots=True)
class Interval:
    """A span of responsibility: the case, an ownership period, a task phase or a gap."""

    case_id: str
    category: Category
    name: str  # the gap kind, the phase, or "ownership"/"case"
    start: datetime
    accountable: str
    start_event: Event
    end: datetime | None = None
    end_event: Event | None = None
    task_id: str = ""
    from_agency: str = ""
    to_agency: str = ""
    deadline: datetime | None = None
    ref: str = ""  # the hand-off or escalation id

    def closed_by(self, event: Event) -> None:
        self.end, self.end_event = event.at, event

    def breached(self, now: datetime) -> bool:
        if self.deadline is None:
            return False
        return (self.end or now) >= self.deadline

    def seconds(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds()


@dataclass(slots=True)
class _Task:
    id: str
    assignee: str
    dispatcher: str
    sign_by: datetime
    due_by: datetime
    on_scene_by: datetime | None
    # The latest event of the task: the cause a gap found at the end of a replay names.
    latest: Event
    state: str = "DISPATCHED"
    unsigned: Interval | None = None
    arrival: Interval | None = None
    overdue: Interval | None = None
    review: Interval | None = None
    phase: Interval | None = None

    @property
    def active(self) -> bool:
        return self.state in ("DISPATCHED", "SIGNED", "ON_SCENE", "DEEMED_CONSENT")


@dataclass(frozen=True, slots=True)
class CaseReport:
    """A report on the case (并单), as the ledger names it: never its reporter."""

    report_id: str
    channel: str
    service_code: str
    area: str  # "" when the report named none
    attached_at: datetime


@dataclass(slots=True)
class LeadObjection:
    """An objection to leading the case (派单异议) and, once decided, its outcome."""

    id: str
    objector: str
    coordinator: str
    raised_at: datetime
    decide_by: datetime | None
    outcome: str = ""  # UPHELD or REASSIGNED once decided
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rating:
    """A reporter's rating of a closed case: the event of a rating chain."""

    report_id: str
    rated_case: str
    case_type: str
    # The agency that led the case when it closed: the one rated.
    owner: str
    solved: bool
    satisfaction: str
    at: datetime
    # The hotline that recorded it.
    recorded_by: str

    @property
    def reopened(self) -> bool:
        """Whether it reopened the matter (重办): the rule decides, the reopened case
        follows from the rating."""
        return schema.reopens(self.solved, self.satisfaction)


def _time(attributes: dict[str, str], key: str) -> datetime | None:
    text = attributes.get(key)
    try:
        return schema.parse_time(text) if text else None
    except ValueError:
        return None  # an edited ledger; `verify` names the event


class CaseReplay:
    """Replays one case. Feed events in sequence, then `finish(now)`."""

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
        self._tasks: dict[str, _Task] = {}
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

    def _check_overdue(self, task: _Task, event: Event) -> None:
        if task.active and task.overdue is None and task.due_by < event.at:
            self._open_overdue(task, event)

    def _open_overdue(self, task: _Task, event: Event | None) -> None:
        # The gap starts at the deadline itself; the event that revealed it (or, at the
        # end of a replay, the latest one of the task) stands as its starting cause.
        task.overdue = self._gap(GapKind.OVERDUE, event or task.latest, task.assignee,
                                 at=task.due_by,
                                 task_id=task.id, from_agency=task.dispatcher,
                                 to_agency=task.assignee, deadline=task.due_by)

    def _phase(self, task: _Task, name: str, event: Event, accountable: str = "") -> None:
        if task.phase is not None:
            task.phase.closed_by(event)
            task.phase = None
        if self._phases and name:
            task.phase = self._open(Category.TASK_PHASE, name, event,
                                    accountable or task.assignee, task_id=task.id,
                                    from_agency=task.dispatcher, to_agency=task.assignee)

    def _close_task_gaps(self, task: _Task, event: Event) -> None:
        for name in ("unsigned", "arrival", "overdue"):
            gap = getattr(task, name)
            if gap is not None:
                gap.closed_by(event)
                setattr(task, name, None)

    def _send(self, task: _Task, event: Event) -> None:
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

    # ----- one method per event kind ------------------------------------------------

    def _opened(self, event: Event, _task: _Task | None) -> None:
        a = event.attributes
        self.case_type = a.get(schema.CASE_TYPE, "")
        self.reopened_from = a.get(schema.REOPENED_FROM, "")
        self.coordinator = a.get(schema.COORDINATOR, "")
        self.opened_at = event.at
        self.legal_by, self.promised_by = _time(a, schema.LEGAL_BY), _time(a, schema.PROMISED_BY)
        self._opener = event.actor
        self._case = self._open(Category.CASE, "case", event, a.get(schema.OWNER, ""))
        self._set_owner(a.get(schema.OWNER, event.actor), event)

    def _dispatched(self, event: Event, _task: _Task | None) -> None:
        a = event.attributes
        sign_by, due_by = _time(a, schema.SIGN_BY), _time(a, schema.DUE_BY)
        if sign_by is None or due_by is None:
            return  # not as the workflow writes it (an edited ledger): `verify` says so
        task = _Task(event.task_id, a.get(schema.ASSIGNEE, ""), event.actor, sign_by, due_by,
                     _time(a, schema.ON_SCENE_BY), event)
        self._tasks[task.id] = task
        self._assignees.append(task.assignee)
        source = a.get(schema.REDISPATCHED_FROM, "")
        root = self._chain_of.get(source, source) if source else task.id
        self._chain_of[task.id] = root
        chain = self.bounce_chains.setdefault(root, [])
        if not chain and source:
            previous = self._tasks.get(source)
            chain.append((source, previous.assignee if previous else ""))
        chain.append((task.id, task.assignee))
        self._send(task, event)

    def _delivered(self, event: Event, task: _Task | None) -> None:
        attempts = event.attributes.get(schema.ATTEMPTS, "1")
        if task is None or task.unsigned is None or not attempts.isdigit() or \
                int(attempts) <= 1:
            return
        # Delivery was failing: until it got through, the platform held the task up.
        failing = task.unsigned
        failing.accountable = PLATFORM
        failing.closed_by(event)
        task.unsigned = self._gap(GapKind.DISPATCH_UNSIGNED, event, task.assignee,
                                  task_id=task.id, from_agency=task.dispatcher,
                                  to_agency=task.assignee, deadline=task.sign_by)

    def _signed(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        if task.unsigned is not None:
            task.unsigned.closed_by(event)
            task.unsigned = None
        task.state = "SIGNED"
        self._outcome[task.id].signed_at = event.at
        if task.on_scene_by is not None:
            task.arrival = self._gap(GapKind.ARRIVAL_PENDING, event, task.assignee,
                                     task_id=task.id, from_agency=task.dispatcher,
                                     to_agency=task.assignee, deadline=task.on_scene_by)
        self._phase(task, "signed", event)

    def _on_scene(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        for name in ("unsigned", "arrival"):
            gap = getattr(task, name)
            if gap is not None:
                gap.closed_by(event)
                setattr(task, name, None)
        task.state = "ON_SCENE"
        self._outcome[task.id].arrived_at = event.at
        self._phase(task, "on_scene", event)

    def _done(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        task.state = "DONE"
        self._outcome[task.id].done_at = event.at
        self._phase(task, "", event)

    def _declined(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        task.state = "DECLINED"
        self._outcome[task.id].declined = True
        review_by = _time(event.attributes, schema.REVIEW_BY)
        task.review = self._gap(GapKind.DECLINE_REVIEW, event, self.owner, task_id=task.id,
                                from_agency=task.assignee, to_agency=self.owner,
                                deadline=review_by)
        self._phase(task, "declined", event, self.owner)

    def _reviewed(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        if task.review is not None:
            task.review.closed_by(event)
            task.review = None
        a = event.attributes
        if a.get(schema.OUTCOME) != "OVERRULED":
            task.state = "UPHELD"
            self._phase(task, "", event)
            return
        sign_by, due_by = _time(a, schema.SIGN_BY), _time(a, schema.DUE_BY)
        if sign_by is None or due_by is None:
            return  # not as the workflow writes it (an edited ledger): `verify` says so
        task.sign_by, task.due_by = sign_by, due_by
        task.on_scene_by = _time(a, schema.ON_SCENE_BY)
        self._send(task, event)

    def _extension_decided(self, event: Event, task: _Task | None) -> None:
        due_by = _time(event.attributes, schema.DUE_BY)
        if task is None or due_by is None:
            return
        task.due_by = due_by
        self._outcome[task.id].due_by = due_by
        if task.overdue is not None and due_by > event.at:
            task.overdue.closed_by(event)
            task.overdue = None

    def _deemed_consent(self, event: Event, task: _Task | None) -> None:
        due_by = _time(event.attributes, schema.DUE_BY)
        if task is None or due_by is None:
            return
        task.state = "DEEMED_CONSENT"
        task.due_by = due_by
        self._outcome[task.id].due_by = due_by
        self._phase(task, "deemed_consent", event)

    def _withdrawn(self, event: Event, task: _Task | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        if task.review is not None:
            task.review.closed_by(event)
            task.review = None
        task.state = "WITHDRAWN"
        self._outcome[task.id].withdrawn = True
        self._phase(task, "", event)

    def _escalation(self, event: Event, task: _Task | None) -> None:
        a = event.attributes
        coordinator = a.get(schema.COORDINATOR, self.coordinator)
        self._escalations[a.get(schema.ESCALATION_ID, "")] = self._gap(
            GapKind.ESCALATION, event, coordinator, task_id=event.task_id,
            from_agency=task.assignee if task is not None else self.owner,
            to_agency=coordinator, ref=a.get(schema.ESCALATION_ID, ""))

    def _escalation_resolved(self, event: Event, _task: _Task | None) -> None:
        gap = self._escalations.pop(event.attributes.get(schema.ESCALATION_ID, ""), None)
        if gap is not None:
            gap.closed_by(event)

    def _offered(self, event: Event, _task: _Task | None) -> None:
        a = event.attributes
        to_agency = a.get(schema.TO_AGENCY, "")
        self._offered_agencies.append(to_agency)
        self._handoffs[a.get(schema.HANDOFF_ID, "")] = self._gap(
            GapKind.HANDOFF_PENDING, event, a.get(schema.FROM_AGENCY, self.owner),
            from_agency=a.get(schema.FROM_AGENCY, self.owner), to_agency=to_agency,
            deadline=_time(a, schema.EXPIRES_AT), ref=a.get(schema.HANDOFF_ID, ""))

    def _handoff_ended(self, event: Event, _task: _Task | None) -> None:
        gap = self._handoffs.pop(event.attributes.get(schema.HANDOFF_ID, ""), None)
        if gap is not None:
            gap.closed_by(event)
        if event.kind == K.HANDOFF_ACCEPTED:
            self._set_owner(event.attributes.get(schema.TO_AGENCY, event.actor), event)

    def _owner_assigned(self, event: Event, task: _Task | None) -> None:
        self._handoff_ended(event, task)  # an assignment supersedes a pending offer
        self._set_owner(event.attributes.get(schema.OWNER, ""), event)

    def _closed(self, event: Event, _task: _Task | None) -> None:
        self.closed_at = event.at
        # The rules close no case with an objection pending; a ledger that says otherwise
        # still ends every wait with the case.
        for waits in (self._escalations, self._objection_gaps):
            for gap in waits.values():
                gap.closed_by(event)
            waits.clear()
        for interval in (self._ownership, self._case):
            if interval is not None:
                interval.closed_by(event)

    def _report_attached(self, event: Event, _task: _Task | None) -> None:
        a = event.attributes
        report_id = a.get(schema.REPORT_ID, "")
        self.reports[report_id] = CaseReport(report_id, a.get(schema.CHANNEL, ""),
                                             a.get(schema.SERVICE_CODE, ""),
                                             a.get(schema.AREA, ""), event.at)

    def _report_detached(self, event: Event, _task: _Task | None) -> None:
        self.reports.pop(event.attributes.get(schema.REPORT_ID, ""), None)

    def _lead_objected(self, event: Event, _task: _Task | None) -> None:
        """派单异议: the objector keeps the case while the coordinator reviews; the
        review is the coordinator's gap, with its deadline."""
        a = event.attributes
        objection_id = a.get(schema.OBJECTION_ID, "")
        coordinator = a.get(schema.COORDINATOR, self.coordinator)
        decide_by = _time(a, schema.DECIDE_BY)
        self.objections[objection_id] = LeadObjection(objection_id, event.actor, coordinator,
                                                      event.at, decide_by)
        self._objection_gaps[objection_id] = self._gap(
            GapKind.LEAD_OBJECTION, event, coordinator, from_agency=event.actor,
            to_agency=coordinator, deadline=decide_by, ref=objection_id)

    def _objection_decided(self, event: Event, _task: _Task | None) -> None:
        a = event.attributes
        objection_id = a.get(schema.OBJECTION_ID, "")
        gap = self._objection_gaps.pop(objection_id, None)
        if gap is not None:
            gap.closed_by(event)
        objection = self.objections.get(objection_id)
        if objection is not None:
            objection.outcome, objection.decided_at = a.get(schema.OUTCOME, ""), event.at
        new_owner = a.get(schema.OWNER, "")
        if new_owner:  # reassigned: the case moves at this moment, as on OWNER_ASSIGNED
            self._set_owner(new_owner, event)

    def _rated(self, event: Event) -> None:
        a = event.attributes
        self.rating = Rating(
            a.get(schema.REPORT_ID, ""), a.get(schema.RATED_CASE, ""),
            a.get(schema.CASE_TYPE, ""), a.get(schema.OWNER, ""),
            a.get(schema.SOLVED) == "true", a.get(schema.SATISFACTION, ""),
            event.at, event.actor)

    # ----- results ------------------------------------------------------------------

    def gaps(self) -> list[Interval]:
        return [i for i in self.intervals if i.category is Category.GAP]


@dataclass(slots=True)
class TaskOutcome:
    """One round of a task at its assignee, as scorecards judge it."""

    assignee: str
    dispatched_at: datetime
    sign_by: datetime
    on_scene_by: datetime | None
    due_by: datetime
    signed_at: datetime | None = None
    arrived_at: datetime | None = None
    done_at: datetime | None = None
    declined: bool = False
    withdrawn: bool = False
    # Judgements: True on time, False late, None not (yet) judged.
    signed_on_time: bool | None = None
    arrived_on_time: bool | None = None
    done_on_time: bool | None = None

    def settle(self, now: datetime) -> None:
        ended = self.declined or self.withdrawn
        self.signed_on_time = _judge(self.signed_at, self.sign_by, now, ended)
        if self.on_scene_by is not None:
            self.arrived_on_time = _judge(self.arrived_at, self.on_scene_by, now, ended)
        self.done_on_time = _judge(self.done_at, self.due_by, now, ended)


def _judge(when: datetime | None, deadline: datetime, now: datetime, ended: bool
           ) -> bool | None:
    if when is not None:
        return when < deadline
    if ended:
        return None  # it went back or was taken away before this clock was kept or missed
    return False if now >= deadline else None


_HANDLERS: dict[str, Callable[[CaseReplay, Event, _Task | None], None]] = {
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
