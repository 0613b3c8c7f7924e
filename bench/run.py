"""`seamless-bench`: the platform against two Temporal baselines, on one server, in one run.

Starts a fresh platform (the processes `seamless up` runs, on the same SQLite settings)
plus the baselines (bench/baseline.py: minimal Temporal, and Temporal doing the same
durable work), then measures, in order:

1. joint cases (open, three tasks to three agencies, each signed and completed by its
   agency, close), closed-loop at the given concurrency, every system twice in the
   order A B C C B A;
2. the same at half of Seamless's maximum throughput, steady (open-loop), every system,
   and each baseline at half of its own maximum;
3. Temporal history events per case, each process kind's marginal CPU time (its idle
   CPU, measured before each run, subtracted) and memory;
4. single-task work orders at rising steady rates, the systems alternating at each
   rate, up to the highest one held with open-case p99 under 100 ms (the maximum
   where fewer than 1,000 cases were opened), past a first miss;
5. with --idle-cases, that many held cases and a thousand clocks expiring in one minute;
6. with --district, the district day (bench/district.py).
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

from bench import district, idle, procstats, report
from bench.baseline import BaselineApi
from bench.inbox_watch import InboxWatch
from bench.load import JOINT_CASE, WORK_ORDER, CaseApi
from bench.platform_under_test import PlatformUnderTest, history_events, running
from bench.scenarios import (
    BASELINES,
    CityStep,
    Run,
    Subjects,
    city_scale,
    closed,
    idle_rates,
    in_both_orders,
    merged,
    ratios,
    steady,
)
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
                             "until two in a row are not held (default 2,4,...,30)")
    parser.add_argument("--city-seconds", type=float, default=60.0,
                        help="how long each work-order rate runs (default 60; 300 in the "
                             "full run, so a step's open p99 rests on 1,000 opens)")
    parser.add_argument("--idle-cases", type=int, default=0,
                        help="also hold this many cases with three running clocks each")
    parser.add_argument("--expiring", type=int, default=1000,
                        help="of the idle cases, how many clocks expire in one minute")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="only the idle and district scenarios")
    parser.add_argument("--district", default="",
                        help="backlog sizes for the district day, e.g. 1000,10000 (see "
                             "bench/district.py; default: no district day)")
    parser.add_argument("--district-seconds", type=float, default=180.0,
                        help="how long the district day runs at each backlog (default 180)")
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
               "baseline": platform.baseline_inbox,
               **{f"durable/{agency}": path
                  for agency, path in platform.durable_inboxes.items()}}

    async def settle(system: str) -> None:
        await _settle(client, system)

    async with InboxWatch(inboxes) as watch:
        ours = SeamlessApi(platform.data_dir, watch)
        apis: dict[str, CaseApi] = {
            "minimal": BaselineApi(client, watch, subjects.take("run")),
            "durable": BaselineApi(client, watch, subjects.take("run"), durable=True),
            "seamless": ours}
        try:
            _say(f"warming up: {WARM_UP_CASES} joint cases on each system")
            for name, api in apis.items():
                warm = await closed(name, api, JOINT_CASE, cases=WARM_UP_CASES,
                                    concurrency=2, subjects=subjects, usage=platform.usage,
                                    settle=settle)
                if warm.samples.failures:
                    raise SystemExit(f"{name} fails its first cases: "
                                     f"{warm.samples.failures[0]}")
            full: dict[str, list[Run]] = {name: [] for name in apis}
            for name, order in in_both_orders():
                _say(f"{name} ({_ordinal(order)}): {args.cases} joint cases, "
                     f"{args.concurrency} in flight")
                run = await closed(name, apis[name], JOINT_CASE, cases=args.cases,
                                   concurrency=args.concurrency, subjects=subjects,
                                   usage=platform.usage, settle=settle, order=order)
                full[name].append(run)
                _say(f"  {run.throughput:.2f} cases/s, {run.cpu_per_case():.3f} CPU s/case")
            rate_of = {name: round(merged(runs).throughput / 2, 2)
                       for name, runs in full.items()}
            # Every system at Seamless's half load (the same offered rate), then each
            # baseline at its own half load.
            half: dict[str, list[Run]] = {name: [] for name in apis}
            own_half: dict[str, list[Run]] = {name: [] for name in BASELINES}
            plan = [(name, order, rate_of["seamless"], half) for name, order in in_both_orders()]
            plan += [(name, order, rate_of[name], own_half)
                     for name, order in in_both_orders(BASELINES)]
            for name, order, rate, into in plan:
                _say(f"{name} ({_ordinal(order)}): {rate} joint cases/s for "
                     f"{args.half_load_seconds:.0f} s")
                into[name].append(await steady(
                    name, apis[name], JOINT_CASE, rate=rate, seconds=args.half_load_seconds,
                    subjects=subjects, usage=platform.usage, settle=settle, order=order))
            events = {
                "seamless": await history_events(client, _sample_case_ids(platform)),
                "minimal": await history_events(client, _sample_bare_ids(
                    platform.baseline_inbox)),
                "durable": await history_events(client, _sample_bare_ids(
                    platform.durable_inboxes[JOINT_CASE[0].assignee])),
            }
            _say("work orders (one task each) at rising steady rates, systems alternating")
            rates = [float(r) for r in args.city_rates.split(",") if r.strip()]
            city = await city_scale(apis, WORK_ORDER, rates=rates, seconds=args.city_seconds,
                                    subjects=subjects, usage=platform.usage, log=_say,
                                    settle=settle)
        finally:
            await ours.aclose()
    return {
        "joint_cases": {"concurrency": args.concurrency,
                        "full": _phase(full),
                        "half_load": _phase(half),
                        "own_half_load": _phase(own_half)},
        "history_events_per_case": {n: {"min": min(c), "max": max(c)}
                                    for n, c in events.items() if c},
        "work_orders": {name: _steps(steps) for name, steps in city.items()},
    }


def _ordinal(order: int) -> str:
    return "first order" if order == 1 else "reverse order"


def _phase(runs: dict[str, list[Run]]) -> dict[str, Any]:
    """Each system's runs in both orders, both pooled, and Seamless's ratios to each
    baseline (from the pooled runs)."""
    pooled = {name: merged(r) for name, r in runs.items() if r}
    figures: dict[str, Any] = {"runs": {name: [run.as_json() for run in r]
                                        for name, r in runs.items()},
                               "pooled": {name: run.as_json() for name, run in pooled.items()}}
    if "seamless" in pooled:
        figures["ratios"] = {base: ratios(pooled["seamless"], pooled[base])
                             for base in BASELINES if base in pooled}
    return figures


def _steps(steps: list[CityStep]) -> dict[str, Any]:
    held_rates = [step.run.offered_rate for step in steps
                  if step.sustained and step.run.offered_rate is not None]
    return {"steps": [{**s.run.as_json(), "open_tail": {s.open_tail[0]: round(s.open_tail[1], 1)},
                       "held": s.sustained} for s in steps],
            "highest_rate_held": max(held_rates) if held_rates else None}


SETTLE_SECONDS = 120.0
WORKFLOW_TYPE = {"seamless": "CaseWorkflow", "minimal": "BareCase", "durable": "DurableCase"}


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


def _sample_bare_ids(inbox: Path) -> list[str]:
    """Workflow ids of recent baseline cases, from an inbox they deliver to."""
    with sqlite3.connect(f"file:{inbox}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT case_id FROM inbox_item GROUP BY case_id "
                                  "ORDER BY max(id) DESC LIMIT ?", (HISTORY_SAMPLE,)).fetchall()
    return [row[0] for row in rows]


IDLE_WINDOW_SECONDS = 10.0


async def _at_idle(platform: PlatformUnderTest) -> dict[str, Any]:
    """Each process kind's CPU per second and memory with nothing asked of it, once
    everything has started."""
    rates = await idle_rates(platform.usage, IDLE_WINDOW_SECONDS)
    usage = platform.usage()
    return {kind: {"cpu_per_second": round(rate, 4),
                   "rss_mib": round(usage[kind].rss_bytes / procstats.MIB, 1)}
            for kind, rate in rates.items()}


async def _district(platform: PlatformUnderTest, sizes: list[int], seconds: float
                    ) -> dict[str, Any]:
    async with InboxWatch({}) as watch:
        return await district.run(platform, sizes=sizes, seconds=seconds, log=_say,
                                  watch=watch)


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
            figures["at_idle"] = asyncio.run(_at_idle(platform))
            if not args.skip_throughput:
                figures.update(asyncio.run(_throughput(platform, args)))
                figures["memory_after_throughput"] = _memory(platform)
            if args.district:
                sizes = sorted(int(s) for s in args.district.split(",") if s.strip())
                figures["district"] = asyncio.run(_district(platform, sizes,
                                                            args.district_seconds))
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
