"""Seeing a task arrive in an inbox database, without going through the system under test.

"Dispatch-to-inbox" ends when the row is in the assignee's own database. The benchmark
reads those SQLite files directly (read-only, only rows it has not seen), so measuring
adds no calls to the services being measured. The arrival time is the row's own
`delivered_at`, stamped by the writer as it stored the row, so the poll interval does
not blur the figure.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 0.01
Key = tuple[str, str, str]  # (inbox, case id, task id)


def stored_epoch(stored: str | datetime) -> float:
    """Seconds since the epoch of a time as read back from SQLite (text) or PostgreSQL."""
    # SQLAlchemy keeps UTC times in SQLite as text without their zone.
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class InboxWatch:
    """Polls each inbox database for new rows and answers `arrival` from them."""

    def __init__(self, databases: Mapping[str, Path]) -> None:
        self._databases = dict(databases)
        self._arrived: dict[Key, float] = {}
        self._waiting: dict[Key, asyncio.Future[float]] = {}
        self._pollers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> InboxWatch:
        self._pollers = [asyncio.create_task(self._poll(name, path))
                         for name, path in self._databases.items()]
        return self

    async def __aexit__(self, *_: object) -> None:
        for poller in self._pollers:
            poller.cancel()
        await asyncio.gather(*self._pollers, return_exceptions=True)

    async def arrival(self, inbox: str, case_id: str, task_id: str) -> float:
        key = (inbox, case_id, task_id)
        if key in self._arrived:
            return self._arrived.pop(key)
        future = self._waiting.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            return await future
        finally:
            self._waiting.pop(key, None)

    async def _poll(self, inbox: str, path: Path) -> None:
        while not path.exists():
            await asyncio.sleep(POLL_SECONDS)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        last = 0
        try:
            while True:
                try:
                    rows = connection.execute(
                        "SELECT id, case_id, task_id, delivered_at FROM inbox_item "
                        "WHERE id > ? ORDER BY id", (last,)).fetchall()
                except sqlite3.OperationalError:  # no table yet, or a writer holds it
                    rows = []
                for row_id, case_id, task_id, delivered_at in rows:
                    last = row_id
                    self._arrive((inbox, case_id, task_id), stored_epoch(delivered_at))
                await asyncio.sleep(POLL_SECONDS)
        finally:
            connection.close()

    def _arrive(self, key: Key, at: float) -> None:
        future = self._waiting.get(key)
        if future is not None and not future.done():
            future.set_result(at)
        else:
            self._arrived[key] = at
