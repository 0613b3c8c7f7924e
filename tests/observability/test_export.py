"""The ledger exports: an OCEL 2.0 log a process-mining tool can load (every event type
declared, every related object present, values of their declared types) and a flat CSV
log that reads back as the events; both written as the events stream by."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from observability import export, ledger
from records import event_schema as s
from records.event_schema import Event
from records.event_schema import EventKind as K

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
PLATFORM = "seamless"
STREET, MARKET, QUALITY, FARMS, HEALTH = ("urban-management", "market-regulation",
                                          "quality-inspection", "agriculture-rural", "health")
TOWNSHIP, LAND, POLICE = "jinhaihu-township", "natural-resources", "public-security"
COORDINATOR = "command-center"


class CaseScript:
    """A case's events in sequence, with the attributes the workflow rules record."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.events: list[Event] = []

    def add(self, minutes: float, kind: K, actor: str, task_id: str = "",
            attributes: dict[str, str] | None = None) -> None:
        clock = actor == PLATFORM  # clocks and deliveries answer no request
        n = len(self.events) + 1
        self.events.append(Event(
            self.case_id, n, kind.value, actor, T0 + timedelta(minutes=minutes), task_id,
            attributes or {}, "" if clock else f"{n:032x}", "" if clock else f"{n:016x}",
            "" if clock else f"officer-{n}"))


def at(minutes: float) -> str:
    return s.timestamp(T0 + timedelta(minutes=minutes))


def clocks(assignee: str, round_: int, start: float, *, on_scene: bool = False
           ) -> dict[str, str]:
    c = {s.ASSIGNEE: assignee, s.ROUND: str(round_), s.SIGN_BY: at(start + 30),
         s.DUE_BY: at(start + 60)}
    return c | ({s.ON_SCENE_BY: at(start + 30)} if on_scene else {})


def opened(case: CaseScript, owner: str, case_type: str) -> None:
    case.add(0, K.OPENED, owner, attributes={
        s.OWNER: owner, s.CASE_TYPE: case_type, s.LEGAL_BY: at(60 * 24 * 15),
        s.PROMISED_BY: at(60 * 24 * 7), s.COORDINATOR: COORDINATOR})


def food_case() -> CaseScript:
    """The ground-truth scenario: a hand-off accepted, a failing delivery, a decline
    overruled, a hand-off that expired and was escalated."""
    c = CaseScript("case:food-supply-chain:BATCH-1@run-1")
    opened(c, STREET, "food-supply-chain")
    c.add(0, K.TASK_DISPATCHED, STREET, "T1",
          {s.TASK_KIND: "trace-circulation", **clocks(MARKET, 1, 0)})
    c.add(0.1, K.TASK_DELIVERED, PLATFORM, "T1", {s.ROUND: "1", s.ATTEMPTS: "1"})
    h1 = {s.HANDOFF_ID: "H1", s.FROM_AGENCY: STREET, s.TO_AGENCY: QUALITY}
    c.add(1, K.HANDOFF_OFFERED, STREET, attributes=h1 | {s.EXPIRES_AT: at(241)})
    c.add(10, K.TASK_SIGNED, MARKET, "T1")
    c.add(120, K.HANDOFF_ACCEPTED, QUALITY, attributes=h1)
    c.add(120, K.TASK_DISPATCHED, QUALITY, "T2",
          {s.TASK_KIND: "trace-production", **clocks(FARMS, 1, 120)})
    c.add(121, K.TASK_DELIVERED, PLATFORM, "T2", {s.ROUND: "1", s.ATTEMPTS: "3"})
    c.add(165, K.TASK_SIGNED, FARMS, "T2")
    c.add(200, K.TASK_DECLINED, MARKET, "T1", {s.REVIEW_BY: at(260), s.SUGGESTED: ""})
    c.add(200, K.TASK_DONE, FARMS, "T2")
    c.add(240, K.DECLINE_REVIEWED, QUALITY, "T1",
          {s.OUTCOME: "OVERRULED", **clocks(MARKET, 2, 240)})
    c.add(240.1, K.TASK_DELIVERED, PLATFORM, "T1", {s.ROUND: "2", s.ATTEMPTS: "1"})
    c.add(245, K.TASK_SIGNED, MARKET, "T1")
    c.add(245, K.TASK_DONE, MARKET, "T1")
    h2 = {s.HANDOFF_ID: "H2", s.FROM_AGENCY: QUALITY, s.TO_AGENCY: HEALTH}
    c.add(245, K.HANDOFF_OFFERED, QUALITY, attributes=h2 | {s.EXPIRES_AT: at(305)})
    c.add(305, K.HANDOFF_EXPIRED, PLATFORM, attributes=h2)
    c.add(305, K.ESCALATION, PLATFORM, attributes={
        s.ESCALATION_ID: "E1", s.COORDINATOR: COORDINATOR, s.HANDOFF_ID: "H2"})
    c.add(335, K.ESCALATION_RESOLVED, COORDINATOR, attributes={s.ESCALATION_ID: "E1"})
    c.add(335, K.CLOSED, QUALITY)
    return c


def mining_case() -> CaseScript:
    """A decline upheld and sent on (a bounce chain), an extension, a notice, a
    withdrawal, an owner assigned by the coordinator, a missed line; still open."""
    c = CaseScript("case:illegal-mining:Q-7@run-2")
    opened(c, TOWNSHIP, "illegal-mining")
    c.add(0, K.TASK_DISPATCHED, TOWNSHIP, "T1",
          {s.TASK_KIND: "mining-investigation", **clocks(POLICE, 1, 0, on_scene=True)})
    c.add(0, K.TASK_DISPATCHED, TOWNSHIP, "T2",
          {s.TASK_KIND: "criminal-investigation", **clocks(POLICE, 1, 0, on_scene=True)})
    c.add(5, K.TASK_DECLINED, POLICE, "T1", {s.REVIEW_BY: at(65), s.SUGGESTED: LAND})
    c.add(20, K.DECLINE_REVIEWED, TOWNSHIP, "T1", {s.OUTCOME: "UPHELD"})
    c.add(20, K.TASK_DISPATCHED, TOWNSHIP, "T3",
          {s.TASK_KIND: "mining-investigation", **clocks(LAND, 1, 20, on_scene=True),
           s.REDISPATCHED_FROM: "T1"})
    c.add(25, K.TASK_SIGNED, LAND, "T3")
    c.add(31, K.NOTICE, PLATFORM, "T2")
    c.add(40, K.TASK_ON_SCENE, LAND, "T3")
    c.add(41, K.EXTENSION_REQUESTED, LAND, "T3")
    c.add(42, K.EXTENSION_DECIDED, TOWNSHIP, "T3", {s.GRANTED: "true", s.DUE_BY: at(600)})
    c.add(50, K.TASK_WITHDRAWN, TOWNSHIP, "T2")
    c.add(60, K.OWNER_ASSIGNED, COORDINATOR, attributes={s.OWNER: LAND})
    c.add(60 * 24 * 7, K.LINE_MISSED, PLATFORM, attributes={s.LINE: "promised"})
    return c


def approval_case() -> CaseScript:
    c = CaseScript("case:parallel-approval:P-3@run-3")
    opened(c, "development-reform", "parallel-approval")
    c.add(0, K.TASK_DISPATCHED, "development-reform", "T1",
          {s.TASK_KIND: "land-review", **clocks(LAND, 1, 0)})
    c.add(60, K.DEEMED_CONSENT, PLATFORM, "T1", {s.DUE_BY: at(60 * 25)})
    c.add(61, K.TASK_DONE, LAND, "T1")
    c.add(62, K.HANDOFF_OFFERED, "development-reform", attributes={
        s.HANDOFF_ID: "H1", s.FROM_AGENCY: "development-reform", s.TO_AGENCY: LAND,
        s.EXPIRES_AT: at(62 + 60 * 24)})
    c.add(63, K.HANDOFF_DECLINED, LAND, attributes={
        s.HANDOFF_ID: "H1", s.FROM_AGENCY: "development-reform", s.TO_AGENCY: LAND})
    c.add(64, K.HANDOFF_OFFERED, "development-reform", attributes={
        s.HANDOFF_ID: "H2", s.FROM_AGENCY: "development-reform", s.TO_AGENCY: LAND,
        s.EXPIRES_AT: at(64 + 60 * 24)})
    c.add(65, K.HANDOFF_WITHDRAWN, "development-reform", attributes={
        s.HANDOFF_ID: "H2", s.FROM_AGENCY: "development-reform", s.TO_AGENCY: LAND})
    c.add(66, K.CLOSED, "development-reform")
    return c


HOTLINE_CASE = "case:environmental-noise:SITE-9@run-4"
RATING = f"{s.rating_chain('R-2')}@run-5"


def hotline_case() -> CaseScript:
    """Opened by the hotline for two reports (one split off again), the lead objects and
    the coordinator reassigns it, closed with an answer."""
    c = CaseScript(HOTLINE_CASE)
    c.add(0, K.OPENED, COORDINATOR, attributes={
        s.OWNER: STREET, s.CASE_TYPE: "environmental-noise", s.LEGAL_BY: at(60 * 24 * 7),
        s.PROMISED_BY: at(60 * 24 * 2), s.COORDINATOR: COORDINATOR})
    report = {s.CHANNEL: "hotline", s.SERVICE_CODE: "noise"}
    c.add(0, K.REPORT_ATTACHED, COORDINATOR, attributes={
        s.REPORT_ID: "R-1", **report, s.AREA: "pinggu"})
    c.add(5, K.REPORT_ATTACHED, STREET, attributes={
        s.REPORT_ID: "R-2", **report, s.BY_HAND: "true"})
    c.add(6, K.REPORT_DETACHED, STREET, attributes={s.REPORT_ID: "R-1", **report})
    c.add(10, K.LEAD_OBJECTED, STREET, attributes={
        s.OBJECTION_ID: "O1", s.COORDINATOR: COORDINATOR, s.DECIDE_BY: at(130),
        s.SUGGESTED: MARKET})
    c.add(40, K.OBJECTION_DECIDED, COORDINATOR, attributes={
        s.OBJECTION_ID: "O1", s.OUTCOME: "REASSIGNED", s.OWNER: MARKET})
    c.add(300, K.CLOSED, MARKET, attributes={s.ANSWERED: "true"})
    return c


def rating_chain() -> CaseScript:
    c = CaseScript(RATING)
    c.add(400, K.REPORT_RATED, COORDINATOR, attributes={
        s.REPORT_ID: "R-2", s.RATED_CASE: HOTLINE_CASE, s.CASE_TYPE: "environmental-noise",
        s.OWNER: MARKET, s.SOLVED: "false", s.SATISFACTION: "DISSATISFIED"})
    return c


def all_events() -> list[Event]:
    return [e for case in (food_case(), mining_case(), approval_case(), hotline_case(),
                           rating_chain()) for e in case.events]


def ocel_of(events: list[Event]) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    written = export.write_ocel2_json(events, out)
    return written, json.loads(out.getvalue())


def is_time(value: object) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


OF_TYPE: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str), "time": is_time,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool)}


def test_the_ocel_log_declares_what_it_holds_and_relates_only_to_objects_it_holds() -> None:
    events = all_events()
    written, log = ocel_of(events)
    assert written == len(events) == len(log["events"])
    assert set(log) == {"objectTypes", "eventTypes", "objects", "events"}
    event_types = {t["name"]: {a["name"]: a["type"] for a in t["attributes"]}
                   for t in log["eventTypes"]}
    object_types = {t["name"]: {a["name"]: a["type"] for a in t["attributes"]}
                    for t in log["objectTypes"]}
    assert set(event_types) >= {k.value for k in K}
    assert set(object_types) == {"case", "task", "rating", "agency"}
    objects = {o["id"]: o for o in log["objects"]}
    assert len(objects) == len(log["objects"]), "object ids are unique"
    assert len({e["id"] for e in log["events"]}) == len(events), "event ids are unique"
    for event, source in zip(log["events"], events, strict=True):
        assert datetime.fromisoformat(event["time"]) == source.at
        declared = event_types[event["type"]]
        for attribute in event["attributes"]:
            assert OF_TYPE[declared[attribute["name"]]](attribute["value"]), attribute
        for relation in event["relationships"]:
            assert relation["objectId"] in objects, relation
    for obj in log["objects"]:
        declared = object_types[obj["type"]]
        for attribute in obj["attributes"]:
            assert OF_TYPE[declared[attribute["name"]]](attribute["value"]), attribute
            assert is_time(attribute["time"])
        for relation in obj["relationships"]:
            assert relation["objectId"] in objects, relation


def relations(item: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["objectId"], r["qualifier"]) for r in item["relationships"]}


def test_the_ocel_log_shows_who_held_the_case_and_where_a_task_bounced() -> None:
    _, log = ocel_of(all_events())
    objects = {o["id"]: o for o in log["objects"]}
    food = objects["case:food-supply-chain:BATCH-1@run-1"]
    assert [(a["value"], a["time"]) for a in food["attributes"] if a["name"] == s.OWNER] == \
        [(STREET, at(0)), (QUALITY, at(120))]
    assert [a["value"] for a in food["attributes"] if a["name"] == "status"] == \
        ["open", "closed"]
    accepted = next(e for e in log["events"] if e["type"] == K.HANDOFF_ACCEPTED)
    assert relations(accepted) >= {("agency:" + STREET, "from"), ("agency:" + QUALITY, "to"),
                                   ("agency:" + QUALITY, "actor")}
    overruled = objects["case:food-supply-chain:BATCH-1@run-1/T1"]
    assert [a["value"] for a in overruled["attributes"] if a["name"] == s.ROUND] == [1, 2]
    assert [a["value"] for a in overruled["attributes"] if a["name"] == "status"] == \
        ["dispatched", "signed", "declined", "dispatched", "signed", "done"]
    sent_on = objects["case:illegal-mining:Q-7@run-2/T3"]
    assert relations(sent_on) == {
        ("case:illegal-mining:Q-7@run-2", "part of"), ("agency:" + LAND, "assigned to"),
        ("case:illegal-mining:Q-7@run-2/T1", "redispatched from")}
    assert [a["value"] for a in sent_on["attributes"] if a["name"] == s.DUE_BY] == \
        [at(80), at(600)]  # the extension moved it
    deliveries = [{a["name"]: a["value"] for a in e["attributes"]} for e in log["events"]
                  if e["type"] == K.TASK_DELIVERED]
    assert {s.ROUND: 1, s.ATTEMPTS: 3} in deliveries  # numbers a tool can compare
    granted = next(e for e in log["events"] if e["type"] == K.EXTENSION_DECIDED)
    assert {"name": s.GRANTED, "value": True} in granted["attributes"]


def test_the_ocel_log_follows_a_reassigned_lead_and_shows_a_rating_as_a_rating() -> None:
    _, log = ocel_of(all_events())
    objects = {o["id"]: o for o in log["objects"]}
    noise = objects[HOTLINE_CASE]
    assert noise["type"] == "case"
    assert [a["value"] for a in noise["attributes"] if a["name"] == s.OWNER] == [STREET, MARKET]
    rating = objects[RATING]
    assert rating["type"] == "rating"
    assert {a["name"]: a["value"] for a in rating["attributes"]} == {
        s.RATED_CASE: HOTLINE_CASE, s.CASE_TYPE: "environmental-noise", s.OWNER: MARKET,
        s.SATISFACTION: "DISSATISFIED", s.SOLVED: False}
    assert relations(rating) == {("agency:" + MARKET, "rated")}
    rated = next(e for e in log["events"] if e["type"] == K.REPORT_RATED)
    assert (RATING, "rating") in relations(rated)
    attached = [e for e in log["events"] if e["type"] == K.REPORT_ATTACHED]
    assert {"name": s.BY_HAND, "value": True} in attached[1]["attributes"]


def test_an_attribute_the_export_does_not_know_yet_is_still_declared() -> None:
    case = CaseScript("case:x:1@r")
    case.add(0, K.NOTICE, PLATFORM, attributes={"reminder_count": "2"})
    _, log = ocel_of(case.events)
    notice = next(t for t in log["eventTypes"] if t["name"] == K.NOTICE)
    assert {"name": "reminder_count", "type": "string"} in notice["attributes"]


def test_a_stream_whose_cases_are_interleaved_is_refused() -> None:
    food, mining = food_case().events, mining_case().events
    with pytest.raises(ValueError, match="not contiguous"):
        export.write_ocel2_json([*food[:3], *mining, *food[3:]], io.StringIO())


def unordered(log: dict[str, Any]) -> dict[str, Any]:
    """The log with each event's attributes in name order (the ledger stores them so)."""
    for event in log["events"]:
        event["attributes"].sort(key=lambda a: a["name"])
    return log


def test_the_export_of_a_stored_ledger_is_the_export_of_its_events(tmp_path: Path) -> None:
    engine = ledger.open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    cases = (food_case(), mining_case(), approval_case(), hotline_case(), rating_chain())
    with Session(engine) as session:
        for case in cases:
            ledger.append(session=session, case_id=case.case_id, events=[ledger.LedgerEntryBase(
                case_id=e.case_id, sequence=e.sequence, kind=e.kind, actor_agency=e.actor,
                actor_officer=e.officer, at=e.at, task_id=e.task_id,
                attributes=ledger.encode_attributes(e.attributes),
                trace_id=e.trace_id, span_id=e.span_id) for e in case.events])
    stored, direct = io.StringIO(), io.StringIO()
    export.write_ocel2_json(ledger.stream_events(engine), stored)
    # The ledger reads cases in id order.
    export.write_ocel2_json(sorted(all_events(), key=lambda e: (e.case_id, e.sequence)), direct)
    assert unordered(json.loads(stored.getvalue())) == unordered(json.loads(direct.getvalue()))
    engine.dispose()


def test_both_logs_name_the_officer_who_acted() -> None:
    events = all_events()
    acted = next(e for e in events if e.officer)
    csv_out = io.StringIO(newline="")
    export.write_csv(events, csv_out)
    row = next(r for r in csv.DictReader(io.StringIO(csv_out.getvalue(), newline=""))
               if (r["case_id"], r["sequence"]) == (acted.case_id, str(acted.sequence)))
    assert row["actor_officer"] == acted.officer
    ocel_out = io.StringIO()
    export.write_ocel2_json(events, ocel_out)
    [event] = [e for e in json.loads(ocel_out.getvalue())["events"]
               if e["id"] == export.event_id(acted)]
    assert {"name": "officer", "value": acted.officer} in event["attributes"]


def test_the_csv_log_reads_back_as_the_events() -> None:
    events = all_events()
    out = io.StringIO(newline="")
    assert export.write_csv(events, out) == len(events)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == export.CSV_HEADER
    assert [Event(r["case_id"], int(r["sequence"]), r["kind"], r["actor_agency"],
                  datetime.fromisoformat(r["time"]), r["task_id"], json.loads(r["attributes"]),
                  r["trace_id"], r["span_id"], r["actor_officer"]) for r in rows] == events


# ----- memory -------------------------------------------------------------------------

class NullSink(io.StringIO):
    """Counts what is written and keeps none of it."""

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def busy_cases(cases: int, events_per_case: int) -> Iterator[Event]:
    """Cases of three tasks whose deliveries keep being retried: events grow, objects not.
    Made one event at a time, so the input holds no more than the export does."""
    for number in range(cases):
        case = CaseScript(f"case:illegal-mining:M-{number}@run")
        opened(case, TOWNSHIP, "illegal-mining")
        for task in ("T1", "T2", "T3"):
            case.add(0, K.TASK_DISPATCHED, TOWNSHIP, task,
                     {s.TASK_KIND: "work-safety", **clocks(POLICE, 1, 0, on_scene=True)})
        yield from case.events
        for n in range(len(case.events) + 1, events_per_case):
            yield Event(case.case_id, n, K.TASK_DELIVERED.value, PLATFORM,
                        T0 + timedelta(minutes=n), f"T{n % 3 + 1}",
                        {s.ROUND: "1", s.ATTEMPTS: str(n)})
        yield Event(case.case_id, events_per_case, K.CLOSED.value, TOWNSHIP,
                    T0 + timedelta(minutes=events_per_case))


def peak_bytes(write: Any, events: Iterator[Event]) -> int:
    tracemalloc.start()
    try:
        write(events, NullSink())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.thorough  # 12,000 events written twice under tracemalloc: seconds
@pytest.mark.parametrize("write", [export.write_ocel2_json, export.write_csv])
def test_export_memory_does_not_grow_with_the_number_of_events(write: Any) -> None:
    small = peak_bytes(write, busy_cases(10, 200))    # 2,000 events
    large = peak_bytes(write, busy_cases(10, 1_000))  # 10,000 events, the same objects
    assert large < 1.2 * small, (small, large)


def test_a_cell_a_spreadsheet_would_run_is_written_inert() -> None:
    """An officer id is the agency's to choose; one that reads as a formula must not run
    when oversight opens the exported log in a spreadsheet."""
    acted = next(e for e in all_events() if e.officer)
    planted = Event(acted.case_id, acted.sequence, acted.kind, acted.actor, acted.at,
                    "-2+3", acted.attributes, acted.trace_id, acted.span_id,
                    '=HYPERLINK("http://example.com","x")')
    out = io.StringIO(newline="")
    export.write_csv([planted], out)
    [row] = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert row["actor_officer"] == '\'=HYPERLINK("http://example.com","x")'
    assert row["task_id"] == "'-2+3"
    assert row["case_id"] == acted.case_id
