"""CaseEngine: one case's state and the entry points that change it.

Every operation is a function `op(engine, command, now, apply)` that makes all its
checks first and mutates only when `apply` is true, so validating a request and
executing it run the very same checks, and a refusal can never leave half a change.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from records import event_schema as schema
from workflows.rules import (
    clocks,
    limits,
    objection_ops,
    ownership_ops,
    phrases,
    report_ops,
    task_ops,
)
from workflows.rules.calendar import parse_duration
from workflows.rules.catalog import CaseRules
from workflows.rules.commands import CloseCase, Command, OpenCase
from workflows.rules.effects import CaseEventBatch, Effect, Notice
from workflows.rules.model import (
    PLATFORM,
    Actor,
    CaseEvent,
    CaseState,
    CaseStatus,
    Clock,
    CommandResult,
    Escalation,
    EventKind,
    NoticeKind,
    OwnershipInterval,
    OwnershipVia,
    Task,
)
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.registry import Operation, operation_for
from workflows.versions import LATEST

# The operation modules register their commands on import.
_REGISTERED = (ownership_ops, task_ops, report_ops, objection_ops)


class CaseEngine:
    def __init__(self, state: CaseState, rules: CaseRules, *, version: int = LATEST,
                 events_taken: int | None = None) -> None:
        self.state = state
        self.rules = rules
        # The case's version (workflows.versions): a rule changed after the release
        # branches on it, so a case opened before replays as it ran. Never a flag per
        # change.
        self.version = version
        self._effects: list[Effect] = []
        # How many of the case's events the ledger has been sent: by default all the
        # state already holds; for a continued case, what its previous run had sent.
        self._events_taken = len(state.events) if events_taken is None else events_taken
        # The request being executed, as (trace id, span id), and the signed statements
        # that vouch for its actor: its events carry both.
        self._request_trace = ("", "")
        self._request_proofs: tuple[str, ...] = ()

    # ----- entry points -------------------------------------------------------------

    def validate(self, cmd: Command, now: datetime) -> None:
        """Raise Refusal if `execute(cmd, now)` would. Never changes anything.

        `execute` first settles the clocks that passed by `now`; so that validation judges
        the same case, a passed clock is settled on a scratch copy first (rare: only when
        the request and the clock's timer arrive together).
        """
        engine = self
        due = self.next_deadline()
        if due is not None and due <= now:
            engine = CaseEngine(copy.deepcopy(self.state), self.rules, version=self.version)
            engine.tick(now)
        engine.check_caller(cmd.actor)
        if engine._previous_answer(cmd) is None:
            engine._operation(cmd)(engine, cmd, now, False)

    def execute(self, cmd: Command, now: datetime, *, trace: tuple[str, str] = ("", ""),
                proofs: tuple[str, ...] = ()) -> CommandResult:
        """Settle the clocks due by `now`, then apply `cmd` or raise Refusal.

        A refusal leaves everything as the clocks left it. A request id seen before
        returns the first answer again. `trace` (trace id, span id) names the request and
        `proofs` vouch for its actor; the events it causes carry both, while those of
        clocks settled first do not.
        """
        self.tick(now)
        self.check_caller(cmd.actor)
        previous = self._previous_answer(cmd)
        if previous is not None:
            return previous
        operation = self._operation(cmd)
        with self.caused_by(trace, proofs):
            result = operation(self, cmd, now, True)
        assert result is not None
        self.state.answers[answer_key(cmd)] = (fingerprint(cmd), result)
        self.state.text_bytes += limits.text_bytes(cmd)
        return result

    @contextmanager
    def caused_by(self, trace: tuple[str, str], proofs: tuple[str, ...] = ()
                  ) -> Iterator[None]:
        """Events recorded meanwhile name the request `trace` (trace id, span id) and
        carry the `proofs` of who made it."""
        outer = self._request_trace, self._request_proofs
        self._request_trace, self._request_proofs = trace, proofs
        try:
            yield
        finally:
            self._request_trace, self._request_proofs = outer

    def tick(self, now: datetime, *, due_by: datetime | None = None) -> None:
        """Fire every clock whose deadline has passed by `due_by` (by `now` when not
        given), earliest first, stamped `now`."""
        clocks.fire_due_clocks(self, now, due_by)

    def next_deadline(self) -> datetime | None:
        return clocks.next_deadline(self)

    def mark_delivered(self, task_id: str, round: int, at: datetime, *, attempts: int = 1,
                       receipt: str = "") -> None:
        """Record that `round` of a task reached its assignee's inbox after `attempts`,
        with the assignee's signed `receipt` for it.

        The ledger hears of it while the case is open; a delivery that lands while a
        closed case drains its effects changes nothing anyone is accountable for."""
        task = self.state.task(task_id)
        if task is None or round <= task.delivered_round:
            return
        task.delivered_round, task.delivered_at = round, at
        if self.state.status is CaseStatus.OPEN:
            with self.caused_by(("", ""), (receipt,) if receipt else ()):
                self.record(EventKind.TASK_DELIVERED, PLATFORM, at, task_id=task_id,
                            phrase=Phrase("delivered", round=str(round),
                                          assignee=task.assignee),
                            attributes={schema.ROUND: str(round),
                                        schema.ATTEMPTS: str(attempts)})

    def mark_notified(self, notice: Notice, at: datetime, receipts: tuple[str, ...]) -> None:
        """Record that every recipient of `notice` has it, with their signed receipts
        (while the case is open, as for deliveries)."""
        if self.state.status is not CaseStatus.OPEN:
            return
        with self.caused_by(("", ""), receipts):
            self.record(EventKind.NOTICE_DELIVERED, PLATFORM, at,
                        phrase=Phrase("notice_delivered", notice=notice.kind.value,
                                      recipients=",".join(notice.recipients)),
                        attributes={schema.NOTICE: notice.idempotency_key,
                                    schema.RECIPIENTS: ",".join(notice.recipients),
                                    **({schema.NOTICE_TASK: notice.task_id}
                                       if notice.task_id else {})})

    def take_effects(self) -> list[Effect]:
        """Deliveries and notices asked for since the last call."""
        effects, self._effects = self._effects, []
        return effects

    def has_effects(self) -> bool:
        return bool(self._effects)

    def has_new_events(self) -> bool:
        return len(self.state.events) > self._events_taken

    @property
    def events_taken(self) -> int:
        return self._events_taken

    def take_events(self) -> CaseEventBatch | None:
        """Events recorded since the last call, for the ledger."""
        new = self.state.events[self._events_taken :]
        self._events_taken = len(self.state.events)
        if not new:
            return None
        return CaseEventBatch(case_id=self.state.id, events=list(new))

    # ----- shared checks ------------------------------------------------------------

    def check_actor(self, actor: Actor) -> None:
        self.check_agency(actor.agency, "actor.agency")
        limits.check_text("actor.officer", actor.officer, limits.MAX_OFFICER)

    def check_caller(self, actor: Actor) -> None:
        """A well-formed actor that can see the case. To an agency taking no part in it
        the case does not exist: the refusal is word for word what a wrong id gets."""
        self.check_actor(actor)
        if not self.state.visible_to(actor.agency, self.rules.directory.coordinator):
            raise Refusal(Reason.CASE_NOT_FOUND, f"there is no case {self.state.reference}")

    def check_agency(self, agency_id: str, field: str) -> None:
        limits.check_text(field, agency_id, limits.MAX_ID, required=True)
        if self.rules.directory.get(agency_id) is None:
            raise Refusal(
                Reason.UNKNOWN_AGENCY,
                f"{field}: no agency {agency_id!r} in the directory",
                field=field,
            )

    def check_open(self) -> None:
        if self.state.status is CaseStatus.CLOSED:
            raise Refusal(Reason.CASE_CLOSED, f"case {self.state.reference} is closed")

    def check_owner(self, actor: Actor, *, or_coordinator: bool = False) -> None:
        if actor.agency == self.state.owner:
            return
        if or_coordinator and actor.agency == self.rules.directory.coordinator:
            return
        who = "the owner or the coordinator" if or_coordinator else "the owner"
        raise Refusal(
            Reason.NOT_OWNER,
            f"only {who} may do this; {self.state.owner} owns case {self.state.reference}",
        )

    def check_coordinator(self, actor: Actor) -> None:
        if actor.agency != self.rules.directory.coordinator:
            raise Refusal(
                Reason.NOT_COORDINATOR,
                f"only the coordinator ({self.rules.directory.coordinator}) may do this",
            )

    def find_task(self, task_id: str) -> Task:
        task = self.state.task(task_id)
        if task is None:
            raise Refusal(
                Reason.TASK_NOT_FOUND, f"case {self.state.reference} has no task {task_id!r}"
            )
        return task

    def check_capability(self, agency_id: str, capability: str, field: str) -> None:
        if not self.rules.directory.can(agency_id, capability):
            raise Refusal(
                Reason.MISSING_CAPABILITY,
                f"{field}: {agency_id} lacks the capability {capability!r} this task needs",
                field=field,
            )

    def deadline_after(self, now: datetime, duration_text: str, field: str) -> datetime:
        try:
            duration = parse_duration(duration_text)
        except ValueError as err:
            raise Refusal(Reason.BAD_DURATION, f"{field}: {err}", field=field) from None
        return self.rules.calendar.add(now, duration)

    # ----- shared changes -----------------------------------------------------------

    def record(self, kind: EventKind, actor: Actor, now: datetime, *, task_id: str = "",
               detail: str = "", phrase: Phrase | None = None,
               attributes: dict[str, str] | None = None) -> None:
        """An event; what it says is `phrase` (stored, and its English as the detail) or,
        for a person's words alone, `detail`."""
        attributes = dict(attributes or {})
        if phrase is not None:
            attributes[schema.PHRASE] = phrase.encode()
            detail = detail or self.english(phrase)
        trace_id, span_id = self._request_trace
        self.state.events.append(
            CaseEvent(len(self.state.events) + 1, kind, actor, now, task_id, detail,
                      attributes, trace_id, span_id, self._request_proofs)
        )

    def english(self, phrase: Phrase) -> str:
        """A phrase as the ledger's detail and the CLI show it: English, agency ids, times
        in the district's zone."""
        return phrases.render(phrase, "en", when=lambda iso: self.rules.local(
            datetime.fromisoformat(iso)))

    def notify(self, kind: NoticeKind, recipients: list[str], phrase: Phrase, *,
               task_id: str = "", handoff_id: str = "") -> None:
        self.state.notices_sent += 1
        self.add_effect(
            Notice(
                idempotency_key=f"{self.state.id}/notice/{self.state.notices_sent}",
                case_id=self.state.id,
                case_number=self.state.number,
                kind=kind,
                recipients=tuple(dict.fromkeys(recipients)),
                text=self.english(phrase),
                phrase=phrase.encode(),
                task_id=task_id,
                handoff_id=handoff_id,
            )
        )

    def escalate(self, reason: Phrase, now: datetime, *, task_id: str = "",
                 handoff_id: str = "", also_notify: tuple[str, ...] = ()) -> None:
        escalation = Escalation(
            id=f"E{len(self.state.escalations) + 1}",
            reason=self.english(reason),
            phrase=reason.encode(),
            raised_at=now,
            task_id=task_id,
            handoff_id=handoff_id,
        )
        self.state.escalations.append(escalation)
        coordinator = self.rules.directory.coordinator
        self.record(EventKind.ESCALATION, PLATFORM, now, task_id=task_id,
                    detail=f"{escalation.id}: {escalation.reason}", phrase=reason,
                    attributes={schema.ESCALATION_ID: escalation.id,
                                schema.COORDINATOR: coordinator,
                                **({schema.HANDOFF_ID: handoff_id} if handoff_id else {})})
        self.notify(NoticeKind.ESCALATION, [coordinator, self.state.owner, *also_notify],
                    reason, task_id=task_id, handoff_id=handoff_id)

    def supervise(self, clock: Clock, missed: Phrase, now: datetime, *, task_id: str,
                  recipients: list[str]) -> None:
        """A clock was missed: first a supervision notice and a grace period, then
        escalation. `missed` says which clock ("clock_missed" and its arguments); the
        second miss is its "_twice"."""
        clock.misses += 1
        if clock.misses == 1:
            first = Phrase(missed.key, **missed.args,
                           deadline_time=schema.timestamp(clock.deadline))
            self.record(EventKind.NOTICE, PLATFORM, now, task_id=task_id, phrase=first)
            self.notify(NoticeKind.SUPERVISION, recipients, first, task_id=task_id)
            clock.deadline = clock.deadline + timedelta(seconds=clock.grace_seconds)
        else:
            self.escalate(Phrase(f"{missed.key}_twice", **missed.args), now,
                          task_id=task_id, also_notify=tuple(recipients))

    def transfer_ownership(self, new_owner: str, now: datetime, via: OwnershipVia) -> None:
        """Atomically end the current owner's interval and start the next one."""
        current = self.state.ownership[-1]
        current.end = now
        self.state.ownership.append(OwnershipInterval(new_owner, now, via))
        self.state.owner = new_owner

    def add_effect(self, effect: Effect) -> None:
        trace_id, span_id = self._request_trace
        self._effects.append(replace(effect, trace_id=trace_id, span_id=span_id))

    def result(self, **kwargs: Any) -> CommandResult:
        return CommandResult(case_id=self.state.id, owner=self.state.owner,
                             status=self.state.status, **kwargs)

    # ----- internals ----------------------------------------------------------------

    def _operation(self, cmd: Command) -> Operation:
        limits.check_text("request_id", cmd.request_id, limits.MAX_REQUEST_ID, required=True)
        self.check_actor(cmd.actor)
        limits.check_case_size(requests=len(self.state.answers),
                               held_bytes=self.state.text_bytes, adding=cmd,
                               closing=isinstance(cmd, CloseCase))
        return operation_for(cmd)

    def _previous_answer(self, cmd: Command) -> CommandResult | None:
        stored = self.state.answers.get(answer_key(cmd))
        if stored is None:
            return None
        first_fingerprint, answer = stored
        if first_fingerprint != fingerprint(cmd):
            raise Refusal(
                Reason.REQUEST_ID_REUSED,
                f"request_id {cmd.request_id!r} was already used for a different request; "
                "use a new request_id for a new request",
                field="request_id",
            )
        return answer


def answer_key(cmd: Command | OpenCase) -> str:
    """Where a request's first answer is kept: request ids are the caller's agency's own,
    so another agency choosing the same id first neither blocks it nor reads its answer.
    An agency id has no '/', so the key is unambiguous."""
    return f"{cmd.actor.agency}/{cmd.request_id}"


def fingerprint(cmd: Command | OpenCase) -> str:
    return repr(replace(cmd, request_id=""))
