"""The durable baseline's activities: a hash-chained ledger append and a delivery over gRPC.

The ledger is a database of its own (SQLite, WAL, synchronous=NORMAL, as Seamless's):
each event a row chained to the one before by SHA-256, a head row per case, appended
once whatever the retries (a unique (case, sequence) and a check of what is stored), in
one transaction per batch. A delivery goes to the assignee's receiving process
(bench/baseline_receiver.py), whose address it reads from the port file that process
wrote.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path

import grpc
from temporalio import activity

from bench import baseline_receiver
from bench.baseline_workflow import BareDelivery
from bench.durable_workflow import DELIVER, RECORD_EVENTS, DurableBatch

GENESIS = "0" * 64


class Ledger:
    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, timeout=5.0,
                                           isolation_level=None)
        self._lock = threading.Lock()
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, case_id TEXT, "
            "sequence INTEGER, kind TEXT, task_id TEXT, at TEXT, prev_hash TEXT, hash TEXT, "
            "UNIQUE (case_id, sequence))")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS head (case_id TEXT PRIMARY KEY, sequence INTEGER, "
            "hash TEXT)")

    def append(self, batch: DurableBatch) -> int:
        with self._lock:
            db = self._connection
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT sequence, hash FROM head WHERE case_id = ?",
                                 (batch.case_id,)).fetchone()
                last, last_hash = row if row is not None else (0, GENESIS)
                added = []
                for event in batch.events:
                    if event.sequence <= last:
                        continue  # a retried batch: already there
                    canonical = json.dumps([batch.case_id, event.sequence, event.kind,
                                            event.task_id, event.at.isoformat()])
                    link = hashlib.sha256(f"{last_hash}\n{canonical}".encode()).hexdigest()
                    added.append((batch.case_id, event.sequence, event.kind, event.task_id,
                                  event.at.isoformat(), last_hash, link))
                    last, last_hash = event.sequence, link
                db.executemany("INSERT INTO entry (case_id, sequence, kind, task_id, at, "
                               "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)", added)
                db.execute("INSERT INTO head (case_id, sequence, hash) VALUES (?, ?, ?) "
                           "ON CONFLICT (case_id) DO UPDATE SET sequence = excluded.sequence,"
                           " hash = excluded.hash", (batch.case_id, last, last_hash))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(added)


class DurableActivities:
    def __init__(self, ledger: Path, receivers: dict[str, str]) -> None:
        self._ledger = Ledger(ledger)
        self._receivers = {agency: Path(inbox) for agency, inbox in receivers.items()}
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, agency: str) -> grpc.aio.Channel:
        channel = self._channels.get(agency)
        if channel is None:
            port_file = Path(f"{self._receivers[agency]}.port")
            port = port_file.read_text(encoding="ascii").strip()
            channel = self._channels[agency] = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        return channel

    @activity.defn(name=RECORD_EVENTS)
    async def record_events(self, batch: DurableBatch) -> int:
        return await asyncio.to_thread(self._ledger.append, batch)

    @activity.defn(name=DELIVER)
    async def deliver(self, delivery: BareDelivery) -> None:
        call = self._channel(delivery.assignee).unary_unary(
            baseline_receiver.PATH, request_serializer=None, response_deserializer=None)
        await call(json.dumps(asdict(delivery)).encode(), timeout=10.0)
