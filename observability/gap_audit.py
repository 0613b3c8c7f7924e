"""Whether the gap store holds what the ledger says: the rule `audit verify` holds it to.

The gap store (`gap_store`) is what oversight queries: the gaps, who was accountable for
each, and who takes part in a case (which decides who may see it). It is a cache of the
ledger that the worker rewrites, in the transaction of each append, from a replay of the
whole case; unlike the ledger it carries no hash chain, so an edit to it would mislead
oversight unseen. For a case whose ledger holds, the store must therefore hold exactly
what that replay gives: each gap row, and each agency taking part. A row edited,
deleted, forged or left behind is named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, union

from observability import gap_store, ledger, spans
from observability.accountability import CaseReplay
from observability.gap_store import CaseGap, CaseParticipant
from records.event_schema import Event

_GAPS: Any = CaseGap.__table__  # type: ignore[attr-defined]
_PARTIES: Any = CaseParticipant.__table__  # type: ignore[attr-defined]
# Every column the store writes for a gap (its own row id aside).
_COLUMNS = [column for column in _GAPS.columns if column.name != "id"]
_INDEX = {column.name: i for i, column in enumerate(_COLUMNS)}
Row = tuple[Any, ...]


def replay_as_stored(events: Sequence[Event], case_id: str) -> CaseReplay:
    """The replay the worker writes to the store after an append: every event of the case,
    finished at the time of the last (workflows.ledger_activities)."""
    replay = spans.replay_case(events, case_id)
    if events:
        replay.finish(events[-1].at)
    return replay


def check_case(connection: Connection, case_id: str) -> tuple[int, str] | None:
    """(sequence, problem) where the store departs from the ledger's replay of the case,
    or None when it holds exactly that."""
    events = list(ledger.stream_events(connection, case_id=case_id))
    replay = replay_as_stored(events, case_id)
    last = events[-1].sequence if events else 1
    parties = {row[0] for row in connection.execute(
        select(_PARTIES.c.agency).where(_PARTIES.c.case_id == case_id))}
    # Who takes part first: it decides who may see the case at all.
    taking_part = set(replay.participants)
    added, dropped = sorted(parties - taking_part), sorted(taking_part - parties)
    if added:
        return last, (f"the gap store lists {added[0]} as taking part in the case (so it "
                      "may see it), which the ledger's events do not")
    if dropped:
        return last, (f"the gap store does not list {dropped[0]} as taking part in the "
                      "case, which the ledger's events do")
    stored = Counter(_key(row._mapping) for row in connection.execute(
        select(*_COLUMNS).where(_GAPS.c.case_id == case_id)))
    expected = Counter(_key(row) for row in gap_store.case_rows(replay))
    return _first_difference(stored - expected, expected - stored)


def _key(row: Mapping[Any, Any]) -> Row:
    return tuple(row.get(column.name) for column in _COLUMNS)


def _field(row: Row, name: str) -> Any:
    return row[_INDEX[name]]


def _opened_at(row: Row) -> int:
    """The event that opened the gap (a row edited into something else counts as 1)."""
    sequence = _field(row, "start_sequence")
    return max(1, sequence) if isinstance(sequence, int) else 1


def _identity(row: Row) -> Row:
    """What names a gap whatever its other fields say: its kind, task, reference and the
    event that opened it."""
    return tuple(_field(row, name) for name in ("kind", "task_id", "ref", "start_sequence"))


def _describe(row: Row) -> str:
    task = f" of task {_field(row, 'task_id')}" if _field(row, "task_id") else ""
    return (f"{_field(row, 'kind')} gap{task} opened at event "
            f"{_field(row, 'start_sequence')} (accountable: {_field(row, 'accountable')})")


def _first_difference(extra: Counter[Row], missing: Counter[Row]) -> tuple[int, str] | None:
    """The earliest gap (by the event that opened it) the store has wrong, or None."""
    rows = sorted(set(extra) | set(missing), key=lambda r: (_opened_at(r), repr(r)))
    if not rows:
        return None
    row = rows[0]
    at = _opened_at(row)
    twin = next((m for m in (missing if row in extra else extra)
                 if _identity(m) == _identity(row)), None)
    if twin is not None:  # the same gap on both sides: some of its fields were changed
        stored, given = (row, twin) if row in extra else (twin, row)
        changed = ", ".join(f"{c.name} {_field(stored, c.name)!r} where the ledger gives "
                            f"{_field(given, c.name)!r}" for c in _COLUMNS
                            if _field(stored, c.name) != _field(given, c.name))
        return at, f"the gap store's {_describe(given)} was changed: {changed}"
    if row in extra:
        return at, f"the gap store holds a gap the ledger's events do not give: {_describe(row)}"
    return at, f"the gap store lacks a gap the ledger's events give: {_describe(row)}"


def cases_only_in_store(connection: Connection, known: Iterable[str]) -> list[str]:
    """Cases the store holds gaps or parties of that the ledger does not have at all."""
    held = connection.execute(union(select(_GAPS.c.case_id), select(_PARTIES.c.case_id)))
    return sorted({row[0] for row in held} - set(known))
