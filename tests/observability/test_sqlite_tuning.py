"""Opening databases: processes that start together may both create the tables."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, inspect

from observability import sqlite_tuning
from observability.ledger import LedgerEntry, LedgerHead


def test_tables_created_by_many_at_once_are_created_once(tmp_path: Path) -> None:
    tables = [LedgerEntry.__table__, LedgerHead.__table__]  # type: ignore[attr-defined]
    for attempt in range(10):
        url = f"sqlite:///{tmp_path / f'ledger-{attempt}.db'}"
        engines = [sqlite_tuning.tune(create_engine(url)) for _ in range(6)]
        start = threading.Barrier(len(engines))
        failures: list[Exception] = []

        def create(engine: object, start: threading.Barrier = start,
                   failures: list[Exception] = failures) -> None:
            start.wait()
            try:
                sqlite_tuning.create_tables(engine, tables)  # type: ignore[arg-type]
            except Exception as err:  # noqa: BLE001 - collected and asserted below
                failures.append(err)

        threads = [threading.Thread(target=create, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert {"ledger_entry", "ledger_head"} <= set(inspect(engines[0]).get_table_names())
        for engine in engines:
            engine.dispose()
