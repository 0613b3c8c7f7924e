"""The platform the benchmark runs against: `seamless up`'s processes plus the two
baselines (the minimal one's worker; the durable one's worker and a receiving process per
agency it delivers to), on one Temporal dev server, each process started here so its CPU
time and memory can be read."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from temporalio.client import Client

from bench import procstats
from bench.load import JOINT_CASE, WORK_ORDER
from cli.supervise import Platform, wait_for
from cli.up import AGENCIES
from workflows.rules.opening import split_case_id

BASELINE = "baseline"
DURABLE = "durable"
RECEIVER = "receiver"
# The agencies the flows deliver to: each gets a receiving process in the durable
# baseline, as each has its own service in Seamless.
RECEIVING = sorted({task.assignee for task in (*JOINT_CASE, *WORK_ORDER)})


class PlatformUnderTest:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.platform = Platform(data_dir)
        self.baseline_inbox = data_dir / "baseline" / "inbox.db"
        self.baseline_inbox.parent.mkdir(parents=True, exist_ok=True)
        durable = data_dir / "durable"
        durable.mkdir(exist_ok=True)
        self.durable_ledger = durable / "ledger.db"
        self.durable_inboxes = {agency: durable / f"{agency}.db" for agency in RECEIVING}

    @property
    def temporal_address(self) -> str:
        return self.platform.endpoints.temporal

    @property
    def _baselines(self) -> list[str]:
        return [BASELINE, DURABLE, *(f"{RECEIVER}-{a}" for a in RECEIVING)]

    def start(self) -> None:
        self.platform.start_all()
        # Not in `seamless up`'s table, so started (and waited for) on their own.
        env = {"PYTHONUNBUFFERED": "1"}
        worker = [sys.executable, "-m", "bench.baseline", "--temporal", self.temporal_address]
        ready = {BASELINE: self.data_dir / "baseline" / "ready",
                 DURABLE: self.data_dir / "durable" / "ready"}
        self.platform.table[BASELINE] = (
            [*worker, "--ready", str(ready[BASELINE]), "--inbox", str(self.baseline_inbox)],
            env)
        self.platform.table[DURABLE] = (
            [*worker, "--ready", str(ready[DURABLE]), "--durable", "--ledger",
             str(self.durable_ledger), "--receivers",
             ",".join(f"{a}={inbox}" for a, inbox in self.durable_inboxes.items())], env)
        for agency, inbox in self.durable_inboxes.items():
            self.platform.table[f"{RECEIVER}-{agency}"] = (
                [sys.executable, "-m", "bench.baseline_receiver", "--inbox", str(inbox)], env)
        for name in self._baselines:
            self.platform.start(name)
        for name, path in [*ready.items(), *((f"{RECEIVER}-{a}", Path(f"{inbox}.port"))
                                             for a, inbox in self.durable_inboxes.items())]:
            wait_for(path.exists, f"{name} to start (log: {self.data_dir}/logs/{name}.log)")

    def stop(self) -> None:
        for name in self._baselines:
            if name in self.platform.running:
                self.platform.stop(name)
        self.platform.stop_all()

    def pids(self) -> dict[str, list[int]]:
        """The process kinds whose usage the benchmark reports."""
        running = self.platform.running
        agencies = [process.pid for name, process in running.items()
                    if name == AGENCIES or name in self.platform.endpoints.agencies]
        return {"temporal": [running["temporal"].pid], "worker": [running["worker"].pid],
                "gateway": [running["gateway"].pid], "agencies": agencies,
                BASELINE: [running[BASELINE].pid], DURABLE: [running[DURABLE].pid],
                RECEIVER: [running[f"{RECEIVER}-{a}"].pid for a in RECEIVING],
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
