"""How a case's replay reads its tasks' events: dispatch, delivery, sign-for, on scene,
done, decline and its review, extensions, deemed consent, withdrawal, escalation."""

from __future__ import annotations

from observability.replay_base import ReplayBase
from observability.replay_model import (
    PLATFORM,
    GapKind,
    ReplayedTask,
    attribute_time,
)
from records import event_schema as schema
from records.event_schema import Event


class TaskEvents(ReplayBase):
    def _dispatched(self, event: Event, _task: ReplayedTask | None) -> None:
        a = event.attributes
        sign_by, due_by = attribute_time(a, schema.SIGN_BY), attribute_time(a, schema.DUE_BY)
        if sign_by is None or due_by is None:
            return  # not as the workflow writes it (an edited ledger): `verify` says so
        task = ReplayedTask(event.task_id, a.get(schema.ASSIGNEE, ""), event.actor, sign_by, due_by,
                     attribute_time(a, schema.ON_SCENE_BY), event)
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

    def _delivered(self, event: Event, task: ReplayedTask | None) -> None:
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

    def _signed(self, event: Event, task: ReplayedTask | None) -> None:
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

    def _on_scene(self, event: Event, task: ReplayedTask | None) -> None:
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

    def _done(self, event: Event, task: ReplayedTask | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        task.state = "DONE"
        self._outcome[task.id].done_at = event.at
        self._phase(task, "", event)

    def _declined(self, event: Event, task: ReplayedTask | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        task.state = "DECLINED"
        self._outcome[task.id].declined = True
        review_by = attribute_time(event.attributes, schema.REVIEW_BY)
        task.review = self._gap(GapKind.DECLINE_REVIEW, event, self.owner, task_id=task.id,
                                from_agency=task.assignee, to_agency=self.owner,
                                deadline=review_by)
        self._phase(task, "declined", event, self.owner)

    def _reviewed(self, event: Event, task: ReplayedTask | None) -> None:
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
        sign_by, due_by = attribute_time(a, schema.SIGN_BY), attribute_time(a, schema.DUE_BY)
        if sign_by is None or due_by is None:
            return  # not as the workflow writes it (an edited ledger): `verify` says so
        task.sign_by, task.due_by = sign_by, due_by
        task.on_scene_by = attribute_time(a, schema.ON_SCENE_BY)
        self._send(task, event)

    def _extension_decided(self, event: Event, task: ReplayedTask | None) -> None:
        due_by = attribute_time(event.attributes, schema.DUE_BY)
        if task is None or due_by is None:
            return
        task.due_by = due_by
        self._outcome[task.id].due_by = due_by
        if task.overdue is not None and due_by > event.at:
            task.overdue.closed_by(event)
            task.overdue = None

    def _deemed_consent(self, event: Event, task: ReplayedTask | None) -> None:
        due_by = attribute_time(event.attributes, schema.DUE_BY)
        if task is None or due_by is None:
            return
        task.state = "DEEMED_CONSENT"
        task.due_by = due_by
        self._outcome[task.id].due_by = due_by
        self._phase(task, "deemed_consent", event)

    def _withdrawn(self, event: Event, task: ReplayedTask | None) -> None:
        if task is None:
            return
        self._close_task_gaps(task, event)
        if task.review is not None:
            task.review.closed_by(event)
            task.review = None
        task.state = "WITHDRAWN"
        self._outcome[task.id].withdrawn = True
        self._phase(task, "", event)

    def _escalation(self, event: Event, task: ReplayedTask | None) -> None:
        a = event.attributes
        coordinator = a.get(schema.COORDINATOR, self.coordinator)
        self._escalations[a.get(schema.ESCALATION_ID, "")] = self._gap(
            GapKind.ESCALATION, event, coordinator, task_id=event.task_id,
            from_agency=task.assignee if task is not None else self.owner,
            to_agency=coordinator, ref=a.get(schema.ESCALATION_ID, ""))

    def _escalation_resolved(self, event: Event, _task: ReplayedTask | None) -> None:
        gap = self._escalations.pop(event.attributes.get(schema.ESCALATION_ID, ""), None)
        if gap is not None:
            gap.closed_by(event)
