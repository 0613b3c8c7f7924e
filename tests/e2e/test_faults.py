"""A sample of the fault suite (`make faults` runs it whole, bench/faults): under `seamless
up`, one fault of every kind at a random moment of live cases — each process kind
killed (supervisord itself too), the agencies' process frozen past a delivery's
deadline, Temporal stopped a while, the gateway's clock stepped an hour ahead a while —
and after each, the engine, the ledger, the read
model and the inboxes compared: nothing lost, nothing twice, one owner, clocks on time,
`audit verify` holding. supervisord counted every restart (`seamless status`), and
Ctrl-C then stops every process.

The seed is printed; SEAMLESS_FAULT_SEED replays a run."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.faults import kinds, report
from bench.faults.kinds import Holds
from bench.faults.suite import Settings, run
from bench.faults.up import SEAMLESS, Up
from cli.up import run_dir

pytestmark = pytest.mark.timeout(900)

# Every fault struck at the platform in place; of the clock steps, the gateway's (the one
# whose effect on commands needed a fix), `make faults` stepping each process.
SAMPLED = tuple(k for k in kinds.IN_PLACE_KINDS
                if not k.startswith("step:") or k == "step:clock@gateway")
# `seamless status` names each agency, served by the process they share.
KILLED_AND_COUNTED = ("temporal", "worker", "gateway", "public-security")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_one_fault_of_each_kind_loses_and_duplicates_nothing(
        tmp_path: Path) -> None:
    seed = int(os.environ.get("SEAMLESS_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nfault sample: seed {seed} (SEAMLESS_FAULT_SEED={seed} replays it)")  # noqa: T201
    settings = Settings(data_dir=tmp_path / "data", seed=seed, per_kind=1, round_size=1,
                        kinds=SAMPLED, concurrency=3, most_between_seconds=4.0,
                        holds=Holds(stop=10.0, step=6.0))
    stopped: dict[str, Any] = {}

    async def stop_and_see(up: Up) -> None:
        """Before the suite's own stop: what supervisord counted, and every pid."""
        status = subprocess.run([SEAMLESS, "status", "--json"], env=up.env,
                                capture_output=True, text=True, timeout=60, check=False)
        stopped["status"] = json.loads(status.stdout)
        stopped["supervisord"] = int((run_dir(settings.data_dir) / "supervisord.pid")
                                     .read_text())

    outcome = asyncio.run(run(settings, before_stop=stop_and_see))
    figures = report.figures(outcome)
    print(report.summary(figures))  # noqa: T201

    assert outcome.failed() == {}, report.summary(figures)
    assert {kind: k["injected"] for kind, k in figures["kinds"].items()} == \
        dict.fromkeys(SAMPLED, 1)
    assert all(k["cases"] >= 1 and k["acts_checked"] >= 1 for k in figures["kinds"].values())
    # supervisord restarted and counted each process killed (a supervisord killed and
    # started again begins its count anew, but the file of counts is kept).
    components = {c["name"]: c for c in stopped["status"]["components"]}
    assert all(components[name]["restarts"] >= 1 for name in KILLED_AND_COUNTED), components
    assert all(c["status"] == "SERVING" for c in components.values()), components
    # And Ctrl-C stopped every one of them, supervisord included, and `seamless up`.
    assert outcome.stopped_with == 0
    pids = [int(c["pid"]) for c in components.values() if c.get("pid")]
    pids.append(stopped["supervisord"])
    assert [pid for pid in pids if _alive(pid)] == []
