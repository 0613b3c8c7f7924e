"""Benchmark: one agency floods the gateway with whole-ledger calls while the others work.

    python -m bench.flood [--events 1000000] [--db PATH] [--orders 120] [--flood 20]
                          [--json FILE]

On a platform started as `seamless up` starts it, whose ledger is the synthetic
million-event ledger of `bench.oversight` (its gap and score stores derived), it runs
`--orders` work orders (open, dispatch to market regulation, sign for at its desk,
complete, close; four at a time) twice: alone, then while the oversight body keeps
`--flood` GetScorecards and ExportEventLog calls in the air at once, again and again,
as fast as they are answered. Figures: the other agencies' sign-for round trip (p50,
p99) in both phases side by side, the flood's answers by status code, and the
gateway's resident memory (its high-water mark in each phase).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

from bench import procstats
from bench.inbox_watch import InboxWatch
from bench.load import SIGN, WORK_ORDER, Samples, percentile, run_case
from bench.oversight import prepare
from bench.seamless_api import SeamlessApi
from cli import datadir
from cli.datadir import Endpoints
from cli.sessions import Credential
from cli.supervise import Platform
from records.participation import OVERSIGHT
from seamless.v1 import oversight_pb2 as opb
from seamless.v1 import oversight_pb2_grpc
from trust.pki import Role
from trust.tls import expecting, server_only_channel

MIB = 1024 * 1024
AT_ONCE = 4


def say(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201 - the benchmark's report


class Flood:
    """The oversight body's staff keeping `size` whole-ledger calls in the air."""

    def __init__(self, data_dir: Path, size: int) -> None:
        endpoints = Endpoints.read(data_dir)
        tls = server_only_channel(datadir.pki(data_dir).authority.read_bytes())
        self._channel = grpc.aio.secure_channel(endpoints.gateway, tls,
                                                options=expecting(Role.GATEWAY))
        self._stub = oversight_pb2_grpc.OversightServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = (("authorization", f"Bearer {Credential(data_dir, OVERSIGHT).token()}"),)
        self._size = size
        self.answers: Counter[str] = Counter()
        self._stop = asyncio.Event()

    async def _scorecards(self) -> None:
        await self._stub.GetScorecards(opb.GetScorecardsRequest(), metadata=self._metadata,
                                       timeout=300)

    async def _export(self) -> None:
        async for _ in self._stub.ExportEventLog(
                opb.ExportEventLogRequest(format=opb.EXPORT_FORMAT_CSV),
                metadata=self._metadata, timeout=600):
            if self._stop.is_set():
                return  # leave mid-stream: the gateway must stop and free its spool

    async def _keep_calling(self, call: Any) -> None:
        while not self._stop.is_set():
            try:
                await call()
                self.answers["OK"] += 1
            except grpc.aio.AioRpcError as err:
                self.answers[err.code().name] += 1
                if err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                    await asyncio.sleep(0.05)  # a determined client, not a polite one

    async def run(self) -> None:
        calls = [self._scorecards if i % 2 == 0 else self._export for i in range(self._size)]
        await asyncio.gather(*(self._keep_calling(c) for c in calls))

    async def stop(self) -> None:
        self._stop.set()
        await self._channel.close(grace=None)


async def work_orders(data_dir: Path, orders: int, samples: Samples) -> None:
    async with InboxWatch(SeamlessApi.inboxes(data_dir)) as watch:
        api = SeamlessApi(data_dir, watch)
        queue = list(range(orders))

        async def worker() -> None:
            while queue:
                number = queue.pop()
                try:
                    await run_case(api, f"flood-{time.time_ns()}-{number}", WORK_ORDER,
                                   samples)
                except grpc.aio.AioRpcError as err:
                    samples.failures.append(f"{number}: {err.code().name} {err.details()}")
        try:
            await asyncio.gather(*(worker() for _ in range(AT_ONCE)))
        finally:
            await api.aclose()


async def phase(platform: Platform, orders: int, flood_size: int) -> dict[str, Any]:
    gateway = platform.running["gateway"].pid
    procstats.reset_peak(gateway)
    samples = Samples()
    flood = Flood(platform.data_dir, flood_size) if flood_size else None
    flooding = asyncio.create_task(flood.run()) if flood else None
    if flood:
        await asyncio.sleep(2.0)  # let the flood build up first
    started = time.perf_counter()
    await work_orders(platform.data_dir, orders, samples)
    seconds = time.perf_counter() - started
    if flood and flooding:
        await flood.stop()
        await asyncio.gather(flooding, return_exceptions=True)
    signs = samples.latencies[SIGN]
    return {"orders": samples.finished, "failures": samples.failures[:5],
            "seconds": seconds, "sign_p50_ms": percentile(signs, 50) * 1000,
            "sign_p99_ms": percentile(signs, 99) * 1000,
            "gateway_peak_rss_mib": procstats.usage(gateway).peak_rss_bytes / MIB,
            "flood_answers": dict(flood.answers) if flood else {}}


async def run(db: Path, events: int, orders: int, flood_size: int) -> dict[str, Any]:
    facts = prepare(db, events)
    with tempfile.TemporaryDirectory(prefix="seamless-flood-") as folder:
        data_dir = Path(folder)
        (data_dir / "ledger").mkdir(mode=0o700)
        say(f"copying the ledger ({db.stat().st_size / MIB:,.0f} MiB) into the platform ...")
        shutil.copyfile(db, data_dir / "ledger" / "ledger.db")
        platform = Platform(data_dir)
        platform.start_all()
        try:
            say(f"{orders} work orders alone ...")
            alone = await phase(platform, orders, 0)
            say(f"{orders} work orders while {flood_size} whole-ledger calls fly ...")
            flooded = await phase(platform, orders, flood_size)
        finally:
            platform.stop_all()
    return {"ledger": facts, "alone": alone, "flooded": flooded, "flood_size": flood_size}


def report(figures: dict[str, Any]) -> None:
    alone, flooded = figures["alone"], figures["flooded"]
    say()
    say(f"ledger: {figures['ledger']['events']:,} events; flood: {figures['flood_size']} "
        "GetScorecards and ExportEventLog calls at once by the oversight body")
    say("| | alone | with the flood |")
    say("| --- | --- | --- |")
    for key, label in (("sign_p50_ms", "sign-for p50 (ms)"), ("sign_p99_ms",
                                                               "sign-for p99 (ms)"),
                       ("gateway_peak_rss_mib", "gateway peak RSS (MiB)")):
        say(f"| {label} | {alone[key]:.1f} | {flooded[key]:.1f} |")
    say(f"| work orders finished | {alone['orders']} | {flooded['orders']} |")
    answers = ", ".join(f"{code} {count}" for code, count in
                        sorted(flooded["flood_answers"].items()))
    say(f"flood answers: {answers}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) /
                        "seamless-oversight-ledger.db")
    parser.add_argument("--orders", type=int, default=120)
    parser.add_argument("--flood", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.db, args.events, args.orders, args.flood))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
