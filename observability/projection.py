"""The read model: what every list shows of each case, kept in the ledger's transaction.

No list asks each case. Each case, when it sends its events to the ledger, sends beside
them what its lists show of it as it now is (`ProjectedCase`, made by the case's own
rules: `workflows.projection`), and the append writes it here in the same transaction
as the events, so a list never shows a case ahead of or behind its record:

* `case_view`: the case-list row (number, type, subject, title, owner, status, opened,
  closed) and what the public and the hotline read of it (promised deadline, last
  change, the answer to its reporters, the follow-up window);
* `case_party`: who takes part, so "the cases I may see" is one indexed range;
* `work_item`: each agency's work in the case (`workflows.rules.work`: next step, the
  clock it runs against, overdue since, whether it reached the agency), ordered by an
  index as the inbox shows them, the most overdue first;
* `report_view`: the reports on each case and whether the hotline has its rating.

Every list is then one indexed query with keyset paging; its cost does not grow with
the number of cases. A case's row says through which ledger sequence it was written: a
retried or late batch never overwrites a newer one. `projection_audit` holds all of it
to a replay of the ledger.

Like the score store, a schema of its own in the ledger's database; the worker, which
writes it, migrates it; readers (the gateway) only read. Times are integer microseconds
since the epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

from observability.gap_store import micros
from records import database
from records.projected_case import ProjectedCase, decode_work
from records.subjects import subject_identity
from seamless.v1 import case_service_pb2

SCHEMA = database.Schema("projection", Path(__file__).parent / "migrations" / "projection",
                         "projection_0002")
# A work item's place in its agency's queue: open work with a clock first (ordered by
# when it was, or will be, late: the most overdue first), then open work without one
# (the oldest first), then finished work (the newest first).
RANK_CLOCKED, RANK_UNCLOCKED, RANK_FINISHED = 0, 1, 2


def _us(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _ts_us(stamp: Any) -> int:
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000


def item_key(item: case_service_pb2.WorkItem) -> str:
    """An item's name within its case and agency: its kind and what it is about."""
    return f"{case_service_pb2.WorkKind.Name(item.kind)}:{item.ref}"


def queue_place(item: case_service_pb2.WorkItem) -> tuple[int, int]:
    """(rank, sort key) of an item in its agency's queue (see RANK_*). An open item's
    lateness begins at its missed deadline (overdue_since) or its deadline: ordering by
    that one moment puts what is overdue first, the longest overdue first, then what
    falls due soonest, whatever the moment of reading."""
    if not item.open:
        return RANK_FINISHED, -_ts_us(item.since)
    if item.HasField("overdue_since"):
        return RANK_CLOCKED, _ts_us(item.overdue_since)
    if item.HasField("deadline"):
        return RANK_CLOCKED, _ts_us(item.deadline)
    return RANK_UNCLOCKED, _ts_us(item.since)


# ----- the tables ------------------------------------------------------------------------

def ready(engine: Engine) -> None:
    """The tables at their latest revision, for the process that writes them."""
    database.migrate(engine, SCHEMA)


def is_ready(connection: Connection) -> bool:
    """Whether the tables are there, for a reader that may not make them."""
    table = database.version_table(SCHEMA)  # our own name, never a caller's
    if not inspect(connection).has_table(table):
        return False
    return connection.execute(text(f"SELECT version_num FROM {table}")).scalar() == SCHEMA.head


_HEAD = text("SELECT through_sequence FROM case_view WHERE case_id = :case_id")
_UPSERT_CASE = text(
    "INSERT INTO case_view (case_id, through_sequence, number, case_type, subject, "
    "subject_identity, title, owner, status, opened_us, closed_us, promised_by_us, "
    "updated_us, answer, reopened_from, follow_up_ends_us) VALUES (:case_id, :through, "
    ":number, :case_type, :subject, :subject_identity, :title, :owner, :status, :opened_us, "
    ":closed_us, :promised_by_us, :updated_us, :answer, :reopened_from, :follow_up_ends_us) "
    "ON CONFLICT (case_id) DO UPDATE SET through_sequence = excluded.through_sequence, "
    "number = excluded.number, case_type = excluded.case_type, subject = excluded.subject, "
    "subject_identity = excluded.subject_identity, "
    "title = excluded.title, owner = excluded.owner, status = excluded.status, "
    "opened_us = excluded.opened_us, closed_us = excluded.closed_us, "
    "promised_by_us = excluded.promised_by_us, updated_us = excluded.updated_us, "
    "answer = excluded.answer, reopened_from = excluded.reopened_from, "
    "follow_up_ends_us = excluded.follow_up_ends_us")
_DELETE_PARTIES = text("DELETE FROM case_party WHERE case_id = :case_id")
_INSERT_PARTY = text("INSERT INTO case_party (agency, case_id, opened_us, status) "
                     "VALUES (:agency, :case_id, :opened_us, :status)")
_DELETE_ITEMS = text("DELETE FROM work_item WHERE case_id = :case_id")
_INSERT_ITEM = text("INSERT INTO work_item (agency, case_id, item_key, rank, sort_us, item) "
                    "VALUES (:agency, :case_id, :item_key, :rank, :sort_us, :item)")
# A report split off goes: it follows no case until routed afresh. (A rated one stays.)
_DETACH_REPORTS = text("DELETE FROM report_view WHERE case_id = :case_id AND rated = 0")
# `rated` is of the case the report follows: one that moves on (the matter reopened, 重办)
# is unrated again, so its reporter is followed up on the redone work too.
_UPSERT_REPORT = text(
    "INSERT INTO report_view (report_id, case_id, rated) VALUES (:report_id, :case_id, 0) "
    "ON CONFLICT (report_id) DO UPDATE SET case_id = excluded.case_id, rated = CASE WHEN "
    "report_view.case_id = excluded.case_id THEN report_view.rated ELSE 0 END")
_RATED = text(
    "INSERT INTO report_view (report_id, case_id, rated) VALUES (:report_id, :case_id, 1) "
    "ON CONFLICT (report_id) DO UPDATE SET rated = 1 WHERE report_view.case_id = "
    "excluded.case_id OR report_view.case_id = ''")


def write(connection: Connection, case_id: str, case: ProjectedCase, *, through: int) -> bool:
    """Replace the case's rows with `case`, as of ledger sequence `through`, inside the
    caller's transaction (the append's). A case already written from a later sequence
    (a batch retried late) is left as it is; returns whether anything was written."""
    stored = connection.execute(_HEAD, {"case_id": case_id}).scalar()
    if stored is not None and stored > through:
        return False
    opened_us = micros(case.opened_at)
    connection.execute(_UPSERT_CASE, {
        "case_id": case_id, "through": through, "number": case.number,
        "case_type": case.case_type, "subject": case.subject,
        "subject_identity": subject_identity(case.subject), "title": case.title,
        "owner": case.owner, "status": case.status, "opened_us": opened_us,
        "closed_us": _us(case.closed_at), "promised_by_us": _us(case.promised_by),
        "updated_us": micros(case.updated_at), "answer": case.answer,
        "reopened_from": case.reopened_from,
        "follow_up_ends_us": _us(case.follow_up_ends)})
    connection.execute(_DELETE_PARTIES, {"case_id": case_id})
    if case.participants:
        connection.execute(_INSERT_PARTY, [
            {"agency": agency, "case_id": case_id, "opened_us": opened_us,
             "status": case.status} for agency in sorted(set(case.participants))])
    connection.execute(_DELETE_ITEMS, {"case_id": case_id})
    rows = []
    for agency, encoded in sorted(case.work.items()):
        for item in decode_work(encoded):
            rank, sort_us = queue_place(item)
            rows.append({"agency": agency, "case_id": case_id, "item_key": item_key(item),
                         "rank": rank, "sort_us": sort_us,
                         "item": item.SerializeToString(deterministic=True)})
    if rows:
        connection.execute(_INSERT_ITEM, rows)
    connection.execute(_DETACH_REPORTS, {"case_id": case_id})
    if case.reports:
        connection.execute(_UPSERT_REPORT, [{"report_id": report_id, "case_id": case_id}
                                            for report_id in sorted(set(case.reports))])
    return True


def rated(connection: Connection, report_id: str, case_id: str) -> None:
    """The hotline recorded the report's rating of `case_id` (its rating chain's one
    event); a report that has moved on to a reopened case stays unrated there."""
    connection.execute(_RATED, {"report_id": report_id, "case_id": case_id})


# ----- the lists ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkPosition:
    """Where a page of a work queue ends: the next page starts after it."""

    rank: int
    sort_us: int
    case_id: str
    item_key: str

    def encode(self) -> bytes:
        return f"{self.rank}\0{self.sort_us}\0{self.case_id}\0{self.item_key}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> WorkPosition:
        rank, sort_us, case_id, key = raw.decode().split("\0")
        return cls(int(rank), int(sort_us), case_id, key)


def work_page(connection: Connection, agency: str, *, open_only: bool, size: int,
              after: WorkPosition | None = None
              ) -> tuple[list[case_service_pb2.WorkItem], WorkPosition | None]:
    """One page of `agency`'s work queue in queue order, and where the next page starts
    (None: this is the last)."""
    clauses = ["agency = :agency"]
    params: dict[str, Any] = {"agency": agency, "limit": size + 1}
    if open_only:
        clauses.append(f"rank < {RANK_FINISHED}")
    if after is not None:
        clauses.append("(rank, sort_us, case_id, item_key) > (:rank, :sort_us, :case_id, "
                       ":item_key)")
        params.update(rank=after.rank, sort_us=after.sort_us, case_id=after.case_id,
                      item_key=after.item_key)
    rows = connection.execute(text(
        "SELECT rank, sort_us, case_id, item_key, item FROM work_item WHERE "
        + " AND ".join(clauses) + " ORDER BY rank, sort_us, case_id, item_key LIMIT :limit"),
        params).all()
    items = [case_service_pb2.WorkItem.FromString(row[4]) for row in rows[:size]]
    if len(rows) <= size:
        return items, None
    last = rows[size - 1]
    return items, WorkPosition(last[0], last[1], last[2], last[3])


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    number: str
    case_type: str
    subject: str
    title: str
    owner: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    promised_by: datetime | None
    updated_at: datetime
    answer: str
    reopened_from: str
    follow_up_ends: datetime | None
    through_sequence: int


def _time(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC)


_CASE_COLUMNS = ("v.case_id, v.number, v.case_type, v.subject, v.title, v.owner, v.status, "
                 "v.opened_us, v.closed_us, v.promised_by_us, v.updated_us, v.answer, "
                 "v.reopened_from, v.follow_up_ends_us, v.through_sequence")


def _case_row(row: Sequence[Any]) -> CaseRow:
    opened, updated = _time(row[7]), _time(row[10])
    assert opened is not None and updated is not None  # NOT NULL columns
    return CaseRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], opened,
                   _time(row[8]), _time(row[9]), updated, row[11], row[12], _time(row[13]),
                   row[14])


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters; each value already checked by the caller."""

    owner: str = ""
    status: str = ""
    case_type: str = ""
    # The subject's identity (records.subjects), whole or (`subject_begins`) its start.
    subject: str = ""
    subject_begins: bool = False


@dataclass(frozen=True)
class CasePosition:
    opened_us: int
    case_id: str

    def encode(self) -> bytes:
        return f"{self.opened_us}\0{self.case_id}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> CasePosition:
        opened_us, case_id = raw.decode().split("\0")
        return cls(int(opened_us), case_id)


def case_page(connection: Connection, *, viewer: str | None, filters: CaseFilter, size: int,
              after: CasePosition | None = None) -> tuple[list[CaseRow], CasePosition | None]:
    """One page of the cases `viewer` takes part in (None: every case), the newest
    first, and where the next page starts (None: this is the last)."""
    params: dict[str, Any] = {"limit": size + 1}
    if viewer is None:
        source, order_table, clauses = "case_view v", "v", []
    else:
        source = "case_party p JOIN case_view v ON v.case_id = p.case_id"
        order_table, clauses = "p", ["p.agency = :viewer"]
        params["viewer"] = viewer
    if filters.status:
        clauses.append(f"{order_table}.status = :status")
        params["status"] = filters.status
    if filters.owner:
        clauses.append("v.owner = :owner")
        params["owner"] = filters.owner
    if filters.case_type:
        clauses.append("v.case_type = :case_type")
        params["case_type"] = filters.case_type
    if filters.subject and filters.subject_begins:
        # The escape character bound, not written into the statement: the same on every
        # server, whatever it makes of a backslash in a literal.
        clauses.append("v.subject_identity LIKE :subject ESCAPE :escape")
        params.update(subject=database.starting_with(filters.subject),
                      escape=database.LIKE_ESCAPE)
    elif filters.subject:
        clauses.append("v.subject_identity = :subject")
        params["subject"] = filters.subject
    if after is not None:
        clauses.append(f"({order_table}.opened_us, {order_table}.case_id) < "
                       "(:opened_us, :after_case)")
        params.update(opened_us=after.opened_us, after_case=after.case_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = connection.execute(text(
        f"SELECT {_CASE_COLUMNS} FROM {source}{where} ORDER BY {order_table}.opened_us "
        f"DESC, {order_table}.case_id DESC LIMIT :limit"), params).all()
    cases = [_case_row(row) for row in rows[:size]]
    if len(rows) <= size:
        return cases, None
    last = cases[-1]
    return cases, CasePosition(micros(last.opened_at), last.case_id)


def cases_by_id(connection: Connection, case_ids: Sequence[str]) -> dict[str, CaseRow]:
    """The rows of these cases (those the projection has)."""
    found: dict[str, CaseRow] = {}
    wanted = sorted(set(case_ids))
    for start in range(0, len(wanted), 500):  # SQLite's bound on IN-list parameters
        chunk = wanted[start:start + 500]
        names = [f"c{i}" for i in range(len(chunk))]
        rows = connection.execute(text(
            f"SELECT {_CASE_COLUMNS} FROM case_view v WHERE v.case_id IN "
            f"({', '.join(':' + n for n in names)})"), dict(zip(names, chunk, strict=True)))
        for row in rows:
            case = _case_row(row)
            found[case.case_id] = case
    return found


def parties_of(connection: Connection, case_id: str) -> list[str]:
    """The agencies that take part in the case."""
    return [row[0] for row in connection.execute(text(
        "SELECT agency FROM case_party WHERE case_id = :case_id ORDER BY agency"),
        {"case_id": case_id}).all()]


def follow_ups(connection: Connection, *, now: datetime, size: int) -> list[tuple[str, str]]:
    """(report id, case id) of the unrated reports of closed cases whose follow-up
    window is still open, the earliest closed first."""
    rows = connection.execute(text(
        "SELECT r.report_id, r.case_id FROM case_view v JOIN report_view r "
        "ON r.case_id = v.case_id WHERE v.follow_up_ends_us > :now AND r.rated = 0 "
        "ORDER BY v.closed_us, v.case_id, r.report_id LIMIT :limit"),
        {"now": micros(now), "limit": size}).all()
    return [(row[0], row[1]) for row in rows]


def last_entry(connection: Connection) -> int:
    """The ledger's newest entry id (0 for an empty ledger)."""
    return int(connection.execute(text("SELECT max(id) FROM ledger_entry")).scalar() or 0)


def parties_of_entries(connection: Connection, after: int, upto: int, kinds: Sequence[str]
                       ) -> list[tuple[int, str, bool]]:
    """Each ledger entry in (after, upto] with each agency taking part in its case, and
    whether the entry is of one of `kinds` (an entry for the coordinator's queue): the
    console's live line tells their open pages to look again. Reads the entries by their
    id alone, so a look costs what was appended since."""
    names = ", ".join(f":k{i}" for i in range(len(kinds))) or "''"
    rows = connection.execute(text(
        f"SELECT e.id, p.agency, e.kind IN ({names}) FROM ledger_entry e "
        "JOIN case_party p ON p.case_id = e.case_id WHERE e.id > :after AND e.id <= :upto"),
        {"after": after, "upto": upto, **{f"k{i}": k for i, k in enumerate(kinds)}})
    return [(int(row[0]), str(row[1]), bool(row[2])) for row in rows]
