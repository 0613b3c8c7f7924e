"""`seamless-bench`: the platform against bare Temporal, on one server, in one run.

Starts a fresh platform (the processes `seamless up` runs, on the same SQLite settings)
plus the baseline's worker, then measures, in order:

1. joint cases (open, three tasks to three agencies, each signed and completed by its
   agency, close), closed-loop at the given concurrency: the baseline, then Seamless;
2. the same at half of Seamless's maximum throughput, steady (open-loop), both systems;
3. Temporal history events per case, and each process kind's CPU time and memory;
4. single-task work orders at rising steady rates, up to the highest one held with
   open-case p99 under 100 ms;
5. with --idle-cases, that many held cases and a thousand clocks expiring in one minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import idle, procstats, report
from bench.baseline import BaselineApi
from bench.inbox_watch import InboxWatch
from bench.load import JOINT_CASE, WORK_ORDER, CaseApi
from bench.platform_under_test import PlatformUnderTest, history_events, running
from bench.scenarios import CityStep, Run, Subjects, city_scale, closed, ratios, steady
from bench.seamless_api import SeamlessApi

WARM_UP_CASES = 10
HISTORY_SAMPLE = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=300,
                        help="joint cases per system in the closed-loop run (default 300)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="joint cases in flight at once (default 16)")
    parser.add_argument("--half-load-seconds", type=float, default=60.0,
                        help="how long each system runs at half load (default 60)")
    parser.add_argument("--city-rates", default="2,4,6,8,10,12,15,20,25,30",
                        help="work orders per second to try, in order, on each system "
                             "until one is not held (default 2,4,...,30)")
    parser.add_argument("--city-seconds", type=float, default=60.0,
                        help="how long each work-order rate runs (default 60)")
    parser.add_argument("--idle-cases", type=int, default=0,
                        help="also hold this many cases with three running clocks each")
    parser.add_argument("--expiring", type=int, default=1000,
                        help="of the idle cases, how many clocks expire in one minute")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="only the idle scenario")
    parser.add_argument("--json", dest="json_file", type=Path, default=None,
                        help="also write every figure to this file")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="run in DIR and keep it (default: a temporary directory)")


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201


async def _throughput(platform: PlatformUnderTest, args: argparse.Namespace
                      ) -> dict[str, Any]:
    subjects = Subjects(uuid.uuid4().hex[:8])
    client = await Client.connect(platform.temporal_address)
    assignees = {task.assignee for task in (*JOINT_CASE, *WORK_ORDER)}
    inboxes = {**{agency: path for agency, path in SeamlessApi.inboxes(platform.data_dir).items()
                  if agency in assignees},
               "baseline": platform.baseline_inbox}

    async def settle(system: str) -> None:
        await _settle(client, system)

    async with InboxWatch(inboxes) as watch:
        ours = SeamlessApi(platform.data_dir, watch)
        bare = BaselineApi(client, watch, subjects.take("run"))
        apis: dict[str, CaseApi] = {"baseline": bare, "seamless": ours}
        try:
            _say(f"warming up: {WARM_UP_CASES} joint cases on each system")
            for name, api in apis.items():
                warm = await closed(name, api, JOINT_CASE, cases=WARM_UP_CASES,
                                    concurrency=2, subjects=subjects, usage=platform.usage,
                                    settle=settle)
                if warm.samples.failures:
                    raise SystemExit(f"{name} fails its first cases: "
                                     f"{warm.samples.failures[0]}")
            full: dict[str, Run] = {}
            for name, api in apis.items():
                _say(f"{name}: {args.cases} joint cases, {args.concurrency} in flight")
                full[name] = await closed(name, api, JOINT_CASE, cases=args.cases,
                                          concurrency=args.concurrency, subjects=subjects,
                                          usage=platform.usage, settle=settle)
                _say(f"  {full[name].throughput:.2f} cases/s")
            half_rate = round(full["seamless"].throughput / 2, 2)
            half: dict[str, Run] = {}
            for name, api in apis.items():
                _say(f"{name}: half load, {half_rate} joint cases/s for "
                     f"{args.half_load_seconds:.0f} s")
                half[name] = await steady(name, api, JOINT_CASE, rate=half_rate,
                                          seconds=args.half_load_seconds, subjects=subjects,
                                          usage=platform.usage, settle=settle)
            events = {
                "seamless": await history_events(client, _sample_case_ids(platform)),
                "baseline": await history_events(client, _sample_bare_ids(platform)),
            }
            _say("work orders (one task each) at rising steady rates")
            rates = [float(r) for r in args.city_rates.split(",") if r.strip()]
            city = {name: await city_scale(name, api, WORK_ORDER, rates=rates,
                                           seconds=args.city_seconds, subjects=subjects,
                                           usage=platform.usage, log=_say, settle=settle)
                    for name, api in apis.items()}
        finally:
            await ours.aclose()
    return {
        "joint_cases": {"concurrency": args.concurrency,
                        "full": {n: r.as_json() for n, r in full.items()},
                        "ratio_full": ratios(full["seamless"], full["baseline"]),
                        "half_load": {n: r.as_json() for n, r in half.items()},
                        "ratio_half_load": ratios(half["seamless"], half["baseline"])},
        "history_events_per_case": {n: {"min": min(c), "max": max(c)}
                                    for n, c in events.items() if c},
        "work_orders": {name: _steps(steps) for name, steps in city.items()},
    }


def _steps(steps: list[CityStep]) -> dict[str, Any]:
    held = [step for step in steps if step.sustained]
    return {"steps": [{**s.run.as_json(), "open_p99_ms": round(s.open_p99_ms, 1),
                       "held": s.sustained} for s in steps],
            "highest_rate_held": held[-1].run.offered_rate if held else None}


SETTLE_SECONDS = 120.0
WORKFLOW_TYPE = {"seamless": "CaseWorkflow", "baseline": "BareCase"}


async def _settle(client: Client, system: str) -> None:
    """Wait until no case of `system` is still running (or give up after two minutes)."""
    query = f'WorkflowType="{WORKFLOW_TYPE[system]}" AND ExecutionStatus="Running"'
    give_up = time.monotonic() + SETTLE_SECONDS
    while (await client.count_workflows(query)).count and time.monotonic() < give_up:
        await asyncio.sleep(0.5)


def _sample_case_ids(platform: PlatformUnderTest) -> list[str]:
    """Case ids of closed Seamless cases, from the ledger (the gateway's list would do too,
    but reading the database adds no load to what is measured)."""
    ledger = platform.data_dir / "ledger" / "ledger.db"
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT case_id FROM ledger_entry WHERE kind = 'CLOSED' ORDER BY id DESC "
            "LIMIT ?", (HISTORY_SAMPLE,)).fetchall()
    return [row[0] for row in rows]


def _sample_bare_ids(platform: PlatformUnderTest) -> list[str]:
    """Workflow ids of recent baseline cases, from its inbox."""
    with sqlite3.connect(f"file:{platform.baseline_inbox}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT case_id FROM inbox_item GROUP BY case_id "
                                  "ORDER BY max(id) DESC LIMIT ?", (HISTORY_SAMPLE,)).fetchall()
    return [row[0] for row in rows]


def _memory(platform: PlatformUnderTest) -> dict[str, Any]:
    return {kind: {"rss_mib": round(u.rss_bytes / procstats.MIB, 1),
                   "peak_rss_mib": round(u.peak_rss_bytes / procstats.MIB, 1)}
            for kind, u in platform.usage().items()}


def bench_command(args: argparse.Namespace) -> int:
    if args.idle_cases and not 0 < args.expiring <= args.idle_cases:
        raise SystemExit("--expiring must be between 1 and --idle-cases")
    # Stopped from outside, stop the platform it started too (as Ctrl-C does).
    signal.signal(signal.SIGTERM, _interrupted)
    began = time.monotonic()
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.release()}"},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with tempfile.TemporaryDirectory(prefix="seamless-bench-") as scratch:
        data_dir = args.keep.absolute() if args.keep else Path(scratch)
        _say(f"starting the platform in {data_dir}")
        with running(data_dir) as platform:
            if not args.skip_throughput:
                figures.update(asyncio.run(_throughput(platform, args)))
                figures["memory_after_throughput"] = _memory(platform)
            if args.idle_cases:
                figures["idle"] = asyncio.run(idle.run(
                    platform, cases=args.idle_cases, expiring=args.expiring, log=_say))
    figures["wall_seconds"] = round(time.monotonic() - began, 1)
    _say(report.table(figures))
    if args.json_file:
        args.json_file.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        _say(f"figures written to {args.json_file}")
    return 0


def entry_point() -> None:
    """`seamless-bench` (or `python -m bench`): the benchmark has its own command, so
    the `seamless` command line does not import it."""
    description = "measure the platform against bare Temporal (starts its own; see " \
                  "BENCHMARKS.md)"
    parser = argparse.ArgumentParser(prog="seamless-bench", description=description)
    add_arguments(parser)
    code = bench_command(parser.parse_args())
    sys.stdout.flush()
    # The benchmark used the Temporal client, which can crash the interpreter at exit
    # (sdk-python issue 300).
    os._exit(code)
