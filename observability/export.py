"""Exports of the ledger for process-mining tools: OCEL 2.0 JSON and a flat CSV event log.

Both take events as `ledger.stream_events` yields them (grouped by case, in sequence) and
write each one as it is read, so a ledger of millions of events is never held in memory:

* events cost nothing that lasts: each is encoded, written and dropped;
* OCEL objects (cases, tasks, ratings, agencies) must come in their own array, so they
  are built
  for one case at a time and spooled to a temporary file when the case's events end, then
  copied after the events. Memory holds one case's objects, the agencies, and the ids of
  finished cases (to refuse a stream whose cases are not contiguous).
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from observability.accountability import is_rating_chain
from observability.ledger import encode_attributes
from records import event_schema as s
from records.event_schema import Event
from records.event_schema import EventKind as K

CSV_HEADER = ("case_id", "sequence", "kind", "time", "actor_agency", "actor_officer",
              "task_id", "attributes", "trace_id", "span_id")

STRING, TIME, INTEGER, BOOLEAN = "string", "time", "integer", "boolean"
# OCEL types by attribute name; every other attribute is a string.
_TYPE_OF = {name: TIME for name in (s.LEGAL_BY, s.PROMISED_BY, s.SIGN_BY, s.ON_SCENE_BY,
                                    s.DUE_BY, s.REVIEW_BY, s.EXPIRES_AT, s.DECIDE_BY)}
_TYPE_OF |= {s.ROUND: INTEGER, s.ATTEMPTS: INTEGER, s.GRANTED: BOOLEAN, s.BY_HAND: BOOLEAN,
             s.ANSWERED: BOOLEAN, s.SOLVED: BOOLEAN}

# What each kind of event carries, as the workflow rules record it (workflows/rules/).
_CLOCKS = (s.ASSIGNEE, s.ROUND, s.SIGN_BY, s.DUE_BY, s.ON_SCENE_BY)
_PARTIES = (s.HANDOFF_ID, s.FROM_AGENCY, s.TO_AGENCY)
_REPORT = (s.REPORT_ID, s.CHANNEL, s.SERVICE_CODE)
EVENT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    K.OPENED: (s.OWNER, s.CASE_TYPE, s.LEGAL_BY, s.PROMISED_BY, s.COORDINATOR,
               s.CASE_NUMBER, s.REOPENED_FROM),
    K.TASK_DISPATCHED: (s.TASK_KIND, *_CLOCKS, s.REDISPATCHED_FROM),
    K.TASK_DELIVERED: (s.ROUND, s.ATTEMPTS),
    K.TASK_SIGNED: (), K.TASK_ON_SCENE: (), K.TASK_DONE: (),
    K.TASK_DECLINED: (s.REVIEW_BY, s.SUGGESTED),
    K.DECLINE_REVIEWED: (s.OUTCOME, *_CLOCKS),
    K.EXTENSION_REQUESTED: (),
    K.EXTENSION_DECIDED: (s.GRANTED, s.DUE_BY),
    K.TASK_WITHDRAWN: (),
    K.DEEMED_CONSENT: (s.DUE_BY,),
    K.NOTICE: (),
    K.ESCALATION: (s.ESCALATION_ID, s.COORDINATOR, s.HANDOFF_ID),
    K.ESCALATION_RESOLVED: (s.ESCALATION_ID,),
    K.HANDOFF_OFFERED: (*_PARTIES, s.EXPIRES_AT),
    K.HANDOFF_ACCEPTED: _PARTIES, K.HANDOFF_DECLINED: _PARTIES,
    K.HANDOFF_WITHDRAWN: _PARTIES, K.HANDOFF_EXPIRED: _PARTIES,
    K.OWNER_ASSIGNED: (s.OWNER, *_PARTIES),
    K.CLOSED: (s.ANSWERED,),
    K.LINE_MISSED: (s.LINE,),
    K.NOTICE_DELIVERED: (s.NOTICE, s.RECIPIENTS, s.NOTICE_TASK),
    K.REPORT_ATTACHED: (*_REPORT, s.AREA, s.BY_HAND),
    K.REPORT_DETACHED: _REPORT,
    K.LEAD_OBJECTED: (s.OBJECTION_ID, s.COORDINATOR, s.DECIDE_BY, s.SUGGESTED),
    K.OBJECTION_DECIDED: (s.OBJECTION_ID, s.OUTCOME, s.OWNER),
    # The one event of a rating's own chain (its object is the rating, not a case).
    K.REPORT_RATED: (s.REPORT_ID, s.RATED_CASE, s.CASE_TYPE, s.OWNER, s.SOLVED,
                     s.SATISFACTION),
}
# The events after which the case has a new owner (its `owner` attribute, or the
# receiver of an accepted hand-off).
_NEW_OWNER = frozenset({K.OPENED, K.OWNER_ASSIGNED, K.OBJECTION_DECIDED})
# Every event may name the request that caused it, so a mined path leads to its trace,
# and the officer who acted for its agency (accountability names people too).
TRACE_ATTRIBUTES = ("trace_id", "span_id", "officer")

# Agencies an event names, and the qualifier of its relationship to each.
_AGENCY_ROLES = ((s.OWNER, "owner"), (s.ASSIGNEE, "assignee"), (s.FROM_AGENCY, "from"),
                 (s.TO_AGENCY, "to"), (s.COORDINATOR, "coordinator"),
                 (s.SUGGESTED, "suggested"))
# A task's status after each kind of event about it.
_STATUS: dict[str, str] = {K.TASK_DISPATCHED: "dispatched", K.TASK_SIGNED: "signed",
           K.TASK_ON_SCENE: "on_scene", K.TASK_DONE: "done", K.TASK_DECLINED: "declined",
           K.TASK_WITHDRAWN: "withdrawn", K.DEEMED_CONSENT: "deemed_consent"}

OBJECT_TYPES: list[dict[str, Any]] = [
    {"name": "case", "attributes": [
        {"name": s.CASE_TYPE, "type": STRING}, {"name": s.OWNER, "type": STRING},
        {"name": s.LEGAL_BY, "type": TIME}, {"name": s.PROMISED_BY, "type": TIME},
        {"name": "status", "type": STRING}]},
    {"name": "task", "attributes": [
        {"name": s.TASK_KIND, "type": STRING}, {"name": s.ASSIGNEE, "type": STRING},
        {"name": s.ROUND, "type": INTEGER}, {"name": s.DUE_BY, "type": TIME},
        {"name": "status", "type": STRING}]},
    # A reporter's rating of a closed case (回访): a ledger chain of its own.
    {"name": "rating", "attributes": [
        {"name": s.RATED_CASE, "type": STRING}, {"name": s.CASE_TYPE, "type": STRING},
        {"name": s.OWNER, "type": STRING}, {"name": s.SOLVED, "type": BOOLEAN},
        {"name": s.SATISFACTION, "type": STRING}]},
    {"name": "agency", "attributes": []},
]

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                           check_circular=False).encode


def agency_object_id(agency: str) -> str:
    return f"agency:{agency}"


def task_object_id(case_id: str, task_id: str) -> str:
    # Task ids (T1, T2, ...) are numbered per case.
    return f"{case_id}/{task_id}"


def event_id(event: Event) -> str:
    return f"{event.case_id}#{event.sequence}"


def _value(name: str, text: str) -> str | int | bool:
    kind = _TYPE_OF.get(name, STRING)
    if kind == INTEGER:
        return int(text)
    if kind == BOOLEAN:
        return text == "true"
    return text


# ----- CSV ----------------------------------------------------------------------------

# A spreadsheet opening the log runs a cell that starts with one of these as a formula
# (CSV injection): such a cell is written with a quote before it, as OWASP advises.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def write_csv(events: Iterable[Event], out: TextIO) -> int:
    """One row per event (case id, activity = kind, timestamp = time); returns the rows
    written. Open `out` with newline="" as the csv module asks."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    written = 0
    for e in events:
        writer.writerow((inert(e.case_id), e.sequence, e.kind, s.timestamp(e.at),
                         inert(e.actor), inert(e.officer), inert(e.task_id),
                         encode_attributes(e.attributes), e.trace_id, e.span_id))
        written += 1
    return written


# ----- OCEL 2.0 -----------------------------------------------------------------------

@dataclass(slots=True)
class _Object:
    """One OCEL object while its case is being read: attribute changes and relationships."""

    id: str
    type: str
    changes: list[tuple[str, str, str | int]] = field(default_factory=list)
    current: dict[str, str | int] = field(default_factory=dict)
    # An ordered set: the same relationship named twice is written once.
    related: dict[tuple[str, str], None] = field(default_factory=dict)

    def set(self, name: str, time: str, value: str | int) -> None:
        if self.current.get(name) != value:
            self.current[name] = value
            self.changes.append((name, time, value))

    def relate(self, object_id: str, qualifier: str) -> None:
        self.related[(object_id, qualifier)] = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type,
                "attributes": [{"name": n, "time": t, "value": v} for n, t, v in self.changes],
                "relationships": [{"objectId": o, "qualifier": q} for o, q in self.related]}


class _Objects:
    """Builds one case's objects at a time and spools each finished case to `spool`."""

    def __init__(self, spool: TextIO) -> None:
        self._spool = spool
        self.written = 0
        self.agencies: dict[str, None] = {}
        self._finished: set[str] = set()
        self._case: _Object | None = None
        self._tasks: dict[str, _Object] = {}

    def agency(self, name: str) -> str:
        self.agencies[name] = None
        return agency_object_id(name)

    def task(self, case_id: str, task_id: str) -> _Object:
        task = self._tasks.get(task_id)
        if task is None:
            task = self._tasks[task_id] = _Object(task_object_id(case_id, task_id), "task")
            task.relate(case_id, "part of")
        return task

    def see(self, event: Event, time: str) -> None:
        case = self._case
        if case is None or case.id != event.case_id:
            self.flush()
            if event.case_id in self._finished:
                raise ValueError(f"the events of case {event.case_id} are not contiguous: "
                                 "export needs them grouped by case, as stream_events reads")
            case = self._case = _Object(event.case_id, _chain_type(event.case_id))
        a, kind = event.attributes, event.kind
        if case.type == "rating":
            self._see_rating(case, event, time)
            return
        if kind == K.OPENED:
            for name in (s.CASE_TYPE, s.LEGAL_BY, s.PROMISED_BY):
                if name in a:
                    case.set(name, time, a[name])
            case.set("status", time, "open")
            if a.get(s.COORDINATOR):
                case.relate(self.agency(a[s.COORDINATOR]), "coordinator")
        elif kind == K.CLOSED:
            case.set("status", time, "closed")
        owner = (a.get(s.OWNER) if kind in _NEW_OWNER
                 else a.get(s.TO_AGENCY) if kind == K.HANDOFF_ACCEPTED else None)
        if owner:
            case.set(s.OWNER, time, owner)
            case.relate(self.agency(owner), "owner")
        if event.task_id:
            self._see_task(self.task(event.case_id, event.task_id), event, time)

    def _see_rating(self, rating: _Object, event: Event, time: str) -> None:
        a = event.attributes
        if event.kind != K.REPORT_RATED:
            return  # a rating's chain holds nothing else (`audit verify` names it)
        for name in (s.RATED_CASE, s.CASE_TYPE, s.OWNER, s.SATISFACTION):
            if a.get(name):
                rating.set(name, time, a[name])
        if s.SOLVED in a:
            rating.set(s.SOLVED, time, a[s.SOLVED] == "true")
        if a.get(s.OWNER):
            rating.relate(self.agency(a[s.OWNER]), "rated")

    def _see_task(self, task: _Object, event: Event, time: str) -> None:
        a, kind = event.attributes, event.kind
        status = _STATUS.get(kind)
        if kind == K.DECLINE_REVIEWED:
            # Overruled: back to the same assignee with new clocks; upheld: it went elsewhere.
            status = "dispatched" if a.get(s.OUTCOME) == "OVERRULED" else "upheld"
        if kind == K.TASK_DISPATCHED and s.TASK_KIND in a:
            task.set(s.TASK_KIND, time, a[s.TASK_KIND])
        if s.ASSIGNEE in a:
            task.set(s.ASSIGNEE, time, a[s.ASSIGNEE])
            task.relate(self.agency(a[s.ASSIGNEE]), "assigned to")
        if s.ROUND in a and kind != K.TASK_DELIVERED:
            task.set(s.ROUND, time, int(a[s.ROUND]))
        if s.DUE_BY in a:
            task.set(s.DUE_BY, time, a[s.DUE_BY])
        if status is not None:
            task.set("status", time, status)
        source = a.get(s.REDISPATCHED_FROM)
        if kind == K.TASK_DISPATCHED and source:
            self.task(event.case_id, source)  # the task it came from is an object too
            task.relate(task_object_id(event.case_id, source), "redispatched from")

    def flush(self) -> None:
        """Write the current case and its tasks; they will not change again."""
        if self._case is None:
            return
        self._write(self._case)
        for task in self._tasks.values():
            self._write(task)
        self._finished.add(self._case.id)
        self._case, self._tasks = None, {}

    def _write(self, obj: _Object, sink: TextIO | None = None) -> None:
        (sink or self._spool).write(("," if self.written else "") + "\n"
                                    + _encode(obj.as_json()))
        self.written += 1

    def finish(self, out: TextIO) -> None:
        """Write every object to `out`: the spooled cases and tasks, then the agencies."""
        self.flush()
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, out)
        for agency in self.agencies:
            self._write(_Object(agency_object_id(agency), "agency"), out)


def _chain_type(chain_id: str) -> str:
    """The object a ledger chain stands for: a case, or a reporter's rating."""
    return "rating" if is_rating_chain(chain_id) else "case"


def _event_json(event: Event, time: str, objects: _Objects) -> dict[str, Any]:
    a = event.attributes
    attributes = [{"name": name, "value": _value(name, text)} for name, text in a.items()]
    if event.trace_id:
        attributes.append({"name": "trace_id", "value": event.trace_id})
    if event.span_id:
        attributes.append({"name": "span_id", "value": event.span_id})
    if event.officer:
        attributes.append({"name": "officer", "value": event.officer})
    relationships = [{"objectId": event.case_id, "qualifier": _chain_type(event.case_id)}]
    if event.task_id:
        relationships.append({"objectId": task_object_id(event.case_id, event.task_id),
                              "qualifier": "task"})
    if event.actor:
        relationships.append({"objectId": objects.agency(event.actor), "qualifier": "actor"})
    for name, qualifier in _AGENCY_ROLES:
        agency = a.get(name)
        if agency:
            relationships.append({"objectId": objects.agency(agency), "qualifier": qualifier})
    source = a.get(s.REDISPATCHED_FROM)
    if source:
        relationships.append({"objectId": task_object_id(event.case_id, source),
                              "qualifier": "redispatched from"})
    return {"id": event_id(event), "type": event.kind, "time": time,
            "attributes": attributes, "relationships": relationships}


def _event_types(declared: dict[str, dict[str, None]]) -> list[dict[str, Any]]:
    return [{"name": kind, "attributes": [{"name": n, "type": _TYPE_OF.get(n, STRING)}
                                          for n in names]}
            for kind, names in declared.items()]


def write_ocel2_json(events: Iterable[Event], out: TextIO) -> int:
    """Write `events` (grouped by case, in sequence) as an OCEL 2.0 JSON log; returns the
    events written.

    Keys come in the order objectTypes, events, objects, eventTypes: the event types go
    last so that an attribute or kind the rules add before this table learns of it is
    still declared (JSON readers do not care about key order).
    """
    declared = {kind: dict.fromkeys((*names, *TRACE_ATTRIBUTES))
                for kind, names in EVENT_ATTRIBUTES.items()}
    out.write('{"objectTypes":' + _encode(OBJECT_TYPES) + ',\n"events":[')
    written = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        objects = _Objects(spool)
        for event in events:
            time = s.timestamp(event.at)
            out.write(("," if written else "") + "\n"
                      + _encode(_event_json(event, time, objects)))
            objects.see(event, time)
            names = declared.get(event.kind)
            if names is None:
                names = declared[event.kind] = dict.fromkeys(TRACE_ATTRIBUTES)
            for name in event.attributes:
                if name not in names:
                    names[name] = None
            written += 1
        out.write('\n],\n"objects":[')
        objects.finish(out)
    out.write('\n],\n"eventTypes":' + _encode(_event_types(declared)) + "}\n")
    return written
