"""A receiving process of the durable baseline: one agency's inbox behind gRPC.

It takes a delivery (JSON, over a plain gRPC unary call) and stores it in its own SQLite
inbox, set up as the agencies' databases are, once per (case, task). It stands for an
agency's service without its trust (no TLS, receipts or sessions): the same hop and the
same durable write.

`python -m bench.baseline_receiver --inbox FILE` serves on a free port and writes the
port to FILE + ".port".
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import grpc

SERVICE, METHOD = "bench.Receiver", "Deliver"
PATH = f"/{SERVICE}/{METHOD}"


class Inbox:
    """One SQLite inbox, WAL and synchronous=NORMAL as the agencies' databases are."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, timeout=5.0)
        self._lock = threading.Lock()
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS inbox_item (id INTEGER PRIMARY KEY, "
            "assignee TEXT, case_id TEXT, task_id TEXT, delivered_at TEXT, "
            "UNIQUE (case_id, task_id))")

    def store(self, assignee: str, case_id: str, task_id: str) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR IGNORE INTO inbox_item (assignee, case_id, task_id, delivered_at)"
                " VALUES (?, ?, ?, ?)", (assignee, case_id, task_id,
                                         datetime.now(UTC).isoformat()))


async def serve(inbox_path: Path) -> None:
    inbox = Inbox(inbox_path)

    async def deliver(request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]
                      ) -> bytes:
        delivery = json.loads(request)
        await asyncio.to_thread(inbox.store, delivery["assignee"], delivery["case_id"],
                                delivery["task_id"])
        return b"{}"

    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {
        METHOD: grpc.unary_unary_rpc_method_handler(deliver)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_file = Path(f"{inbox_path}.port")
    port_file.with_suffix(".tmp").write_text(str(port), encoding="ascii")
    port_file.with_suffix(".tmp").replace(port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop(grace=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", required=True, type=Path)
    args = parser.parse_args()
    gc.freeze()  # as the platform's services do
    asyncio.run(serve(args.inbox))
    os._exit(0)


if __name__ == "__main__":
    main()
