"""The platform the benchmark runs against: `seamless up`'s processes plus the baseline's
worker, on one Temporal dev server, each process started here so its CPU time and memory
can be read."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.client import Client

from bench import procstats
from cli.supervise import Platform, wait_for
from workflows.rules.opening import split_case_id

BASELINE = "baseline"


class PlatformUnderTest:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.platform = Platform(data_dir)
        self.baseline_inbox = data_dir / "baseline" / "inbox.db"
        self.baseline_inbox.parent.mkdir(parents=True, exist_ok=True)

    @property
    def temporal_address(self) -> str:
        return self.platform.endpoints.temporal

    def start(self) -> None:
        self.platform.start_all()
        # Not in `seamless up`'s table, so started (and health-checked) on its own.
        self.platform.table[BASELINE] = (
            [sys.executable, "-m", "bench.baseline", "--temporal", self.temporal_address,
             "--inbox", str(self.baseline_inbox)], {"PYTHONUNBUFFERED": "1"})
        self.platform.start(BASELINE)
        wait_for(self.baseline_inbox.exists, "the baseline worker to start")

    def stop(self) -> None:
        if BASELINE in self.platform.running:
            self.platform.stop(BASELINE)
        self.platform.stop_all()

    def pids(self) -> dict[str, list[int]]:
        """The process kinds whose usage the benchmark reports."""
        running = self.platform.running
        agencies = [running[a].pid for a in self.platform.endpoints.agencies]
        return {"temporal": [running["temporal"].pid], "worker": [running["worker"].pid],
                "gateway": [running["gateway"].pid], "agencies": agencies,
                BASELINE: [running[BASELINE].pid],
                # The load generator itself shares the machine's two cores.
                "bench": [os.getpid()]}

    def usage(self) -> dict[str, procstats.Usage]:
        return procstats.by_kind(self.pids())


@contextmanager
def running(data_dir: Path) -> Iterator[PlatformUnderTest]:
    platform = PlatformUnderTest(data_dir)
    try:
        platform.start()
        yield platform
    finally:
        platform.stop()


async def history_events(client: Client, workflow_ids: list[str]) -> list[int]:
    """How many events each workflow's history holds (case ids are accepted too)."""
    counts = []
    for workflow_id in workflow_ids:
        workflow, run = split_case_id(workflow_id)
        history = await client.get_workflow_handle(workflow, run_id=run or None).fetch_history()
        counts.append(len(history.events))
    return counts
