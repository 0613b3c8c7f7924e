"""Whether the score store holds what the ledger says: `audit verify`'s rule for it, as
`gap_audit` is for the gap store.

The score store (`score_store`) is what scorecards are counted from: each chain's task
rounds and their clocks, objections, reports, ratings, bounces and accepted hand-offs.
The worker rewrites a chain's rows, in the transaction of each append, from a replay of
the whole chain; the store carries no hash chain, so an edit to it would change an
agency's published rates unseen. For a chain whose ledger holds, its rows must be
exactly those that replay gives. A row edited, deleted or forged is named, by table.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, select

from observability import gap_audit, ledger, score_store


def check_chain(connection: Connection, case_id: str) -> tuple[int, str] | None:
    """(sequence, problem) where the store departs from the ledger's replay of the chain
    (a case, or a report's rating), or None when it holds exactly that."""
    if not score_store.is_ready(connection):
        # A ledger from before the store (the worker derives it when it next starts):
        # nothing to hold to the ledger yet.
        return None
    events = list(ledger.stream_events(connection, case_id=case_id))
    if not events:
        return None
    last = events[-1].sequence
    expected = score_store.chain_rows(gap_audit.replay_as_stored(events, case_id), last)
    for table in score_store.TABLES:
        given = expected[table.name]
        columns = [table.c[name] for name in _columns(table, given)]
        stored = Counter(tuple(row) for row in connection.execute(
            select(*columns).where(table.c.case_id == case_id)))
        wanted = Counter(tuple(row[c.name] for c in columns) for row in given)
        if stored == wanted:
            continue
        extra, missing = stored - wanted, wanted - stored
        example = next(iter(extra or missing))
        described = dict(zip((c.name for c in columns), example, strict=True))
        what = ("holds a row the ledger's events do not give" if extra
                else "lacks a row the ledger's events give")
        return last, f"the score store's {table.name} {what}: {described}"
    return None


def _columns(table: Any, rows: list[dict[str, Any]]) -> list[str]:
    """The columns the store writes for a chain (its own row ids aside)."""
    if rows:
        return list(rows[0])
    return [column.name for column in table.columns
            if not (column.primary_key and column.autoincrement is True)]
