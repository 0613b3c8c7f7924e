"""The throughput scenarios: joint cases closed-loop and at half load, Seamless beside the
bare baseline, and single-task work orders at rising steady rates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench import procstats
from bench.load import (
    DISPATCH_TO_INBOX,
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
)

Usage = Callable[[], dict[str, procstats.Usage]]
Settle = Callable[[str], Awaitable[None]]
# The processes that do each system's work (the load generator shares the machine).
KINDS = {"seamless": ("temporal", "worker", "gateway", "agencies", "bench"),
         "baseline": ("temporal", "baseline", "bench")}


@dataclass
class Run:
    """One batch of cases against one system, with what it cost each process kind."""

    system: str
    samples: Samples
    seconds: float
    cpu: dict[str, float]
    offered_rate: float | None = None
    most_in_flight: int | None = None

    @property
    def throughput(self) -> float:
        return self.samples.finished / self.seconds if self.seconds else 0.0

    def p99_ms(self, name: str) -> float:
        return percentile(self.samples.latencies[name], 99) * 1000

    def as_json(self) -> dict[str, Any]:
        finished = max(self.samples.finished, 1)
        return {
            "system": self.system, "cases": self.samples.finished,
            "failed": len(self.samples.failures), "seconds": round(self.seconds, 2),
            "cases_per_second": round(self.throughput, 2),
            "offered_rate": self.offered_rate, "most_in_flight": self.most_in_flight,
            "latency_ms": {name: summary(self.samples.latencies[name]) for name in LATENCIES},
            "cpu_seconds_per_case": {kind: round(seconds / finished, 4)
                                     for kind, seconds in self.cpu.items()},
            "cpu_seconds_per_case_total": round(
                sum(self.cpu.get(kind, 0.0) for kind in KINDS[self.system]) / finished, 4),
            "first_failures": self.samples.failures[:5],
        }


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
                 settle: Settle | None = None) -> Run:
    samples = Samples()
    before = usage()
    seconds = await closed_loop(_starter(api, tasks, subjects, system, samples),
                                cases=cases, concurrency=concurrency, samples=samples)
    after = await _settled(settle, system, usage)
    return Run(system, samples, seconds, procstats.cpu_between(before, after))


async def steady(system: str, api: CaseApi, tasks: tuple[Assignment, ...], *, rate: float,
                 seconds: float, subjects: Subjects, usage: Usage,
                 settle: Settle | None = None) -> Run:
    samples = Samples()
    before = usage()
    took, most = await open_loop(_starter(api, tasks, subjects, system, samples),
                                 rate=rate, seconds=seconds, samples=samples)
    after = await _settled(settle, system, usage)
    return Run(system, samples, took, procstats.cpu_between(before, after),
               offered_rate=rate, most_in_flight=most)


def ratios(seamless: Run, baseline: Run) -> dict[str, float]:
    """Seamless / baseline: throughput, and p50 and p99 of every latency."""
    result = {"throughput": round(seamless.throughput / baseline.throughput, 3)
              if baseline.throughput else float("nan")}
    for name in LATENCIES:
        ours, bare = seamless.samples.latencies[name], baseline.samples.latencies[name]
        for p in (50, 99):
            base = percentile(bare, p)
            result[f"{name}_p{p}"] = round(percentile(ours, p) / base, 2) if base else \
                float("nan")
    return result


@dataclass(frozen=True)
class CityStep:
    run: Run
    open_p99_ms: float
    sustained: bool


OPEN_P99_LIMIT_MS = 100.0
# Steady means the system finished what it was offered about as fast as it came: the
# last case done within this long after the last one started.
DRAIN_SLACK_SECONDS = 5.0


async def city_scale(system: str, api: CaseApi, tasks: tuple[Assignment, ...], *,
                     rates: list[float], seconds: float, subjects: Subjects, usage: Usage,
                     log: Callable[[str], None], settle: Settle | None = None
                     ) -> list[CityStep]:
    """Work orders at each rate in turn; stops after the first rate that is not held."""
    steps = []
    for rate in rates:
        run = await steady(system, api, tasks, rate=rate, seconds=seconds,
                           subjects=subjects, usage=usage, settle=settle)
        open_p99 = run.p99_ms(OPEN)
        held = (not run.samples.failures and run.seconds <= seconds + DRAIN_SLACK_SECONDS
                and open_p99 < OPEN_P99_LIMIT_MS)
        steps.append(CityStep(run, open_p99, held))
        log(f"  {system} {rate:5.1f}/s offered: {run.throughput:5.2f}/s done, open p99 "
            f"{open_p99:6.1f} ms, inbox p99 {run.p99_ms(DISPATCH_TO_INBOX):6.1f} ms, "
            f"{'held' if held else 'NOT held'}")
        if not held:
            break
    return steps
