"""A fuzz campaign: make a world, draw the probes, send them, judge, and shrink each
finding to a minimal request that still gets the same bad answer (with the platform's
log of it, traceback included).

Every (transport, RPC or route) gets as many probes, so even a sample of a few hundred
touches every door.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz.answers import Answer
from tests.fuzz.oracle import (
    HOTLINE,
    LEAD,
    Snapshot,
    Verdict,
    World,
    judge,
    make_world,
    new_events,
    settled,
)
from tests.fuzz.probes import (
    CONSOLE_PAGES,
    OPEN311_ROUTES,
    Callers,
    Probe,
    ProbeStrategies,
    Transport,
)
from tests.fuzz.send import SERVICES, Sender
from tests.fuzz.strategies import Pool
from tests.fuzz.target import Target
from workflows.catalog_loader import load_catalog
from workflows.dispatch_catalog import load_dispatch_catalog

# People of every kind: each role, the coordinator, oversight, a stranger to the cases.
PEOPLE = (LEAD, "field-officer@natural-resources", "dispatcher@public-security",
          "duty-officer@natural-resources", HOTLINE, "duty-officer@oversight",
          "duty-officer@traffic-police", "field-officer@emergency-management")
FORWARDERS = ("natural-resources", "public-security", "emergency-management",
              "traffic-police")
# Desk callers of their own: a desk probe may well disable or re-key its caller.
DESKS = ("duty-officer@ecology-environment", "field-officer@urban-management")
# Signing out at the desk ends the desk caller's session for the rest of the run.
DESK_SKIPPED = frozenset({"RosterService/SignOut"})
INBOX_CALLERS = (LEAD, "duty-officer@natural-resources", "duty-officer@public-security")
SHRINK_BUDGET = 30

# A transport, an RPC or route, and its probes: well-formed ones and broken ones.
Route = tuple[Transport, str, st.SearchStrategy[Probe], st.SearchStrategy[Probe]]
# Of each route's probes, this share is broken (on the wire, in JSON, a form, headers):
# the rest must parse, to reach the handlers, the rules and the case.
BROKEN_EVERY = 3


@dataclass
class Finding:
    """One bad answer, however many requests got it: the first request, shrunk, and
    every RPC or route that got it."""

    probe: Probe
    answer: Answer
    routes: Counter[str] = field(default_factory=Counter)
    log: str = ""
    reproduced: bool = True

    @property
    def count(self) -> int:
        return sum(self.routes.values())


@dataclass
class Result:
    sent: list[tuple[Probe, Answer]]
    findings: list[Finding]
    verdict: Verdict
    down: list[str]
    seconds: float
    world: World | None = None
    before: Snapshot | None = None
    timings: dict[str, float] = field(default_factory=dict)


def pool_for(world: World) -> Pool:
    catalog = load_catalog()
    playbooks = list(catalog.playbooks.values())
    return Pool(
        case_refs=tuple(r for c in world.cases for r in c.refs) + ("20991231-0001",),
        report_ids=(*world.report_ids, "R20991231-0001"),
        agencies=(*(a.id for a in catalog.directory.agencies), "oversight", "nobody"),
        case_types=(*catalog.playbooks, "piracy"),
        task_kinds=tuple(k.id for p in playbooks for k in p.task_kinds) + ("nothing",),
        stages=tuple(s for p in playbooks for s in p.stages) + ("",),
        jurisdictions=("jinhaihu", "pinggu", "*", "nowhere"),
        service_codes=tuple(s.code for s in load_dispatch_catalog(catalog).services()))


def routes(strategies: ProbeStrategies) -> list[Route]:
    found: list[Route] = []
    for transport in (Transport.GRPC, Transport.MTLS, Transport.CONNECT, Transport.DESK):
        services = SERVICES[3:] if transport is Transport.DESK else SERVICES[:3]
        for service in services:
            for method in service.methods:
                name = f"{service.name}/{method.name}"
                if name not in DESK_SKIPPED:
                    found.append((transport, name, strategies.rpc(transport, method, False),
                                  strategies.rpc(transport, method, True)))
    found += [(Transport.OPEN311, r, strategies.open311(r, False), strategies.open311(r, True))
              for r in OPEN311_ROUTES]
    found += [(Transport.CONSOLE, r, strategies.console(r, False),
               strategies.console(r, True)) for r in CONSOLE_PAGES]
    for service in SERVICES[:3]:
        for method in service.methods:
            if method.GetOptions().idempotency_level != 1 and method.name != "SubmitReport":
                route = f"POST /act/{method.name}"
                found.append((Transport.CONSOLE, route, strategies.console(route, False, method),
                              strategies.console(route, True, method)))
    return found


def draw(strategy: st.SearchStrategy[Probe], count: int, seed_value: int) -> list[Probe]:
    """`count` probes drawn by Hypothesis (generation only: a probe is judged by the
    whole run, and shrunk by `shrink`)."""
    drawn: list[Probe] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(probe: Probe) -> None:
        drawn.append(probe)

    collect()
    return drawn[:count]


def generate(all_routes: Sequence[Route], count: int, seed_value: int) -> list[Probe]:
    """About `count` probes, as many for each route (Hypothesis drawing from one strategy
    over all routes would dwell on a few: it breeds new examples from earlier ones), in
    an order that interleaves the routes."""
    each = max(1, round(count / len(all_routes)))
    if count >= 10 * len(all_routes):
        # At scale, enough to reach `count` though some routes have few distinct requests
        # (an RPC without fields varies only in its caller and credential).
        each = math.ceil(1.3 * count / len(all_routes))
    broken = each // BROKEN_EVERY
    drawn = []
    for i, (_t, _r, valid, breaking) in enumerate(all_routes):
        probes = _distinct(draw(valid, each - broken + 3, seed_value + i))[:each - broken]
        # The simplest broken one is the same for every route: left out.
        if broken:
            probes += _distinct(draw(breaking, broken + 3, seed_value + i)[1:])[:broken]
        drawn.append(probes)
    interleaved = [probes[i] for i in range(each) for probes in drawn if i < len(probes)]
    return interleaved[:count] if count >= 10 * len(all_routes) else interleaved


def _distinct(probes: list[Probe]) -> list[Probe]:
    """Without repeats (Hypothesis may draw the simplest request more than once)."""
    def key(p: Probe) -> tuple[object, ...]:
        body = p.message.SerializeToString(deterministic=True) if p.message else b""
        return (p.caller, p.credential, body, p.shape, p.encoding, p.headers, p.pairs,
                p.path)
    return list({key(p): p for p in probes}.values())


def _kind(probe: Probe, answer: Answer) -> tuple[str, str, str]:
    """What makes two bad answers one finding: the door, the status and the message
    without the names and numbers that vary (the message type, ids, counts)."""
    message = re.sub(r"seamless\.v1\.\w+(/\w+)?", "<name>", answer.message)
    message = re.sub(r"[0-9a-f]{12,}", "<id>", message)
    return probe.transport, answer.status, re.sub(r"\d+", "N", message)[:200]


async def run(target: Target, *, count: int, seed_value: int = 0, concurrency: int = 4,
              sources: int = 1, shrink_budget: int = SHRINK_BUDGET) -> Result:
    started = time.monotonic()
    timings: dict[str, float] = {}
    world = await make_world(target)
    await target.sign_in([*PEOPLE, *DESKS, *INBOX_CALLERS])
    if not target.open311_key:
        target.add_open311_key()
    before = await settled(target, world, INBOX_CALLERS)
    timings["world"] = time.monotonic() - started
    pool = pool_for(world)
    desk_pool = replace(pool, officers=("ghost", "nobody-here", ""))
    strategies = ProbeStrategies(pool, Callers(PEOPLE, FORWARDERS, DESKS), desk_pool)
    mark = time.monotonic()
    probes = generate(routes(strategies), count, seed_value)
    timings["generate"] = time.monotonic() - mark
    sender = Sender(target, sources=sources)
    gate = asyncio.Semaphore(concurrency)

    async def one(probe: Probe) -> tuple[Probe, Answer]:
        async with gate:
            return probe, await sender.send(probe)

    mark = time.monotonic()
    try:
        sent = list(await asyncio.gather(*(one(p) for p in probes)))
        timings["send"] = time.monotonic() - mark
        down = await target.down()
        mark = time.monotonic()
        after = await settled(target, world, INBOX_CALLERS)
        verdict = judge(world, before, after, sent, new_events(target, before.last_event))
        timings["judge"] = time.monotonic() - mark
        findings: dict[tuple[str, str, str], Finding] = {}
        for probe, answer in sent:
            if answer.bad:
                finding = findings.setdefault(_kind(probe, answer), Finding(probe, answer))
                finding.routes[probe.rpc] += 1
        mark = time.monotonic()
        for finding in findings.values():
            await _shrink(sender, target, finding, shrink_budget)
        timings["shrink"] = time.monotonic() - mark
    finally:
        await sender.close()
    return Result(sent, list(findings.values()), verdict, down,
                  time.monotonic() - started, world, before, timings)


def _smaller(probe: Probe) -> list[Probe]:
    """Probes one step simpler than `probe`: plainer shape and headers, a field
    cleared, a long text cut short, a pair left out."""
    found = []
    if probe.shape.name != "valid":
        found.append(replace(probe, shape=type(probe.shape)()))
    if probe.headers:
        found.append(replace(probe, headers=()))
    if probe.message is not None:
        for field_descriptor, value in probe.message.ListFields():
            cleared: Message = type(probe.message)()
            cleared.CopyFrom(probe.message)
            cleared.ClearField(field_descriptor.name)
            found.append(replace(probe, message=cleared))
            if isinstance(value, str) and len(value) > 16:
                cut: Message = type(probe.message)()
                cut.CopyFrom(probe.message)
                setattr(cut, field_descriptor.name, value[:len(value) // 4])
                found.append(replace(probe, message=cut))
    for i in range(len(probe.pairs)):
        found.append(replace(probe, pairs=probe.pairs[:i] + probe.pairs[i + 1:]))
    return found


async def _shrink(sender: Sender, target: Target, finding: Finding, budget: int) -> None:
    """Greedy, within a budget of requests: keep any simpler probe that still gets the
    same bad answer; then send the smallest once more to read the platform's log."""
    progress = True
    while progress and budget > 0:
        progress = False
        for candidate in _smaller(finding.probe):
            if budget <= 0:
                break
            budget -= 1
            answer = await sender.send(candidate)
            if answer.bad and answer.status == finding.answer.status:
                finding.probe, finding.answer, progress = candidate, answer, True
                break
    mark = target.logs.mark()
    again = await sender.send(finding.probe)
    await asyncio.sleep(0.3)  # a process's log line may trail its answer
    finding.log = target.logs.since(mark)
    finding.reproduced = again.bad and again.status == finding.answer.status
    if finding.reproduced:
        finding.answer = again
