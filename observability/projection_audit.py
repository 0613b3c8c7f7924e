"""Whether the read model holds what the ledger says: `audit verify`'s rule for it, as
`gap_audit` is for the gap store.

The read model (`observability.projection`) is what every list shows: who owns a case,
whether it is open, who takes part (and so may see it), and what each agency must do
next by when. The case writes it beside its events, in the append's transaction; it
carries no hash chain, so an edit to it would mislead every inbox unseen. For a case
whose ledger holds, it is held to a replay of that ledger:

* the case row: written from the chain's last event, with the ledger's owner, status,
  type, number, opening, close, promised line and reopening;
* who takes part: exactly the agencies the ledger's events make participants;
* the work items: each row as its own content says (its place in the queue, its key),
  every task of an open case in its assignee's queue, every open step the ledger shows
  (a task to sign for, arrive at or complete; a decline to review; an offer to answer;
  an escalation or objection to settle; an extension to decide; the case itself to
  dispatch or close) in the queue of the agency the ledger makes responsible, with the
  deadline the ledger gives, and no open item the ledger does not give;
* a rated report: shown as rated, unless it has moved on to the case its rating reopened.

What the ledger does not hold (a task's title, the words of the next step) is not held
to it. A case opened before the read model has no rows until it continues as new: only
a case whose opening says it is listed (`event_schema.LISTED`) must have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from observability import gap_audit, ledger, projection
from observability.accountability import CaseReplay, GapKind, Interval
from observability.gap_store import micros
from records import event_schema as schema
from records.event_schema import Event
from records.event_schema import EventKind as K
from seamless.v1 import case_service_pb2 as pb

Problem = tuple[int, str]
_ACTIVE = ("DISPATCHED", "SIGNED", "ON_SCENE", "DEEMED_CONSENT")
# The task states of the replay that keep a case from closing (a decline not yet
# reviewed, besides the active ones).
_UNFINISHED = (*_ACTIVE, "DECLINED")


@dataclass(frozen=True)
class _Item:
    agency: str
    key: str
    rank: int
    sort_us: int
    item: pb.WorkItem


def check_case(connection: Connection, case_id: str) -> Problem | None:
    """(sequence, problem) where the read model departs from the ledger's replay of the
    chain (a case, or a report's rating), or None when it holds."""
    if not projection.is_ready(connection):
        return None  # a ledger from before the read model
    events = list(ledger.stream_events(connection, case_id=case_id))
    if not events:
        return None
    last = events[-1].sequence
    replay = gap_audit.replay_as_stored(events, case_id)
    if replay.is_rating:
        return _check_rating(connection, replay, last)
    row = _case_row(connection, case_id)
    if row is None:
        if events[0].attributes.get(schema.LISTED) == "true":
            return last, "the read model lacks the case: its row was deleted"
        return None  # opened before the read model
    return (_check_row(row, replay, events, last)
            or _check_parties(connection, case_id, row, replay, last)
            or _check_work(connection, case_id, row, replay, events, last))


def _case_row(connection: Connection, case_id: str) -> projection.CaseRow | None:
    return projection.cases_by_id(connection, [case_id]).get(case_id)


def _check_rating(connection: Connection, replay: CaseReplay, last: int) -> Problem | None:
    if replay.rating is None:
        return None
    row = connection.execute(text("SELECT rated, case_id FROM report_view "
                                  "WHERE report_id = :r"), {"r": replay.rating.report_id}).first()
    # A report that moved on to the reopened case is that case's to rate (and unrated).
    moved_on = row is not None and row[1] not in ("", replay.rating.rated_case)
    if not moved_on and (row is None or row[0] != 1):
        return last, (f"the read model does not show report {replay.rating.report_id} as "
                      "rated, which the ledger's rating says it is")
    return None


def _check_row(row: projection.CaseRow, replay: CaseReplay, events: Sequence[Event],
               last: int) -> Problem | None:
    opened = events[0]
    closed = replay.closed_at is not None
    expected = {
        "through_sequence": last, "owner": replay.owner,
        "status": "CLOSED" if closed else "OPEN", "case_type": replay.case_type,
        "number": opened.attributes.get(schema.CASE_NUMBER, ""),
        "opened_at": replay.opened_at, "closed_at": replay.closed_at,
        "promised_by": replay.promised_by, "updated_at": events[-1].at,
        "reopened_from": replay.reopened_from}
    for name, value in expected.items():
        given = getattr(row, name)
        if given != value:
            what = ("was written from event " f"{given}, but the ledger's chain ends at {value}"
                    if name == "through_sequence" else
                    f"says {name} {given!r} where the ledger gives {value!r}")
            return last, f"the read model's row of the case {what}"
    return None


def _check_parties(connection: Connection, case_id: str, row: projection.CaseRow,
                   replay: CaseReplay, last: int) -> Problem | None:
    parties = {r[0]: (r[1], r[2]) for r in connection.execute(text(
        "SELECT agency, opened_us, status FROM case_party WHERE case_id = :c"),
        {"c": case_id})}
    taking_part = set(replay.participants)
    added, dropped = sorted(set(parties) - taking_part), sorted(taking_part - set(parties))
    if added:
        return last, (f"the read model lists {added[0]} as taking part in the case (so it "
                      "may see it), which the ledger's events do not")
    if dropped:
        return last, (f"the read model does not list {dropped[0]} as taking part in the "
                      "case, which the ledger's events do")
    for agency, (opened_us, status) in sorted(parties.items()):
        if (opened_us, status) != (micros(row.opened_at), row.status):
            return last, f"the read model's listing of the case for {agency} was changed"
    return None


def _items(connection: Connection, case_id: str) -> list[_Item]:
    return [_Item(r[0], r[1], r[2], r[3], pb.WorkItem.FromString(r[4]))
            for r in connection.execute(text(
                "SELECT agency, item_key, rank, sort_us, item FROM work_item "
                "WHERE case_id = :c ORDER BY agency, item_key"), {"c": case_id})]


def _check_work(connection: Connection, case_id: str, row: projection.CaseRow,
                replay: CaseReplay, events: Sequence[Event], last: int) -> Problem | None:
    items = _items(connection, case_id)
    for found in items:
        problem = _check_item_row(found, case_id)
        if problem:
            return last, problem
    if row.status == "CLOSED":
        if items:
            return last, (f"the read model keeps work for {items[0].agency} in the case, "
                          "which the ledger says is closed")
        return None
    expected = _expected_open(replay, events)
    held = {(i.agency, i.key): i for i in items}
    for (agency, key), wanted in sorted(expected.items()):
        shown = held.get((agency, key))
        if shown is None or not shown.item.open:
            return last, (f"the read model lacks {key} as open work of {agency}, which "
                          "the ledger's events give")
        problem = _check_deadline(shown, wanted)
        if problem:
            return last, problem
    for found in items:
        if found.item.open and (found.agency, found.key) not in expected:
            return last, (f"the read model holds {found.key} as open work of "
                          f"{found.agency}, which the ledger's events do not give")
    tasks = replay._tasks  # noqa: SLF001 - the replay's own account of the tasks
    for task in tasks.values():
        key = f"{pb.WorkKind.Name(pb.WORK_KIND_TASK)}:{task.id}"
        if (task.assignee, key) not in held:
            return last, (f"the read model lacks task {task.id} in the queue of "
                          f"{task.assignee}, which the ledger's events dispatched to it")
    return None


def _check_item_row(found: _Item, case_id: str) -> str:
    item = found.item
    if item.case_id != case_id or projection.item_key(item) != found.key or \
            projection.queue_place(item) != (found.rank, found.sort_us):
        return (f"the read model's item {found.key} of {found.agency} was changed: its "
                "row no longer matches its content")
    return ""


@dataclass(frozen=True)
class _Step:
    """An open step the ledger shows, and the deadline it gives for it (None: it gives
    none, or the step's clock was missed and runs on a grace the ledger does not
    hold)."""

    action: int
    deadline_us: int | None = None


def _expected_open(replay: CaseReplay, events: Sequence[Event]) -> dict[tuple[str, str],
                                                                           _Step]:
    """(agency, item key) -> the open step, for every open step the ledger shows."""
    def key(kind: int, ref: str) -> str:
        return f"{pb.WorkKind.Name(kind)}:{ref}"

    missed = _missed_clocks(events)
    expected: dict[tuple[str, str], _Step] = {}
    tasks = replay._tasks  # noqa: SLF001
    for task in tasks.values():
        if task.state not in _ACTIVE:
            continue
        if task.state == "DISPATCHED":
            action, deadline = pb.WORK_ACTION_SIGN, task.sign_by
        elif task.state == "SIGNED" and task.on_scene_by is not None:
            action, deadline = pb.WORK_ACTION_ARRIVE, task.on_scene_by
        else:
            action, deadline = pb.WORK_ACTION_COMPLETE, task.due_by
        shown = None if task.id in missed else micros(deadline)
        expected[(task.assignee, key(pb.WORK_KIND_TASK, task.id))] = _Step(action, shown)
    for gap in replay.gaps():
        if gap.end is not None:
            continue
        if gap.name == GapKind.DECLINE_REVIEW:
            expected[(replay.owner, key(pb.WORK_KIND_DECLINE_REVIEW, gap.task_id))] = \
                _Step(pb.WORK_ACTION_REVIEW_DECLINE, _deadline(gap, missed))
        elif gap.name == GapKind.HANDOFF_PENDING:
            expected[(gap.to_agency, key(pb.WORK_KIND_HANDOFF_OFFER, gap.ref))] = \
                _Step(pb.WORK_ACTION_ANSWER_HANDOFF, _deadline(gap, missed))
        elif gap.name == GapKind.LEAD_OBJECTION:
            expected[(gap.to_agency, key(pb.WORK_KIND_OBJECTION, gap.ref))] = \
                _Step(pb.WORK_ACTION_DECIDE_OBJECTION)
    for escalation_id in _unresolved_escalations(events):
        expected[(replay.coordinator, key(pb.WORK_KIND_ESCALATION, escalation_id))] = \
            _Step(pb.WORK_ACTION_RESOLVE_ESCALATION)
    for task_id in _extensions_asked(events):
        asked = tasks.get(task_id)
        if asked is not None and asked.state in _ACTIVE:
            expected[(replay.owner, key(pb.WORK_KIND_EXTENSION_DECISION, task_id))] = \
                _Step(pb.WORK_ACTION_DECIDE_EXTENSION)
    unfinished = any(t.state in _UNFINISHED for t in tasks.values())
    offered = any(g.end is None and g.name == GapKind.HANDOFF_PENDING for g in replay.gaps())
    if not unfinished and not offered:
        action = pb.WORK_ACTION_CLOSE if tasks else pb.WORK_ACTION_DISPATCH
        expected[(replay.owner, key(pb.WORK_KIND_CASE, ""))] = _Step(action)
    return expected


def _deadline(gap: Interval, missed: set[str]) -> int | None:
    if gap.deadline is None or (gap.task_id and gap.task_id in missed):
        return None
    return micros(gap.deadline)


def _check_deadline(found: _Item, wanted: _Step) -> str:
    item = found.item
    if item.action != wanted.action:
        return (f"the read model's item {found.key} of {found.agency} says to "
                f"{pb.WorkAction.Name(item.action)} where the ledger gives "
                f"{pb.WorkAction.Name(wanted.action)}")
    if wanted.deadline_us is not None and not item.misses and (
            not item.HasField("deadline") or projection.queue_place(item)[1]
            != wanted.deadline_us):
        return (f"the read model's item {found.key} of {found.agency} was changed: its "
                "deadline is not the one the ledger gives")
    return ""


def _missed_clocks(events: Sequence[Event]) -> set[str]:
    """Tasks with a missed clock (a supervision notice): their deadline then runs on a
    grace period the ledger does not record."""
    return {e.task_id for e in events if e.kind == K.NOTICE and e.task_id}


def _unresolved_escalations(events: Sequence[Event]) -> list[str]:
    raised: dict[str, bool] = {}
    for event in events:
        escalation = event.attributes.get(schema.ESCALATION_ID, "")
        if event.kind == K.ESCALATION and escalation:
            raised[escalation] = True
        elif event.kind == K.ESCALATION_RESOLVED:
            raised.pop(escalation, None)
    return sorted(raised)


def _extensions_asked(events: Sequence[Event]) -> list[str]:
    """Tasks whose assignee asked for more time and was not yet answered (an answer, or
    the task ending, declining or deemed to consent, settles the request)."""
    pending: set[str] = set()
    settles = (K.EXTENSION_DECIDED, K.TASK_DONE, K.TASK_DECLINED, K.TASK_WITHDRAWN,
               K.DEEMED_CONSENT)
    for event in events:
        if event.kind == K.EXTENSION_REQUESTED:
            pending.add(event.task_id)
        elif event.kind in settles:
            pending.discard(event.task_id)
    return sorted(pending)


def cases_only_in_read_model(connection: Connection, known: Sequence[str]) -> list[str]:
    """Cases the read model holds rows of that the ledger does not have at all."""
    held = connection.execute(text(
        "SELECT case_id FROM case_view UNION SELECT case_id FROM case_party "
        "UNION SELECT case_id FROM work_item"))
    return sorted({r[0] for r in held} - set(known))
