"""`python -m bench.fuzz --cases 10000`: every RPC on every door of a fresh platform,
fuzzed at scale (OWASP API Top 10; `make test` runs a few hundred of the same in
`tests/gateway/test_fuzz.py`).

Starts the processes of `seamless up` (`cli.supervise.Platform`, as the throughput
benchmark does), sends generated requests (`tests.fuzz`: the proto descriptors'
strategies, broken wire bytes, malformed JSON and forms) on the public gRPC port, the
mutual-TLS port, Connect HTTP, Open311, the console and the agencies' desks, then prints
per RPC and transport the requests sent, the answers by status, the bad ones (INTERNAL,
UNKNOWN, a 5xx, no answer), the processes that died and any state a refused request
changed, as Markdown for BENCHMARKS.md, and every distinct bad answer shrunk to a
minimal request with the platform's log of it.

Exit status 1 when anything bad was found.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine
from temporalio.client import Client

from cli.databases import chosen
from cli.supervise import Platform
from tests.fuzz import campaign, findings
from tests.fuzz.campaign import Result
from tests.fuzz.target import FileTap, Target, unanswered


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=10_000,
                        help="requests to generate, spread evenly over every RPC and route "
                             "of every transport (default 10000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="Hypothesis seed: the same seed draws the same requests")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="requests in flight at once (default 8)")
    parser.add_argument("--sources", type=int, default=32,
                        help="client addresses (127.0.0.N) the HTTP requests come from, so "
                             "per-address rates bound each less often (default 32)")
    parser.add_argument("--shrink-budget", type=int, default=campaign.SHRINK_BUDGET,
                        help="requests spent shrinking each distinct bad answer")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="run in DIR and keep it (its logs/ hold every process's log)")


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def target_of(platform: Platform, client: Client) -> Target:
    """The running platform as the fuzzer reaches it: its endpoints, its databases (as
    `seamless up` placed them) and its processes' logs."""
    endpoints = platform.endpoints
    agencies = list(endpoints.agencies)
    urls = chosen("", platform.data_dir, agencies).urls
    logs = platform.data_dir / "logs"

    async def down() -> list[str]:
        gone = [f"{name} (exit {process.returncode})" for name, process in
                platform.running.items() if process.poll() is not None]
        return gone + await unanswered(target)

    target = Target(
        root=platform.data_dir, public=endpoints.gateway, mtls=endpoints.gateway_mtls,
        http_url=endpoints.http, desks=dict(endpoints.desks),
        ledger=create_engine(urls["ledger"]), gateway_db=create_engine(urls["gateway"]),
        temporal=client, coordinator="command-center",
        logs=FileTap([logs / f"{name}.log" for name in ("gateway", "worker", *agencies)]),
        down=down, agency_databases={a: create_engine(urls[a]) for a in agencies})
    return target


async def fuzz(platform: Platform, args: argparse.Namespace) -> Result:
    client = await Client.connect(platform.endpoints.temporal)
    target = target_of(platform, client)
    return await campaign.run(target, count=args.cases, seed_value=args.seed,
                              concurrency=args.concurrency, sources=args.sources,
                              shrink_budget=args.shrink_budget)


def fuzz_command(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="seamless-fuzz-") as scratch:
        data_dir = args.keep.absolute() if args.keep else Path(scratch) / "seamless"
        _say(f"starting the platform in {data_dir}")
        platform = Platform(data_dir)
        try:
            platform.start_all()
            _say(f"fuzzing: about {args.cases} requests, {args.concurrency} in flight")
            result = asyncio.run(fuzz(platform, args))
        finally:
            platform.stop_all()
    _say(f"\n## Fuzzing ({time.strftime('%Y-%m-%d')}, seed {args.seed}, "
         f"{time.monotonic() - began:.0f} s with the platform's start)\n")
    _say(findings.summary(result))
    _say("")
    _say(findings.tables(result))
    _say("\n## Distinct bad answers, shrunk\n")
    _say(findings.listing(result))
    bad = result.findings or result.down or result.verdict.violations
    return 1 if bad else 0


def entry_point() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=(
        "fuzz every RPC on every transport of a fresh platform (see BENCHMARKS.md)"))
    add_arguments(parser)
    code = fuzz_command(parser.parse_args())
    sys.stdout.flush()
    # The Temporal client can crash the interpreter at exit (sdk-python issue 300).
    os._exit(code)


if __name__ == "__main__":
    entry_point()
