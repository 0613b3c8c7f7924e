"""The throughput scenarios: joint cases closed-loop and at half load, Seamless beside the
bare baseline, and single-task work orders at rising steady rates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench import procstats
from bench.load import (
    LATENCIES,
    OPEN,
    Assignment,
    CaseApi,
    Samples,
    closed_loop,
    open_loop,
    percentile,
    run_case,
    summary,
    tail_ms,
)

Usage = Callable[[], dict[str, procstats.Usage]]
Settle = Callable[[str], Awaitable[None]]
# The systems, in the order a phase first runs them (then the reverse: A B C C B A).
SYSTEMS = ("minimal", "durable", "seamless")
BASELINES = ("minimal", "durable")
# The processes that do each system's work (the load generator shares the machine).
KINDS = {"seamless": ("temporal", "worker", "gateway", "agencies", "bench"),
         "minimal": ("temporal", "baseline", "bench"),
         "durable": ("temporal", "durable", "receiver", "bench")}
# How long each process's idle CPU is measured before a run (see `idle_rates`).
IDLE_SECONDS = 5.0


def in_both_orders(systems: tuple[str, ...] = SYSTEMS) -> list[tuple[str, int]]:
    """(system, 1 or 2): each system twice, the second time in reverse order (A B C C B
    A), so neither the Temporal database's growth nor a warm cache favours one."""
    return [(s, 1) for s in systems] + [(s, 2) for s in reversed(systems)]


async def idle_rates(usage: Usage, seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """Each process kind's CPU seconds per second while nothing is asked of it (timers,
    pollers, health checks): what a run's CPU is measured against."""
    before, began = usage(), time.monotonic()
    await asyncio.sleep(seconds)
    after = usage()
    took = time.monotonic() - began
    return {kind: (after[kind].cpu_seconds - before[kind].cpu_seconds) / took
            for kind in after}


@dataclass
class Run:
    """One batch of cases against one system, with what it cost each process kind."""

    system: str
    samples: Samples
    # The load's own seconds (first start to last finish)
    seconds: float
    # CPU seconds of each kind over the whole run, its settling included, and that wall
    # time: the marginal cost subtracts what the kind burns idle in as long.
    cpu: dict[str, float]
    wall: float
    idle: dict[str, float]
    offered_rate: float | None = None
    most_in_flight: int | None = None
    order: int = 1

    @property
    def throughput(self) -> float:
        return self.samples.finished / self.seconds if self.seconds else 0.0

    @property
    def marginal_cpu(self) -> dict[str, float]:
        return {kind: max(0.0, seconds - self.idle.get(kind, 0.0) * self.wall)
                for kind, seconds in self.cpu.items()}

    def tail_ms(self, name: str) -> tuple[str, float]:
        return tail_ms(self.samples.latencies[name])

    def cpu_per_case(self) -> float:
        finished = max(self.samples.finished, 1)
        return sum(self.marginal_cpu.get(k, 0.0) for k in KINDS[self.system]) / finished

    def as_json(self) -> dict[str, Any]:
        finished = max(self.samples.finished, 1)
        return {
            "system": self.system, "order": self.order, "cases": self.samples.finished,
            "failed": len(self.samples.failures), "seconds": round(self.seconds, 2),
            "cases_per_second": round(self.throughput, 2),
            "offered_rate": self.offered_rate, "most_in_flight": self.most_in_flight,
            "latency_ms": {name: summary(self.samples.latencies[name]) for name in LATENCIES},
            "cpu_seconds_per_case": {kind: round(seconds / finished, 4)
                                     for kind, seconds in self.marginal_cpu.items()},
            "cpu_seconds_per_case_total": round(self.cpu_per_case(), 4),
            "raw_cpu_seconds_per_case_total": round(
                sum(self.cpu.get(k, 0.0) for k in KINDS[self.system]) / finished, 4),
            "idle_cpu_per_second": {kind: round(rate, 4) for kind, rate in self.idle.items()},
            "first_failures": self.samples.failures[:5],
        }


def merged(runs: list[Run]) -> Run:
    """Both orders of one system as one sample: latencies pooled, cases, seconds and CPU
    added."""
    samples = Samples()
    for run in runs:
        for name in LATENCIES:
            samples.latencies[name] += run.samples.latencies[name]
        samples.finished += run.samples.finished
        samples.failures += run.samples.failures
    first = runs[0]
    kinds = first.cpu.keys()
    wall = sum(r.wall for r in runs)
    return Run(first.system, samples, sum(r.seconds for r in runs),
               {k: sum(r.cpu.get(k, 0.0) for r in runs) for k in kinds}, wall,
               {k: sum(r.idle.get(k, 0.0) * r.wall for r in runs) / wall if wall else 0.0
                for k in kinds}, first.offered_rate, max((r.most_in_flight or 0) for r in runs),
               order=0)


class Subjects:
    """Unique subjects (one open case per subject), numbered across the whole run."""

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id
        self._next = 0

    def take(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}-{self._run_id}-{self._next:06d}"


def _starter(api: CaseApi, tasks: tuple[Assignment, ...], subjects: Subjects, prefix: str,
             samples: Samples) -> Callable[[int, float | None], Any]:
    async def start(_number: int, scheduled: float | None) -> None:
        await run_case(api, subjects.take(prefix), tasks, samples, scheduled=scheduled)
    return start


async def _settled(settle: Settle | None, system: str, usage: Usage
                   ) -> dict[str, procstats.Usage]:
    # A case's last work (its final ledger append, completing the workflow) goes on after
    # the caller's close returns: it belongs to this run, not to the next one.
    if settle is not None:
        await settle(system)
    return usage()


async def closed(system: str, api: CaseApi, tasks: tuple[Assignment, ...], *, cases: int,
                 concurrency: int, subjects: Subjects, usage: Usage,
                 settle: Settle | None = None, order: int = 1) -> Run:
    samples = Samples()
    idle = await idle_rates(usage)
    before, began = usage(), time.monotonic()
    seconds = await closed_loop(_starter(api, tasks, subjects, system, samples),
                                cases=cases, concurrency=concurrency, samples=samples)
    after = await _settled(settle, system, usage)
    return Run(system, samples, seconds, procstats.cpu_between(before, after),
               time.monotonic() - began, idle, order=order)


async def steady(system: str, api: CaseApi, tasks: tuple[Assignment, ...], *, rate: float,
                 seconds: float, subjects: Subjects, usage: Usage,
                 settle: Settle | None = None, order: int = 1) -> Run:
    samples = Samples()
    idle = await idle_rates(usage)
    before, began = usage(), time.monotonic()
    took, most = await open_loop(_starter(api, tasks, subjects, system, samples),
                                 rate=rate, seconds=seconds, samples=samples)
    after = await _settled(settle, system, usage)
    return Run(system, samples, took, procstats.cpu_between(before, after),
               time.monotonic() - began, idle, offered_rate=rate, most_in_flight=most,
               order=order)


def ratios(seamless: Run, baseline: Run) -> dict[str, float]:
    """Seamless / baseline: throughput, marginal CPU per case, and p50 and the tail
    (p99, or the maximum of a smaller sample) of every latency."""
    result = {"throughput": round(seamless.throughput / baseline.throughput, 3)
              if baseline.throughput else float("nan"),
              "cpu_per_case": round(seamless.cpu_per_case() / baseline.cpu_per_case(), 2)
              if baseline.cpu_per_case() else float("nan")}
    for name in LATENCIES:
        ours, bare = seamless.samples.latencies[name], baseline.samples.latencies[name]
        base = percentile(bare, 50)
        result[f"{name}_p50"] = round(percentile(ours, 50) / base, 2) if base else \
            float("nan")
        (_, ours_tail), (_, bare_tail) = tail_ms(ours), tail_ms(bare)
        result[f"{name}_tail"] = round(ours_tail / bare_tail, 2) if bare_tail else \
            float("nan")
    return result


@dataclass(frozen=True)
class CityStep:
    run: Run
    open_tail: tuple[str, float]
    sustained: bool


OPEN_TAIL_LIMIT_MS = 100.0
# Steady means the system finished what it was offered about as fast as it came: the
# last case done within this long after the last one started.
DRAIN_SLACK_SECONDS = 5.0
# A system stops climbing after this many rates in a row not held (one miss can be an
# outlier; the rate after it may still hold).
MISSES_TO_STOP = 2


def held(run: Run, seconds: float) -> tuple[tuple[str, float], bool]:
    tail = run.tail_ms(OPEN)
    return tail, (not run.samples.failures and run.seconds <= seconds + DRAIN_SLACK_SECONDS
                  and tail[1] < OPEN_TAIL_LIMIT_MS)


async def city_scale(apis: dict[str, CaseApi], tasks: tuple[Assignment, ...], *,
                     rates: list[float], seconds: float, subjects: Subjects, usage: Usage,
                     log: Callable[[str], None], settle: Settle | None = None
                     ) -> dict[str, list[CityStep]]:
    """Work orders at each rate in turn, every system at each rate, in alternating
    order (A B C, then C B A at the next rate); a system stops after two rates in a row
    that it did not hold, so the highest rate held is found past a first miss."""
    steps: dict[str, list[CityStep]] = {name: [] for name in apis}
    misses = dict.fromkeys(apis, 0)
    for number, rate in enumerate(rates):
        climbing = [s for s in apis if misses[s] < MISSES_TO_STOP]
        if not climbing:
            break
        for system in climbing if number % 2 == 0 else reversed(climbing):
            run = await steady(system, apis[system], tasks, rate=rate, seconds=seconds,
                               subjects=subjects, usage=usage, settle=settle)
            tail, ok = held(run, seconds)
            steps[system].append(CityStep(run, tail, ok))
            misses[system] = 0 if ok else misses[system] + 1
            log(f"  {system:8} {rate:5.1f}/s offered: {run.throughput:5.2f}/s done, open "
                f"{tail[0]} {tail[1]:6.1f} ms ({len(run.samples.latencies[OPEN])} opens), "
                f"{run.cpu_per_case():.3f} CPU s/order, {'held' if ok else 'NOT held'}")
    return steps
