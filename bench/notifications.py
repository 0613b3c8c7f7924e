"""Figures for what reaches people away from the console, and for evidence files.

`python -m bench.notifications` starts `seamless up`'s processes in a folder of its own,
gives each assisting agency a webhook (a receiver in this process, as an agency's own
system would be), and then:

* **notification latency**: joint cases at a steady rate, each dispatching a task to
  each of three agencies (the benchmark's joint case); from the moment the dispatch is
  sent to the moment the agency's system holds the signed `task.delivered`, p50 and p99;
* **a 20 MiB file**: uploaded through the gateway's evidence door to the officer's
  agency and downloaded back (checked against its digest on the way), with the
  gateway's resident memory sampled every 20 ms while it streams: it holds chunks, not
  the file.

Prints the figures and writes them as JSON with `--json`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx

from bench import procstats
from bench.inbox_watch import InboxWatch
from bench.load import JOINT_CASE
from bench.seamless_api import SeamlessApi
from cli import datadir
from cli.datadir import Endpoints
from cli.sessions import Credential
from cli.supervise import Platform, free_ports
from records.participation import role_of
from seamless.v1 import notify_pb2, notify_pb2_grpc
from trust.tls import expecting, server_only_channel

MIB = 1024 * 1024
FILE_BYTES = 20 * MIB


@dataclass
class Receiver:
    """The agencies' systems: when each (case, task)'s task.delivered arrived."""

    arrived: dict[tuple[str, str], float] = field(default_factory=dict)
    port: int = 0

    def start(self) -> ThreadingHTTPServer:
        arrived = self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body["event"] == "task.delivered":
                    arrived.setdefault((body["case_id"], body["task_id"]), time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


async def _subscribe(data_dir: Path, agencies: list[str], url: str) -> None:
    endpoints = Endpoints.read(data_dir)
    tls = server_only_channel(datadir.pki(data_dir).authority.read_bytes())
    for agency in agencies:
        async with grpc.aio.secure_channel(endpoints.desks[agency], tls,
                                           options=expecting(role_of(agency), agency)) as ch:
            stub = notify_pb2_grpc.NotificationServiceStub(ch)  # type: ignore[no-untyped-call]
            await stub.AddWebhook(
                notify_pb2.AddWebhookRequest(url=url, events=["task.delivered"]),
                metadata=(("authorization", f"Bearer {Credential(data_dir, agency).token()}"),),
                timeout=30)


async def latency(api: SeamlessApi, receiver: Receiver, cases: int, rate: float
                  ) -> dict[str, Any]:
    sent: dict[tuple[str, str], float] = {}

    async def one(n: int) -> None:
        case_id = await api.open(f"NOTIFY-BENCH-{uuid.uuid4().hex[:12]}-{n}")
        for assignment in JOINT_CASE:
            started = time.time()
            task = await api.dispatch(case_id, assignment.kind, assignment.assignee)
            sent[(case_id, task)] = started

    running = []
    for n in range(cases):
        running.append(asyncio.create_task(one(n)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*running)
    give_up = time.monotonic() + 120
    while any(key not in receiver.arrived for key in sent) and time.monotonic() < give_up:
        await asyncio.sleep(0.1)
    seconds = sorted(receiver.arrived[k] - s for k, s in sent.items() if k in receiver.arrived)
    return {"notifications": len(sent), "received": len(seconds),
            "p50_ms": round(1000 * statistics.median(seconds), 1),
            "p99_ms": round(1000 * seconds[min(len(seconds) - 1, int(0.99 * len(seconds)))], 1),
            "max_ms": round(1000 * seconds[-1], 1), "cases_per_second": rate}


class _Sampler:
    """The gateway's resident memory every 20 ms while a transfer runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, procstats.usage(self.pid).rss_bytes)
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()


async def evidence(api: SeamlessApi, data_dir: Path, gateway_pid: int,
                   size: int = FILE_BYTES) -> dict[str, Any]:
    endpoints = Endpoints.read(data_dir)
    assignment = JOINT_CASE[0]
    case_id = await api.open(f"EVIDENCE-BENCH-{os.getpid()}")
    task = await api.dispatch(case_id, assignment.kind, assignment.assignee)
    await asyncio.sleep(2)  # delivered to the agency's inbox
    await api.sign(case_id, task, assignment.assignee)
    # A video's header, then bytes that do not compress: 20 MiB as a phone makes them.
    block = b"\x00\x00\x00\x18ftypmp42" + os.urandom(MIB - 12)
    content = block + os.urandom(size - len(block))
    digest = hashlib.sha256(content).hexdigest()
    token = Credential(data_dir, assignment.assignee).token()
    headers = {"authorization": f"Bearer {token}"}
    authority = str(datadir.pki(data_dir).authority)
    before = procstats.usage(gateway_pid).rss_bytes

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 256 * 1024):
            yield content[start:start + 256 * 1024]

    async with httpx.AsyncClient(base_url=endpoints.http, verify=authority,
                                 timeout=300) as http:
        # A small file first: a refusal is read whole, not as a reset mid-upload.
        probe = await http.post(f"/evidence/{case_id}/{task}", params={"name": "probe.pdf"},
                                content=b"%PDF-1.4\n%probe\n", headers=headers)
        if probe.status_code >= 400:
            raise SystemExit(f"the evidence door refused the probe: {probe.status_code} "
                             f"{probe.text}")
        sampler = _Sampler(gateway_pid)
        sampling = asyncio.create_task(sampler.run())
        started = time.monotonic()
        # Streamed in 256 KiB pieces with its length declared, as a phone's upload is.
        stored = await http.post(f"/evidence/{case_id}/{task}", params={"name": "site.mp4"},
                                 content=body(), headers={
                                     **headers, "content-length": str(len(content))})
        up = time.monotonic() - started
        stored.raise_for_status()
        assert stored.json()["sha256"] == digest, "the agency stored other bytes"
        started = time.monotonic()
        received = hashlib.sha256()
        async with http.stream("GET", f"/evidence/{case_id}/{assignment.assignee}/{digest}",
                               headers=headers) as answer:
            answer.raise_for_status()
            async for chunk in answer.aiter_bytes():
                received.update(chunk)
        down = time.monotonic() - started
        sampler.stop()
        await sampling
    assert received.hexdigest() == digest, "the download is not the file uploaded"
    return {"file_mib": size / MIB, "upload_mib_per_s": round(size / MIB / up, 1),
            "download_mib_per_s": round(size / MIB / down, 1),
            "gateway_rss_before_mib": round(before / MIB, 1),
            "gateway_rss_peak_while_streaming_mib": round(sampler.peak / MIB, 1)}


async def measure(data_dir: Path, platform: Platform, cases: int, rate: float,
                  file_mib: int) -> dict[str, Any]:
    receiver = Receiver()
    server = receiver.start()
    agencies = sorted({a.assignee for a in JOINT_CASE})
    await _subscribe(data_dir, agencies, f"http://127.0.0.1:{receiver.port}/hook")
    api = SeamlessApi(data_dir, InboxWatch({}))
    try:
        await latency(api, receiver, 5, 2.0)  # warm up
        receiver.arrived.clear()
        figures = {"latency": await latency(api, receiver, cases, rate),
                   "evidence": await evidence(api, data_dir, platform.running["gateway"].pid,
                                              file_mib * MIB)}
    finally:
        await api.aclose()
        server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--rate", type=float, default=2.0, help="joint cases a second")
    parser.add_argument("--file-mib", type=int, default=FILE_BYTES // MIB,
                        help="the evidence file's size (at most 25)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seamless-notify-bench-") as folder:
        data_dir = Path(folder) / "data"
        os.environ["XDG_CONFIG_HOME"] = str(Path(folder) / "config")
        platform = Platform(data_dir, free_ports())
        platform.start_all()
        try:
            figures = asyncio.run(measure(data_dir, platform, args.cases, args.rate,
                                          args.file_mib))
        finally:
            platform.stop_all()
    latency_ = figures["latency"]
    print(f"task.delivered at the agency's system, from the dispatch: p50 "  # noqa: T201
          f"{latency_['p50_ms']} ms, p99 {latency_['p99_ms']} ms (of "
          f"{latency_['received']}/{latency_['notifications']}, {args.rate} joint cases/s)")
    files = figures["evidence"]
    print(f"{args.file_mib} MiB evidence file: up {files['upload_mib_per_s']} MiB/s, down "  # noqa: T201
          f"{files['download_mib_per_s']} MiB/s; gateway RSS "
          f"{files['gateway_rss_before_mib']} MiB before, peak "
          f"{files['gateway_rss_peak_while_streaming_mib']} MiB while streaming")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
