"""The worker delivering to real agency services over gRPC (mutual TLS, the worker's
certificate), each with its own database; every delivery answered with a receipt."""

from __future__ import annotations

import random
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from agencies.server import run_server
from seamless.v1 import agency_pb2
from tests.trust.kit import session_kit, worker_seals
from tests.workflows.harness import Recorder, eventually
from trust.attestations import verify_receipt
from trust.pki import Role
from workflows.agency_activities import AgencyActivities
from workflows.catalog_loader import Catalog
from workflows.client import get_case, open_case
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor, EventKind
from workflows.worker import build_worker

MINING_CREWS = ["natural-resources", "public-security", "emergency-management",
                "ecology-environment"]
NOTIFIED = ["jinhaihu-township", "command-center"]


def profile(catalog: Catalog, agency_id: str) -> agency_pb2.Agency:
    agency = catalog.directory.get(agency_id)
    assert agency is not None
    return agency_pb2.Agency(id=agency.id, name_zh=agency.name_zh, name_en=agency.name_en,
                             jurisdictions=agency.jurisdictions,
                             capabilities=agency.capabilities)


@asynccontextmanager
async def agency_service(catalog: Catalog, agency_id: str, data: Path, port: int = 0
                         ) -> AsyncIterator[int]:
    kit = session_kit()
    url = f"sqlite:///{data / f'{agency_id}.db'}"
    async with run_server(profile=profile(catalog, agency_id), database_url=url,
                          identity=kit.party(agency_id, Role.AGENCY), store=kit.store(),
                          port=port) as bound:
        yield bound.parties


def inbox_of(data: Path, agency_id: str) -> list[tuple[str, str, str]]:
    """(case, task, owner) of each row of the agency's own inbox database."""
    path = data / f"{agency_id}.db"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
        return database.execute("SELECT case_id, task_id, owner FROM inbox_item").fetchall()


def worker_activities(addresses: dict[str, str]) -> AgencyActivities:
    kit = session_kit()
    for agency in addresses:  # known before the store is read: receipts are checked
        kit.party(agency, Role.AGENCY)
    return AgencyActivities(addresses, kit.party("worker", Role.WORKER), kit.store())


def quiet_port() -> int:
    """A free port below the ephemeral range.

    A port freed inside that range can be taken by an outgoing connection, even one the
    worker makes while retrying the very address (a TCP self-connection), and then the
    agency could not listen there again.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(max(1024, low - 10000), low), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def mining(subject: str) -> OpenCase:
    return OpenCase(f"req-{uuid.uuid4()}", Actor("jinhaihu-township", "zhang.wei"),
                    "illegal-mining", subject, "Night digging", jurisdiction="jinhaihu")


async def test_the_whistle_puts_one_task_in_each_departments_own_inbox(
        dev_env: WorkflowEnvironment, catalog: Catalog, tmp_path: Path) -> None:
    client, queue = dev_env.client, f"cases-{uuid.uuid4()}"
    async with AsyncExitStack() as stack:
        ports = {a: await stack.enter_async_context(agency_service(catalog, a, tmp_path))
                 for a in MINING_CREWS + NOTIFIED}
        agencies = worker_activities({a: f"127.0.0.1:{p}" for a, p in ports.items()})
        stack.push_async_callback(agencies.close)
        ledger = Recorder()
        await stack.enter_async_context(build_worker(
            client, task_queue=queue, seals=worker_seals(),
            activities=[agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
                        ledger.record_case_events]))
        case = await open_case(client, catalog, mining(f"Q-{uuid.uuid4().hex[:8]}"),
                               task_queue=queue)

        async def all_delivered() -> bool:
            return all(len(inbox_of(tmp_path, a)) == 1 for a in MINING_CREWS)
        await eventually(all_delivered)
        for agency, task_id in zip(MINING_CREWS, ["T1", "T2", "T3", "T4"], strict=True):
            assert inbox_of(tmp_path, agency) == [(case.case_id, task_id,
                                                   "jinhaihu-township")]
        # Nobody else got anything.
        assert all(inbox_of(tmp_path, a) == [] for a in NOTIFIED)

        # Each delivery event carries the assignee's signed receipt for that round.
        async def receipted() -> bool:
            events = (await get_case(client, case.case_id)).events
            return sum(e.kind is EventKind.TASK_DELIVERED for e in events) == 4
        await eventually(receipted)
        delivered = [e for e in (await get_case(client, case.case_id)).events
                     if e.kind is EventKind.TASK_DELIVERED]
        store = session_kit().store()
        for event in delivered:
            task = next(t for t in (await get_case(client, case.case_id)).tasks
                        if t.id == event.task_id)
            [receipt] = event.proofs
            verify_receipt(receipt, store, agency=task.assignee, expected={
                "what": "task", "case": case.case_id, "task": task.id, "round": 1})


async def test_an_agency_that_was_down_gets_its_task_exactly_once(
        dev_env: WorkflowEnvironment, catalog: Catalog, tmp_path: Path) -> None:
    client, queue = dev_env.client, f"cases-{uuid.uuid4()}"
    down = "ecology-environment"
    reserved_port = quiet_port()  # where it will listen once it is back
    async with AsyncExitStack() as stack:
        ports = {a: await stack.enter_async_context(agency_service(catalog, a, tmp_path))
                 for a in MINING_CREWS + NOTIFIED if a != down}
        addresses = {a: f"127.0.0.1:{p}" for a, p in ports.items()}
        agencies = worker_activities({**addresses, down: f"127.0.0.1:{reserved_port}"})
        stack.push_async_callback(agencies.close)
        await stack.enter_async_context(build_worker(
            client, task_queue=queue, seals=worker_seals(),
            activities=[agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
                        Recorder().record_case_events]))
        await open_case(client, catalog, mining(f"Q-{uuid.uuid4().hex[:8]}"),
                        task_queue=queue)

        async def others_delivered() -> bool:
            return all(len(inbox_of(tmp_path, a)) == 1 for a in ports if a in MINING_CREWS)
        await eventually(others_delivered)
        # The agency comes back on its address with its own database.
        async with agency_service(catalog, down, tmp_path, port=reserved_port):
            async def arrived() -> bool:
                return len(inbox_of(tmp_path, down)) == 1
            await eventually(arrived, within=30)
            [(_, task_id, _)] = inbox_of(tmp_path, down)
            assert task_id == "T4"
