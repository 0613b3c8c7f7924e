"""`--idle-cases N`: hold N open cases with running clocks, then let a thousand expire.

Each case is a 12345 work order with one street-order task, which carries three clocks
(sign-by, on-scene-by, due-by) besides the case's own promised and legal lines. Most
cases get clocks hours away and simply wait; the last `expiring` cases are dispatched
with sign-by deadlines spread evenly over one minute that starts after every case is
open. The figures: the worker's memory while all are held, and for each expiring clock
the lateness from its deadline to the supervision notice (督办) being recorded in the
assignee's database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

from bench import procstats
from bench.inbox_watch import InboxWatch, stored_epoch
from bench.load import Samples, closed_loop, summary
from bench.platform_under_test import PlatformUnderTest
from bench.seamless_api import SeamlessApi

KIND, ASSIGNEE = "street-order", "urban-management"
HELD_CLOCKS = {"sign_within": "12h", "on_scene_within": "13h", "due_within": "2d"}
OPENING_CONCURRENCY = 16
# The expiring minute starts this long after the last case is open, so opening load does
# not overlap it.
QUIET_BEFORE_WINDOW = 30.0
WINDOW_SECONDS = 60.0
NOTICE_WAIT_SECONDS = 120.0


async def _open_cases(api: SeamlessApi, count: int, clocks: Callable[[int], dict[str, str]],
                      prefix: str) -> tuple[list[tuple[str, str, float]], float]:
    """Open `count` work orders, each with its task; (case, task, sign-by) and seconds."""
    opened: list[tuple[str, str, float]] = []
    samples = Samples()

    async def one(number: int, _scheduled: float | None) -> None:
        case_id = await api.open(f"{prefix}-{number:06d}")
        task = await api.dispatch_task(case_id, KIND, ASSIGNEE, **clocks(number))
        opened.append((case_id, task.id, task.sign_by.deadline.ToDatetime(tzinfo=UTC).timestamp()))

    seconds = await closed_loop(one, cases=count, concurrency=OPENING_CONCURRENCY,
                                samples=samples)
    if samples.failures:
        raise SystemExit(f"opening idle cases failed: {samples.failures[0]}")
    return opened, seconds


def _notices(platform: PlatformUnderTest) -> dict[tuple[str, str], float]:
    """The first supervision notice of each task, as the assignee recorded it."""
    path = platform.data_dir / "agencies" / ASSIGNEE / "agency.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT case_id, task_id, min(received_at) FROM notice "
            "WHERE kind = 'NOTICE_KIND_SUPERVISION' GROUP BY case_id, task_id").fetchall()
    return {(case_id, task_id): stored_epoch(at) for case_id, task_id, at in rows}


async def run(platform: PlatformUnderTest, *, cases: int, expiring: int,
              log: Callable[[str], None]) -> dict[str, Any]:
    expiring = min(expiring, cases)
    # The peak of this scenario, not of whatever ran before it in this process.
    for pid in platform.pids()["worker"]:
        procstats.reset_peak(pid)
    prefix = f"IDLE-{uuid.uuid4().hex[:6]}"
    async with InboxWatch({}) as watch:
        api = SeamlessApi(platform.data_dir, watch)
        try:
            log(f"idle: opening {cases - expiring} work orders with clocks hours away")
            _, seconds = await _open_cases(api, cases - expiring, lambda _n: HELD_CLOCKS,
                                           f"{prefix}-H")
            rate = (cases - expiring) / seconds if seconds else 50.0
            log(f"  {rate:.1f} cases/s")
            # Deadlines spread over one minute, starting once the rest are surely open.
            window = time.time() + expiring / max(rate, 1.0) * 1.5 + QUIET_BEFORE_WINDOW
            spacing = WINDOW_SECONDS / expiring

            def clocks(number: int) -> dict[str, str]:
                deadline = window + number * spacing
                return {**HELD_CLOCKS, "sign_within": f"{max(5, round(deadline - time.time()))}s"}

            log(f"idle: opening {expiring} work orders whose sign-by falls in one minute")
            doomed, _ = await _open_cases(api, expiring, clocks, f"{prefix}-E")
        finally:
            await api.aclose()
    usage = platform.usage()
    held, engine = usage["worker"], usage["temporal"]
    first, last = min(d for *_, d in doomed), max(d for *_, d in doomed)
    log(f"  all {cases} open; worker RSS {held.rss_bytes / procstats.MIB:.0f} MiB; "
        f"{expiring} deadlines from {first - time.time():.0f} s to "
        f"{last - time.time():.0f} s from now")
    give_up = last + NOTICE_WAIT_SECONDS
    while True:
        notices = _notices(platform)
        missing = [c for c in doomed if (c[0], c[1]) not in notices]
        if not missing or time.time() > give_up:
            break
        await asyncio.sleep(2.0)
    lateness = [notices[(case, task)] - deadline for case, task, deadline in doomed
                if (case, task) in notices]
    after = platform.usage()["worker"]
    return {"cases": cases, "expired": expiring,
            "deadline_spread_seconds": round(last - first, 1),
            "worker_rss_mib": round(held.rss_bytes / procstats.MIB, 1),
            "temporal_rss_mib": round(engine.rss_bytes / procstats.MIB, 1),
            "worker_peak_rss_mib": round(max(held.peak_rss_bytes, after.peak_rss_bytes)
                                         / procstats.MIB, 1),
            "notices_missing": len(missing),
            "lateness_ms": summary(lateness)}
