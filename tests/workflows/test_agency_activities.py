"""The worker delivering to real agency services over gRPC, each with its own database."""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import grpc
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from agencies.server import run_server
from seamless.v1 import agency_pb2, agency_pb2_grpc
from tests.workflows.harness import Recorder, eventually
from workflows.agency_activities import AgencyActivities
from workflows.catalog_loader import Catalog
from workflows.client import open_case
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor
from workflows.workflows import CaseWorkflow

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
    url = f"sqlite:///{data / f'{agency_id}.db'}"
    async with run_server(profile=profile(catalog, agency_id), database_url=url,
                          port=port) as bound:
        yield bound


async def inbox_of(port: int) -> list[agency_pb2.InboxItem]:
    # A private subchannel pool: the worker's channel to a down agency is backing off,
    # and a shared subchannel would answer with its stale failure.
    async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        stub = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
        return list((await stub.ListInbox(agency_pb2.ListInboxRequest())).items)


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
        agencies = AgencyActivities({a: f"127.0.0.1:{p}" for a, p in ports.items()})
        stack.push_async_callback(agencies.close)
        ledger = Recorder()
        await stack.enter_async_context(Worker(
            client, task_queue=queue, workflows=[CaseWorkflow],
            activities=[agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
                        ledger.record_case_events]))
        case = await open_case(client, catalog, mining(f"Q-{uuid.uuid4().hex[:8]}"),
                               task_queue=queue)

        async def all_delivered() -> bool:
            return all([len(await inbox_of(ports[a])) == 1 for a in MINING_CREWS])
        await eventually(all_delivered)
        for agency, task_id in zip(MINING_CREWS, ["T1", "T2", "T3", "T4"], strict=True):
            [item] = await inbox_of(ports[agency])
            assert (item.case_id, item.task_id, item.owner) == (
                case.case_id, task_id, "jinhaihu-township")
        # Nobody else got anything.
        assert all([await inbox_of(ports[a]) == [] for a in NOTIFIED])


async def test_an_agency_that_was_down_gets_its_task_exactly_once(
        dev_env: WorkflowEnvironment, catalog: Catalog, tmp_path: Path) -> None:
    client, queue = dev_env.client, f"cases-{uuid.uuid4()}"
    down = "ecology-environment"
    reserved_port = quiet_port()  # where it will listen once it is back
    async with AsyncExitStack() as stack:
        ports = {a: await stack.enter_async_context(agency_service(catalog, a, tmp_path))
                 for a in MINING_CREWS + NOTIFIED if a != down}
        addresses = {a: f"127.0.0.1:{p}" for a, p in ports.items()}
        agencies = AgencyActivities({**addresses, down: f"127.0.0.1:{reserved_port}"})
        stack.push_async_callback(agencies.close)
        await stack.enter_async_context(Worker(
            client, task_queue=queue, workflows=[CaseWorkflow],
            activities=[agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
                        Recorder().record_case_events]))
        await open_case(client, catalog, mining(f"Q-{uuid.uuid4().hex[:8]}"),
                        task_queue=queue)

        async def others_delivered() -> bool:
            return all([len(await inbox_of(p)) == 1 for a, p in ports.items()
                        if a in MINING_CREWS])
        await eventually(others_delivered)
        # The agency comes back on its address with its own database.
        async with agency_service(catalog, down, tmp_path, port=reserved_port):
            async def arrived() -> bool:
                return len(await inbox_of(reserved_port)) == 1
            await eventually(arrived, within=30)
            [item] = await inbox_of(reserved_port)
            assert item.task_id == "T4"
