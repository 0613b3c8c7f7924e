"""A sample of the fault suite's faults that need namespaces of its own
(bench/faults/isolation.py): `python -m bench.faults` starts itself again in a new mount
and network namespace and runs `seamless up` there; the ledger's folder is a small
filesystem that one fault fills to its last byte for a while, and the other cuts the
platform off from one agency's port for a while. Then the engine, the ledger, the read
model and the inboxes compared: nothing lost, nothing twice, one owner, clocks on time
(allowing a delivery's retry backoff), `audit verify` holding. Nothing outside the
namespaces changes: the machine's loopback still reaches the agency's port.

The seed is printed; SEAMLESS_FAULT_SEED replays a run."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults.isolation import ISOLATED_KINDS

pytestmark = pytest.mark.timeout(600)


def test_a_full_ledger_disk_and_a_cut_agency_lose_and_duplicate_nothing(
        tmp_path: Path) -> None:
    seed = int(os.environ.get("SEAMLESS_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    figures_file = tmp_path / "faults.json"
    suite = subprocess.run(
        [sys.executable, "-m", "bench.faults", "--seed", str(seed),
         "--kinds", ",".join(ISOLATED_KINDS), "--per-kind", "1", "--round-size", "1",
         "--concurrency", "3", "--hold", "partition=10", "--hold", "full=6",
         "--data-dir", str(tmp_path / "data"), "--json", str(figures_file)],
        capture_output=True, text=True, timeout=540, check=False)
    print(suite.stdout[-6000:], suite.stderr[-3000:])  # noqa: T201
    assert suite.returncode == 0, f"seed {seed}: {suite.stdout[-3000:]}{suite.stderr[-3000:]}"

    figures = json.loads(figures_file.read_text())
    assert figures["failures"] == {}
    for kind in ISOLATED_KINDS:
        struck = figures["kinds"][kind]
        assert struck["injected"] == 1, kind
        assert struck["cases"] >= 1 and struck["acts_checked"] >= 1, kind
    # The ledger's writes failed for want of room while it was full (and were retried).
    assert "database or disk is full" in (tmp_path / "data-up.log").read_text()
