"""docker-compose.yml, run as the local processes it describes (tests/e2e/compose_native.py
says what stands in for what: PostgreSQL 15 from Debian's binaries for the postgres
image, the Temporal dev server for the Temporal server and UI, an in-process OTLP
receiver for the collector and Jaeger). Every service of ours starts with its own
command and environment from the file, is declared healthy by its own health check, and
the demos run across it: the agencies' findings land in their own PostgreSQL databases,
no agency's role opens another's database, two workers share the cases without handling
one twice, the ledger verifies and the case traces reach the collector."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from cli import datadir
from cli.supervise import wait_for
from tests.e2e import cli_forks
from tests.e2e.compose_native import (
    BIN,
    Collector,
    Topology,
    agency_databases,
    load,
    role_password,
)
from tests.postgres import PostgresServer, running_server
from trust import engine_tls


@dataclass
class Running:
    topology: Topology
    postgres: PostgresServer
    collector: Collector

    @property
    def data_dir(self) -> Path:
        """The provision job's volume: keys, certificates, the demo officers."""
        return self.topology.volume("credentials")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        config_home = self.topology.root / "config"
        result = cli_forks.run(args, timeout=300,
                               env={**os.environ, "SEAMLESS_DATA_DIR": str(self.data_dir),
                                    "XDG_CONFIG_HOME": str(config_home)})
        if check and result.returncode != 0:
            raise AssertionError(f"seamless {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    topology = Topology(load(), tmp_path_factory.mktemp("compose"))
    collector, collector_server = Topology.start_collector(
        topology.port("otel-collector", 4317))
    # The file provisions no officers (production); the demos run as the demo district's
    # officers, as an operator who wants the demo provisions them by hand.
    topology.run_once("provision", adding=["--demo-officers"])
    with running_server(topology.port("postgres", 5432)) as postgres:
        topology.initialise_postgres(postgres)
        try:
            topology.start_temporal()
            for service in topology.ours():
                for replica in range(1, topology.replicas(service) + 1):
                    topology.start(service, replica)
            # Each service's own health check, all of them at once.
            with ThreadPoolExecutor(4) as checks:
                list(checks.map(lambda s: wait_for(
                    lambda: topology.healthy(s), f"{s}'s health check (log: "
                    f"{topology.root}/logs)", timeout=180, interval=1.0), topology.ours()))
            # Where the command line finds the platform: the mapped ports.
            topology.endpoints().write(topology.volume("credentials"))
            yield Running(topology, postgres, collector)
        finally:
            topology.stop_all()
            collector_server.stop(grace=None)


def _deliveries(running: Running) -> list[tuple[str, str, int]]:
    """(case, task, round) of every TASK_DELIVERED event of the ledger."""
    with running.postgres.connect("ledger") as connection:
        rows = connection.execute("SELECT case_id, task_id, attributes FROM ledger_entry "
                                  "WHERE kind = 'TASK_DELIVERED'").fetchall()
    return sorted((str(case), str(task), int(json.loads(str(attributes))["round"]))
                  for case, task, attributes in rows)


def _engine_tls(running: Running, holder: str) -> TLSConfig:
    """Mutual TLS with the engine as `holder` (a client of the engine's authority)."""
    files = engine_tls.holder(datadir.engine_tls(running.data_dir), holder)
    return TLSConfig(server_root_ca_cert=files.authority.read_bytes(), domain="temporal",
                     client_cert=files.certificate.read_bytes(),
                     client_private_key=files.key.read_bytes())


async def _workers_of(running: Running, cases: set[str]) -> set[str]:
    """The identities of the workers that ran the cases' workflow and activity tasks."""
    client = await Client.connect(running.topology.endpoints().temporal,
                                  tls=_engine_tls(running, "admin"))
    identities: set[str] = set()
    for case in cases:
        workflow_id, _, run_id = case.rpartition("@")
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        for event in history.events:
            for started in (event.workflow_task_started_event_attributes,
                            event.activity_task_started_event_attributes):
                if started.identity:
                    identities.add(started.identity)
    return identities


def _inbox_rows(running: Running) -> dict[str, list[tuple[str, str, int]]]:
    rows: dict[str, list[tuple[str, str, int]]] = {}
    for agency, database in agency_databases(running.topology):
        with running.postgres.connect(database) as connection:
            rows[agency] = [(str(c), str(t), int(r)) for c, t, r in connection.execute(  # type: ignore[call-overload]
                "SELECT case_id, task_id, round FROM inbox_item")]
    return rows


def test_the_demos_run_across_the_compose_topology(running: Running) -> None:
    started = time.monotonic()
    # A burst: the demos at once, for the two workers to share (a second apart: the
    # mining and the day demos name their quarry by the second).
    def demo(scenario: str, delay: float) -> subprocess.CompletedProcess[str]:
        time.sleep(delay)
        return running.cli("demo", scenario)

    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(demo, ["mining", "food", "day"], [0.0, 0.0, 1.5]))
    assert all(r.returncode == 0 for r in runs)
    elapsed = time.monotonic() - started

    # The findings are in each agency's own PostgreSQL database (the mining demo's four
    # departments), and nothing went to an SQLite file instead.
    findings: dict[str, int] = {}
    for agency, database in agency_databases(running.topology):
        with running.postgres.connect(database) as connection:
            row = connection.execute("SELECT COUNT(*) FROM finding").fetchone()
            findings[agency] = int(row[0]) if row else 0  # type: ignore[call-overload]
    for agency in ("natural-resources", "public-security", "emergency-management",
                   "ecology-environment"):
        assert findings[agency] >= 1, findings
    assert not [p for p in running.data_dir.rglob("*.db")], "an SQLite database appeared"

    # Every delivery the ledger records reached its agency's inbox, once, and nothing
    # else did: the two workers shared the cases without handling anything twice.
    delivered = _deliveries(running)
    received = sorted(row for rows in _inbox_rows(running).values() for row in rows)
    assert received == delivered and len(delivered) >= 8

    # And both replicas did work: the cases' histories name two workers.
    workers = asyncio.run(_workers_of(running, {case for case, _task, _round in delivered}))
    assert len(workers) == 2, workers

    # The ledger (in PostgreSQL) verifies: chains, checkpoints, signatures.
    verified = running.cli("audit", "verify")
    assert "every one holds" in verified.stdout, verified.stdout

    # The case traces, with their gap spans, reached the collector from every kind of
    # process the file starts.
    collector = running.collector
    wait_for(lambda: {"gateway", "worker"} <= collector.services(), "traces from the "
             "gateway and the workers", timeout=60)
    assert any(s not in ("gateway", "worker") for s in collector.services())
    # Every task waited to be signed for: a gap span named for its assignee.
    assert "DISPATCH_UNSIGNED" in collector.attribute_values("gap.kind")
    print(f"three demos over the compose topology in {elapsed:.1f} s")  # noqa: T201


def test_no_agency_role_opens_another_agencys_database(running: Running) -> None:
    databases = dict(agency_databases(running.topology))
    port = running.topology.port("postgres", 5432)
    mine, theirs = databases["natural-resources"], databases["public-security"]
    password = role_password(running.topology, mine)
    # Its own: yes.
    with psycopg.connect(host="127.0.0.1", port=port, user=mine, password=password,
                         dbname=mine) as connection:
        assert connection.execute("SELECT current_user").fetchone() == (mine,)
    # Another agency's, the ledger, PostgreSQL's own: refused at the door.
    for other in (theirs, "ledger", "postgres", "template1"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(host="127.0.0.1", port=port, user=mine, password=password,
                            dbname=other).close()
    # And a wrong password is no way in either.
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host="127.0.0.1", port=port, user=mine, password="guess",
                        dbname=mine).close()


def _keys(folder: Path) -> list[Path]:
    """Private keys under `folder`: parties' (key.pem) and the authority's (ca.key)."""
    return [*folder.rglob("key.pem"), *folder.rglob("*.key")]


def test_each_service_holds_only_its_own_key(running: Running) -> None:
    """Each process can read the key it is given and none other: its mounts."""
    topology = running.topology
    for service in topology.ours():
        keys = [local for _target, local in topology.mounts(service) if _keys(local)]
        own = [f"{service}/identity", f"engine-tls/{service}"] \
            if service in ("gateway", "worker") else \
            [f"agencies/{service.removeprefix('agency-')}"]
        assert sorted(str(k.relative_to(topology.volume("credentials"))) for k in keys) \
            == sorted(own), service


def test_the_credentials_are_private(running: Running) -> None:
    for path in Path(running.data_dir).rglob("*"):
        if path.is_file() and (path in _keys(path.parent) or path.name == "password"):
            assert path.stat().st_mode & 0o077 == 0, path


def _temporal_cli(running: Running, *tls: str) -> subprocess.CompletedProcess[str]:
    """`temporal workflow list` (Temporal's own CLI) against the engine, with `tls`."""
    return subprocess.run(
        [str(BIN / "temporal"), "workflow", "list", "--limit", "5",
         "--address", running.topology.endpoints().temporal, *tls],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOME": str(running.topology.root)})


def test_the_engine_answers_its_own_clients_alone(running: Running) -> None:
    """Mutual TLS on the engine's frontend, as the file configures the server: Temporal's
    own CLI lists the cases with the admin tools' certificate, and gets nothing
    without one, with the engine's authority but no certificate, or with an agency's
    certificate (the platform's authority, good at the gateway, is nobody here)."""
    admin = engine_tls.holder(datadir.engine_tls(running.data_dir), "admin")
    checks_the_server = ["--tls-ca-path", str(admin.authority), "--tls-server-name",
                         "temporal"]
    listed = _temporal_cli(running, *checks_the_server,
                           "--tls-cert-path", str(admin.certificate),
                           "--tls-key-path", str(admin.key))
    assert listed.returncode == 0 and "CaseWorkflow" in listed.stdout, listed.stderr
    agency = datadir.identity(running.data_dir, "natural-resources")
    for attempt in ([], checks_the_server,
                    [*checks_the_server, "--tls-cert-path", str(agency.certificate),
                     "--tls-key-path", str(agency.key)]):
        refused = _temporal_cli(running, *attempt)
        assert refused.returncode != 0 and "CaseWorkflow" not in refused.stdout, attempt
    # The SDK, in plaintext, as a stranger's own worker would connect: no client.
    with pytest.raises(RuntimeError):
        asyncio.run(Client.connect(running.topology.endpoints().temporal))
