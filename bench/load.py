"""The load generator: one case flow, run by either driver, closed- or open-loop.

The flows are written once against `CaseApi`, so Seamless (through its public gRPC API)
and the bare Temporal baseline (through the Temporal client) are driven by the very same
code at the very same pace; only what sits behind each call differs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")

# The latencies every run reports, in this order.
OPEN = "open"
DISPATCH = "dispatch"
DISPATCH_TO_INBOX = "dispatch_to_inbox"
SIGN = "sign"
COMPLETE = "complete"
CLOSE = "close"
OPEN_TO_CLOSED = "open_to_closed"
LATENCIES = (OPEN, DISPATCH, DISPATCH_TO_INBOX, SIGN, COMPLETE, CLOSE, OPEN_TO_CLOSED)


class CaseApi(Protocol):
    """What a case flow needs from the system under test."""

    async def open(self, subject: str) -> str: ...

    async def dispatch(self, case_id: str, kind: str, assignee: str) -> str: ...

    async def in_inbox(self, case_id: str, task_id: str, assignee: str) -> float:
        """Wait until the task is in the assignee's database; the wall time it got there."""
        ...

    async def sign(self, case_id: str, task_id: str, assignee: str) -> None: ...

    async def complete(self, case_id: str, task_id: str, assignee: str) -> None: ...

    async def close(self, case_id: str) -> None: ...


@dataclass(frozen=True)
class Assignment:
    kind: str
    assignee: str


# 油烟扰民: a restaurant's fumes, noise and street stalls; three departments at once.
JOINT_CASE = (Assignment("market-complaint", "market-regulation"),
              Assignment("pollution-complaint", "ecology-environment"),
              Assignment("traffic-complaint", "traffic-police"))
# The everyday 12345 work order: one department.
WORK_ORDER = (Assignment("market-complaint", "market-regulation"),)


@dataclass
class Samples:
    """Latencies in seconds by name, and the cases that finished or failed."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in LATENCIES})
    finished: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        self.latencies[name].append(seconds)

    async def timed(self, name: str, call: Awaitable[T]) -> T:
        start = time.perf_counter()
        result = await call
        self.add(name, time.perf_counter() - start)
        return result


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# The fewest samples a percentile is given from: at least ten observations beyond it
# (a "p99" of 90 calls is the single slowest one; say "max" instead).
SAMPLES_FOR = {50: 2, 95: 200, 99: 1000}


def summary(values: list[float]) -> dict[str, float | None]:
    """count, p50/p95/p99 (None where the sample is too small to support one) and max,
    in milliseconds."""
    return {"count": len(values),
            **{f"p{p}": round(percentile(values, p) * 1000, 1)
               if len(values) >= least else None for p, least in SAMPLES_FOR.items()},
            "max": round(max(values) * 1000, 1) if values else None}


def tail_ms(values: list[float]) -> tuple[str, float]:
    """The tail a sample supports: ("p99", its value) from 1,000 calls on, else ("max",
    the slowest call), in milliseconds."""
    if len(values) >= SAMPLES_FOR[99]:
        return "p99", percentile(values, 99) * 1000
    return "max", (max(values) * 1000 if values else math.nan)


async def run_case(api: CaseApi, subject: str, tasks: tuple[Assignment, ...],
                   samples: Samples, *, scheduled: float | None = None) -> None:
    """Open, dispatch every task at once, each signed and completed by its assignee as
    soon as it is in its inbox, then close.

    `scheduled` (perf_counter) is when an open-loop case was due to start: its open and
    open-to-closed are measured from then, so the load generator's own lateness on a
    busy machine counts against the system rather than going unseen.
    """
    started = time.perf_counter() if scheduled is None else scheduled
    case_id = await api.open(subject)
    samples.add(OPEN, time.perf_counter() - started)
    await asyncio.gather(*(_work_task(api, case_id, task, samples) for task in tasks))
    await samples.timed(CLOSE, api.close(case_id))
    samples.add(OPEN_TO_CLOSED, time.perf_counter() - started)
    samples.finished += 1


async def _work_task(api: CaseApi, case_id: str, task: Assignment, samples: Samples) -> None:
    dispatched_at = time.time()
    task_id = await samples.timed(DISPATCH, api.dispatch(case_id, task.kind, task.assignee))
    arrived_at = await api.in_inbox(case_id, task_id, task.assignee)
    samples.add(DISPATCH_TO_INBOX, max(0.0, arrived_at - dispatched_at))
    await samples.timed(SIGN, api.sign(case_id, task_id, task.assignee))
    await samples.timed(COMPLETE, api.complete(case_id, task_id, task.assignee))


# (case number, when it was due to start in an open loop)
CaseStarter = Callable[[int, float | None], Awaitable[None]]


async def _guarded(start: CaseStarter, number: int, samples: Samples,
                   scheduled: float | None = None) -> None:
    try:
        await start(number, scheduled)
    except Exception as err:  # noqa: BLE001 - a failed case is a figure, not a crash
        samples.failures.append(f"case {number}: {type(err).__name__}: {err}")


async def closed_loop(start: CaseStarter, *, cases: int, concurrency: int,
                      samples: Samples) -> float:
    """`cases` cases, `concurrency` in flight at any moment; returns the seconds taken."""
    numbers = iter(range(cases))

    async def lane() -> None:
        for number in numbers:
            await _guarded(start, number, samples)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - began


async def open_loop(start: CaseStarter, *, rate: float, seconds: float,
                    samples: Samples, first_number: int = 0) -> tuple[float, int]:
    """Start a case every 1/rate seconds for `seconds`, whatever the system's pace, and
    wait for all of them. Returns (seconds until the last one finished, the most cases
    in flight at once): a system that keeps up holds that number steady."""
    in_flight: set[asyncio.Task[None]] = set()
    most = 0
    began = time.perf_counter()
    count = max(1, round(rate * seconds))
    for n in range(count):
        # Keep to the schedule rather than to the previous start, so a late wake-up
        # does not lower the offered rate.
        due = began + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        task = asyncio.create_task(_guarded(start, first_number + n, samples, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        most = max(most, len(in_flight))
    await asyncio.gather(*list(in_flight))
    return time.perf_counter() - began, most
