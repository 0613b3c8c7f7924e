"""The soak: cases opened at a steady rate for a long while, officers polling their
inboxes as the district day's do, one fault of a random kind every half minute; at the
end the same checks as the rounds' (`bench.faults.checks`) over every case, and each
process's memory over time: its slope after warm-up, which a leak would make grow.

    python -m bench.faults --soak-minutes 10 --rate 1.0 --pollers 50
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from bench import procstats
from bench.faults import checks, isolation, kinds
from bench.faults.kinds import IN_PLACE_KINDS, Holds, Injected
from bench.faults.records import server_if
from bench.faults.suite import audit, until_a_clock_is_near
from bench.faults.up import PROCESSES, Up
from bench.faults.work import DONE_BY, LEAD, MISSED_BY, TAKER, Journal, Officers, run_case

FAULT_EVERY_SECONDS = 30.0
SAMPLE_EVERY_SECONDS = 5.0
POLL_EVERY_SECONDS = 10.0
# The share of the run before memory is judged (caches filling, the first cases).
WARM_UP_SHARE = 0.25
# At most this many cases under way: past it the platform is not keeping up, and the
# soak says so rather than pile up more.
MOST_IN_FLIGHT = 400


@dataclass
class SoakSettings:
    data_dir: Path
    seed: int
    minutes: float
    rate: float  # cases opened per second
    pollers: int = 50
    kinds: tuple[str, ...] = IN_PLACE_KINDS
    holds: Holds = field(default_factory=Holds)
    postgres: bool = False


@dataclass
class Soak:
    settings: SoakSettings
    journal: Journal = field(default_factory=Journal)
    faults: list[Injected] = field(default_factory=list)
    findings: checks.Findings = field(default_factory=checks.Findings)
    # (seconds since the start, process kind, pid, RSS bytes)
    memory: list[tuple[float, str, int, int]] = field(default_factory=list)
    polls: int = 0
    poll_failures: int = 0
    opened_late: int = 0  # cases not started because MOST_IN_FLIGHT were under way
    seconds: float = 0.0
    stopped_with: int | None = None

    def slopes(self) -> dict[str, dict[str, float | int]]:
        """Each process kind's RSS slope (MiB per minute) after warm-up, over the longest
        stretch one pid of it lived (a restarted process starts afresh)."""
        warm = self.seconds * WARM_UP_SHARE
        result: dict[str, dict[str, float | int]] = {}
        for kind in {k for _, k, _, _ in self.memory}:
            by_pid: dict[int, list[tuple[float, int]]] = {}
            for at, k, pid, rss in self.memory:
                if k == kind and at >= warm:
                    by_pid.setdefault(pid, []).append((at, rss))
            longest = max(by_pid.values(), key=len, default=[])
            if len(longest) < 3:
                continue
            result[kind] = {"mib_per_minute": round(_slope(longest) * 60 / 2**20, 3),
                            "samples": len(longest),
                            "last_mib": round(longest[-1][1] / 2**20, 1)}
        return result


def _slope(points: list[tuple[float, int]]) -> float:
    """Least squares: bytes per second."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (y - mean_y) for t, y in points) / spread if spread else 0.0


async def soak(settings: SoakSettings, say: Any = print) -> Soak:  # noqa: T201
    with server_if(settings.postgres) as server:
        return await _soak(settings, Up(settings.data_dir, server), say)


async def _soak(settings: SoakSettings, up: Up, say: Any) -> Soak:
    rng = random.Random(settings.seed)
    say(f"soak: seed {settings.seed}, {settings.minutes:g} min at {settings.rate:g} cases/s, "
        f"{settings.pollers} officers polling, a fault every {FAULT_EVERY_SECONDS:.0f} s, "
        f"records {up.topology}")
    result = Soak(settings)
    officers: Officers | None = None
    if isolation.needed(settings.kinds):
        isolation.prepare(settings.data_dir)
    try:
        await asyncio.to_thread(up.start)
        officers = Officers(settings.data_dir, result.journal, up.records,
                            seed=settings.seed)
        began = time.monotonic()
        ends = began + settings.minutes * 60
        probe = await officers.open_probe("SOAK-PROBE")

        cases: set[asyncio.Task[None]] = set()
        background = [asyncio.create_task(_sample(up, result, began, ends)),
                      *(asyncio.create_task(_poll(officers, result, n, ends, rng))
                        for n in range(settings.pollers))]
        faults = asyncio.create_task(_faults(up, probe, result, settings, rng, ends))
        interval = 1.0 / settings.rate
        due = time.monotonic()
        while due < ends:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due += interval
            if len(cases) >= MOST_IN_FLIGHT:
                result.opened_late += 1
                continue
            task = asyncio.create_task(_case(officers))
            cases.add(task)
            task.add_done_callback(cases.discard)
        await faults
        say(f"soak: load ended; {len(cases)} cases still under way")
        await asyncio.gather(*cases, return_exceptions=True)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        result.seconds = time.monotonic() - began
        await checks.check_cases(officers, result.journal, result.findings,
                                 [f.outage for f in result.faults],
                                 agencies_were_down=any(kinds.agencies_unreachable(f.kind)
                                                        for f in result.faults),
                                 agency_clock_steps=kinds.agency_clock_steps(result.faults))
        await checks.check_replays(up.data_dir, result.journal.cases, result.findings)
        checks.audit_verify(await asyncio.to_thread(audit, up), result.findings)
    finally:
        if officers is not None:
            await officers.aclose()
        result.stopped_with = await asyncio.to_thread(up.stop)
    return result


async def _case(officers: Officers) -> None:
    """One case; one that broke is written down as stuck, with why."""
    try:
        await run_case(officers)
    except Exception as err:  # noqa: BLE001 - a case that broke is a figure
        stuck = officers.journal.stuck
        stuck[f"broken-{len(stuck)}"] = f"{type(err).__name__}: {err}"


async def _faults(up: Up, probe: kinds.Probe, result: Soak, settings: SoakSettings,
                  rng: random.Random, ends: float) -> None:
    while time.monotonic() + FAULT_EVERY_SECONDS < ends:
        await asyncio.sleep(FAULT_EVERY_SECONDS)
        kind = rng.choice(settings.kinds)
        if kind == kinds.AT_CLOCK:
            await until_a_clock_is_near(result.journal)
        try:
            result.faults.append(await kinds.inject(kind, up, probe, result.journal.moment(
                time.time()), holds=settings.holds))
        except RuntimeError as err:  # not recovered in time: a finding, and the soak goes on
            result.findings.audit.append(f"{kind}: {err}")


async def _sample(up: Up, result: Soak, began: float, ends: float) -> None:
    while time.monotonic() < ends:
        for kind in PROCESSES:
            pid = await asyncio.to_thread(up.pid, kind)
            if pid:
                try:
                    rss = procstats.usage(pid).rss_bytes
                except OSError:
                    continue
                result.memory.append((time.monotonic() - began, kind, pid, rss))
        await asyncio.sleep(SAMPLE_EVERY_SECONDS)


async def _poll(officers: Officers, result: Soak, number: int, ends: float,
                rng: random.Random) -> None:
    """One officer of one of the agencies the cases involve, reading their inbox every
    ten seconds as the console does (starting at a random moment of the first ten)."""
    agency = (LEAD, TAKER, DONE_BY[1], MISSED_BY[1])[number % 4]
    await asyncio.sleep(rng.uniform(0, POLL_EVERY_SECONDS))
    while time.monotonic() < ends:
        result.polls += 1
        try:
            await officers.list_inbox(agency)
        except grpc.aio.AioRpcError:
            result.poll_failures += 1
        await asyncio.sleep(POLL_EVERY_SECONDS)

