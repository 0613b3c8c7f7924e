"""The benchmark's own machinery: percentiles, the two load shapes, the inbox watch.

The benchmark itself runs against the whole platform and is not part of `make test`;
what it computes its figures with is, so a wrong percentile or a load generator that
quietly offers less than asked cannot go unnoticed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bench.inbox_watch import InboxWatch
from bench.load import Samples, closed_loop, open_loop, percentile, summary, tail_ms
from bench.scenarios import Run, in_both_orders, merged


def test_percentiles_are_nearest_rank_values_that_were_observed() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([0.25], 99) == 0.25
    # A tail percentile only where the sample holds ten observations beyond it: three
    # calls have a median and a slowest one, not a p99.
    assert summary([0.010, 0.020, 0.030]) == {"count": 3, "p50": 20.0, "p95": None,
                                              "p99": None, "max": 30.0}
    assert tail_ms([0.010, 0.020, 0.030]) == ("max", 30.0)
    thousand = [v / 1000 for v in range(1, 1001)]  # 1..1000 ms
    assert summary(thousand)["p99"] == 990.0 and summary(thousand)["p95"] == 950.0
    assert tail_ms(thousand) == ("p99", 990.0)


def test_marginal_cpu_subtracts_what_each_process_burns_idle() -> None:
    """A run's cost is what it added: each kind's idle rate over the run's wall time is
    taken off (never below nothing), and both orders pool into one sample."""
    samples = Samples()
    samples.finished = 10
    first = Run("durable", samples, seconds=8.0, cpu={"temporal": 3.0, "durable": 2.0,
                                                      "receiver": 0.05, "bench": 0.5},
                wall=10.0, idle={"temporal": 0.1, "durable": 0.05, "receiver": 0.01},
                order=1)
    assert first.marginal_cpu == {"temporal": 2.0, "durable": 1.5, "receiver": 0.0,
                                  "bench": 0.5}
    assert first.cpu_per_case() == 0.4
    second = Run("durable", samples, seconds=12.0, cpu={"temporal": 4.0, "durable": 1.0,
                                                        "receiver": 0.2, "bench": 0.5},
                 wall=10.0, idle={"temporal": 0.3, "durable": 0.05, "receiver": 0.01},
                 order=2)
    both = merged([first, second])
    assert both.seconds == 20.0 and both.samples.finished == 20
    assert both.marginal_cpu["temporal"] == 3.0  # 7 s less 0.2/s idle over 20 s
    assert [s for s, _ in in_both_orders(("a", "b", "c"))] == ["a", "b", "c", "c", "b", "a"]


async def test_closed_loop_runs_every_case_with_at_most_the_concurrency_in_flight() -> None:
    samples = Samples()
    in_flight, most, started = 0, 0, []

    async def case(number: int, _scheduled: float | None) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        started.append(number)
        await asyncio.sleep(0.01)
        in_flight -= 1
        samples.finished += 1

    await closed_loop(case, cases=25, concurrency=4, samples=samples)
    assert sorted(started) == list(range(25))
    assert most == 4 and samples.finished == 25


async def test_open_loop_keeps_its_schedule_when_cases_are_slow() -> None:
    """Cases that have not finished must not hold back the next start: here none can
    finish until all twenty have started."""
    samples = Samples()
    started: list[float | None] = []
    all_started = asyncio.Event()

    async def blocked_case(_number: int, scheduled: float | None) -> None:
        started.append(scheduled)
        if len(started) == 20:
            all_started.set()
        await all_started.wait()
        samples.finished += 1

    _took, most = await asyncio.wait_for(
        open_loop(blocked_case, rate=200.0, seconds=0.1, samples=samples), timeout=30)
    assert most == 20 and samples.finished == 20
    # Each case knows when it was due, 1/rate apart, for its latencies to start from.
    due = [s for s in started if s is not None]
    assert len(due) == 20
    assert all(abs((b - a) - 0.005) < 1e-9 for a, b in zip(due, due[1:], strict=False))


async def test_a_failing_case_is_counted_not_raised() -> None:
    samples = Samples()

    async def case(number: int, _scheduled: float | None) -> None:
        if number == 1:
            raise RuntimeError("agency down")

    await closed_loop(case, cases=3, concurrency=1, samples=samples)
    assert samples.failures == ["case 1: RuntimeError: agency down"]


async def test_inbox_watch_answers_with_the_time_the_row_was_stored(tmp_path: Path) -> None:
    database = tmp_path / "agency.db"
    writer = sqlite3.connect(database)
    writer.execute("CREATE TABLE inbox_item (id INTEGER PRIMARY KEY, case_id TEXT, "
                   "task_id TEXT, delivered_at TEXT)")
    stored_at = datetime(2026, 11, 22, 9, 30, 0, 250000, tzinfo=UTC)
    async with InboxWatch({"market-regulation": database}) as watch:
        waiting = asyncio.create_task(watch.arrival("market-regulation", "case-1", "T2"))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        with writer:  # as SQLAlchemy writes a UTC time: without its zone
            writer.execute("INSERT INTO inbox_item (case_id, task_id, delivered_at) "
                           "VALUES ('case-1', 'T1', '2026-11-22 09:29:00.000000'), "
                           "('case-1', 'T2', '2026-11-22 09:30:00.250000')")
        arrived = await asyncio.wait_for(waiting, timeout=5)
        # A row that arrived before anyone asked is answered too.
        early = await asyncio.wait_for(watch.arrival("market-regulation", "case-1", "T1"), 5)
    assert arrived == stored_at.timestamp()
    assert early == stored_at.timestamp() - 60.25
    writer.close()
