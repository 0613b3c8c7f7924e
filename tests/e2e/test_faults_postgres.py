"""A sample of the fault suite on the other topology (`make faults` runs it whole with
`--postgres`): `seamless up` with its records on a PostgreSQL server, as
docker-compose.yml keeps them — the ledger with its read model, the witness, the
gateway's case numbers and every agency's database — and that server killed at a random
moment of live cases (`pg_ctl stop -m immediate`, its processes ended at once) and
started again on what it had written. Then the engine, the ledger, the read model and the
agencies' inboxes compared: nothing lost, nothing twice, one owner, clocks on time
(allowing a delivery's retry backoff), `audit verify` holding.

The seed is printed; SEAMLESS_FAULT_SEED replays a run."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from bench.faults import report
from bench.faults.kinds import Holds
from bench.faults.suite import Settings, run
from tests.conftest import POSTGRES_MISSING, REQUIRE_POSTGRES
from tests.postgres import postgres_installed

pytestmark = pytest.mark.timeout(600)


def test_the_records_server_killed_loses_and_duplicates_nothing(
        tmp_path: Path) -> None:
    if not postgres_installed() and not REQUIRE_POSTGRES:
        pytest.skip(POSTGRES_MISSING)
    seed = int(os.environ.get("SEAMLESS_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nfault sample on PostgreSQL: seed {seed}")  # noqa: T201
    settings = Settings(data_dir=tmp_path / "data", seed=seed, per_kind=1, round_size=1,
                        kinds=("restart:postgres",), concurrency=3,
                        most_between_seconds=8.0, holds=Holds(postgres=6.0), postgres=True)
    outcome = asyncio.run(run(settings))
    figures = report.figures(outcome)
    print(report.summary(figures))  # noqa: T201

    assert outcome.failed() == {}, report.summary(figures)
    struck = figures["kinds"]["restart:postgres"]
    assert struck["injected"] == 1
    # Officers were at work when it went down: cases were under way and their acts checked.
    assert struck["cases"] >= 1 and struck["acts_checked"] >= 1
    assert outcome.stopped_with == 0
