"""One realistic scenario per playbook, driven through the real workflow.

Used to record the replay histories (`make histories`) that guard determinism.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from workflows.catalog_loader import Catalog
from workflows.client import get_case, open_case, send
from workflows.rules.commands import (
    AcceptHandoff,
    ArriveOnScene,
    AssignOwner,
    CloseCase,
    CompleteTask,
    DecideExtension,
    DeclineTask,
    OfferHandoff,
    OpenCase,
    RequestExtension,
    ResolveEscalation,
    ReviewDecline,
    SignTask,
    WithdrawTask,
)
from workflows.rules.model import Actor, ReviewOutcome

Scenario = Callable[[WorkflowEnvironment, Catalog, str], Awaitable[str]]


class _Ids:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.n = prefix, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}-{self.n}"


async def illegal_mining(env: WorkflowEnvironment, catalog: Catalog, queue: str) -> str:
    rid, client = _Ids("mining"), env.client
    township = Actor("jinhaihu-township", "zhang.wei")
    case_id = (await open_case(client, catalog, OpenCase(
        rid(), township, "illegal-mining", "JHH-QUARRY-7", "Night digging at the old quarry",
        jurisdiction="jinhaihu"), task_queue=queue)).case_id
    crews = {"T1": "natural-resources", "T2": "public-security", "T3": "emergency-management",
             "T4": "ecology-environment"}
    for task_id, agency in crews.items():
        await send(client, case_id, SignTask(rid(), Actor(agency), task_id))
    for task_id in ("T2", "T3", "T4"):
        await send(client, case_id, ArriveOnScene(rid(), Actor(crews[task_id]), task_id))
    await env.sleep(timedelta(minutes=40))  # natural resources late: a notice
    await send(client, case_id, ArriveOnScene(rid(), Actor("natural-resources"), "T1"))
    await send(client, case_id, OfferHandoff(rid(), township, "natural-resources",
                                             "the investigation is the case now"))
    await send(client, case_id, AcceptHandoff(rid(), Actor("natural-resources"), "H1"))
    for task_id, agency in crews.items():
        await send(client, case_id, CompleteTask(rid(), Actor(agency), task_id,
                                                 findings="done", evidence_refs=("photo-1",)))
    await send(client, case_id, CloseCase(rid(), Actor("natural-resources"), "site sealed"))
    return case_id


async def food_supply_chain(env: WorkflowEnvironment, catalog: Catalog, queue: str) -> str:
    rid, client = _Ids("food"), env.client
    lead = Actor("market-regulation", "li.na")
    case_id = (await open_case(client, catalog, OpenCase(
        rid(), lead, "food-supply-chain", "BATCH-2026-1118", "Clenbuterol in pork",
        stage="circulation"), task_queue=queue)).case_id
    await send(client, case_id, DeclineTask(rid(), Actor("quality-inspection"), "T2",
                                            "sold unprocessed", "market-regulation"))
    await send(client, case_id, ReviewDecline(rid(), lead, "T2", ReviewOutcome.UPHELD))
    await send(client, case_id, SignTask(rid(), Actor("agriculture-rural"), "T1"))
    await env.sleep(timedelta(hours=1))
    await send(client, case_id, RequestExtension(rid(), Actor("agriculture-rural"), "T1",
                                                 (await env.get_current_time())
                                                 + timedelta(days=10), "waiting for the lab"))
    await send(client, case_id, DecideExtension(rid(), lead, "T1", grant=True))
    await send(client, case_id, SignTask(rid(), lead, "T3"))
    for task_id, agency in (("T1", "agriculture-rural"), ("T3", "market-regulation")):
        await send(client, case_id, CompleteTask(rid(), Actor(agency), task_id, "traced"))
    await send(client, case_id, CloseCase(rid(), lead, "batch recalled"))
    return case_id


async def highway_emissions(env: WorkflowEnvironment, catalog: Catalog, queue: str) -> str:
    rid, client = _Ids("highway"), env.client
    police = Actor("traffic-police")
    case_id = (await open_case(client, catalog, OpenCase(
        rid(), police, "highway-emissions", "EXIT-G1-PINGGU-2026-11-18", "Diesel trucks",
        stage="roadside-check"), task_queue=queue)).case_id
    await send(client, case_id, SignTask(rid(), Actor("ecology-environment"), "T1"))
    await send(client, case_id, ArriveOnScene(rid(), Actor("ecology-environment"), "T1"))
    await send(client, case_id, OfferHandoff(rid(), police, "ecology-environment",
                                             "emission violations are theirs"))
    await env.sleep(timedelta(hours=1, minutes=5))  # the offer expires: escalation
    await send(client, case_id, AssignOwner(rid(), Actor("command-center"),
                                            "ecology-environment", "settled by the centre"))
    await send(client, case_id, CompleteTask(rid(), Actor("ecology-environment"), "T1",
                                             "3 trucks over the limit"))
    await send(client, case_id, CloseCase(rid(), Actor("ecology-environment")))
    return case_id


async def parallel_approval(env: WorkflowEnvironment, catalog: Catalog, queue: str) -> str:
    rid, client = _Ids("approval"), env.client
    lead = Actor("development-reform")
    case_id = (await open_case(client, catalog, OpenCase(
        rid(), lead, "parallel-approval", "PRJ-PG-0042", "Logistics park, phase 1",
        stage="project-approval"), task_queue=queue)).case_id
    await send(client, case_id, SignTask(rid(), Actor("natural-resources"), "T1"))
    await send(client, case_id, CompleteTask(rid(), Actor("natural-resources"), "T1",
                                             "land use approved"))
    await send(client, case_id, WithdrawTask(rid(), lead, "T3", "safety review not needed"))
    await env.sleep(timedelta(days=9))  # ecology-environment silent: deemed consent
    await send(client, case_id, CompleteTask(rid(), Actor("ecology-environment"), "T2",
                                             "approval issued after deemed consent"))
    for escalation in (await get_case(client, case_id)).escalations:
        if escalation.resolved_at is None:
            await send(client, case_id, ResolveEscalation(
                rid(), Actor("command-center"), escalation.id, "interviewed (约谈)"))
    await send(client, case_id, CloseCase(rid(), lead, "approved"))
    return case_id


SCENARIOS: dict[str, Scenario] = {
    "illegal-mining": illegal_mining,
    "food-supply-chain": food_supply_chain,
    "highway-emissions": highway_emissions,
    "parallel-approval": parallel_approval,
}
