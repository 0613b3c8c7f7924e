"""How every part's database is opened: for SQLite, write-ahead logging and normal sync;
for any, tables created safely by processes starting together.

With WAL a commit appends to the log instead of syncing a rollback journal and the
database file, and readers (the gateway reading the ledger, the benchmark reading an
inbox) do not block the writer. `synchronous=NORMAL` keeps the database consistent after a
crash; only the last commits before a power cut could be lost, never half of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Table, event
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel


def tune(engine: Engine) -> Engine:
    """Apply the pragmas to every connection `engine` makes, when it is SQLite."""
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


def create_tables(engine: Engine, tables: Sequence[Table], attempts: int = 5) -> None:
    """Create `tables` if missing, also when another process does so at the same moment
    (the worker and the gateway open the ledger together at start-up). CREATE TABLE is
    not conditional in SQLAlchemy's dialects, so the loser of that race is told a table
    exists: it tries again, and this time finds it (and creates what is still missing)."""
    for attempt in range(attempts):
        try:
            SQLModel.metadata.create_all(engine, tables=list(tables))
            return
        except (OperationalError, ProgrammingError):
            if attempt == attempts - 1:
                raise


# The escape character of `starting_with` patterns (LIKE has none by default).
LIKE_ESCAPE = "\\"


def starting_with(prefix: str) -> str:
    """A LIKE pattern (escaped with LIKE_ESCAPE) matching text that starts with
    `prefix` taken literally: its own % and _ are not wildcards."""
    escaped = (prefix.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return escaped + "%"
