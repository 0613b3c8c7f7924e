"""How every part's SQLite database is opened: write-ahead logging, normal sync.

With WAL a commit appends to the log instead of syncing a rollback journal and the
database file, and readers (the gateway reading the ledger, the benchmark reading an
inbox) do not block the writer. `synchronous=NORMAL` keeps the database consistent after a
crash; only the last commits before a power cut could be lost, never half of one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


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
