"""`--district 1000,10000`: a district's day on the platform, at growing backlogs.

For each size N in turn, the backlog grows to N open cases, opened fast through the
platform's own API (never written into databases behind its back), spread as a
district's are: work orders led by the township (jinhaihu) or the command centre (the
rest of Pinggu), each with a task to market regulation and every other one a second to
ecology and environment, their clocks days away; one in ten is a citizen's report
posted over Open311, which the command centre has yet to dispatch. Market regulation,
the reading agency, so has an open item in nine of the ten (falling due after the
day's work).

Then, for `--district-seconds`:
* 50 signed-in officers (20 of market regulation, 10 each of the township and the
  command centre, 5 each of ecology and traffic police) poll their inbox every 10 s as
  the console does (200 open items a page), and every third poll their case list;
* a citizen's app polls Open311 GET /requests every 2 s;
* new work orders arrive at 0.8 a second, with a peak of 3 a second for 30 s: the
  township's officers open them, dispatch each to market regulation once their inbox
  shows it, market regulation's officers sign for and complete what their inbox shows,
  and the township closes what its inbox says to close;
* each dispatch is followed by a probe that reads market regulation's inbox until the
  task is there: command to visible in another agency's inbox.

Figures per size: latency (p50, p99 or the maximum where fewer than 1,000 calls were
made) of ListInbox, ListCases, Open311 GET, open and the acts, command-to-visible, the
work orders finished, and each process kind's CPU per second and memory.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
import httpx

from bench import procstats
from bench.load import Samples, closed_loop, summary
from bench.platform_under_test import PlatformUnderTest
from bench.seamless_api import SeamlessApi, request_id
from cli.databases import GATEWAY, on_sqlite
from gateway.case_numbers import open_case_numbers
from gateway.open311.keys import ApiKeys
from seamless.v1 import agency_pb2
from seamless.v1 import case_service_pb2 as pb

READER = "market-regulation"
TOWNSHIP, CENTRE = "jinhaihu-township", "command-center"
SECOND_ASSIGNEE = "ecology-environment"
# Who polls, how many of each agency's officers.
OFFICERS = {READER: 20, TOWNSHIP: 10, CENTRE: 10, SECOND_ASSIGNEE: 5, "traffic-police": 5}
POLL_SECONDS = 10.0
CASE_LIST_EVERY = 3
OPEN311_POLL_SECONDS = 2.0
BASE_RATE, PEAK_RATE, PEAK_SECONDS = 0.8, 3.0, 30.0
# The backlog's clocks run later than any step of the day's work orders (signing within
# an hour, completing within seven days): the queue puts the most urgent first, and the
# officers act on the page they see, so the day's work is on it.
BACKLOG_SIGN_WITHIN, BACKLOG_DUE_WITHIN = "8d", "20d"
OPENING_CONCURRENCY = 16
# Xinggu subdistrict, inside Pinggu outside Jinhaihu: the command centre leads there.
XINGGU = {"lat": "40.1417", "long": "117.0733"}
LATENCIES = ("list_inbox", "list_inbox_reader", "list_cases", "open311_get", "open",
             "dispatch", "sign", "complete", "close", "visible")


@dataclass
class DayFigures:
    samples: Samples = field(default_factory=lambda: Samples(
        latencies={name: [] for name in LATENCIES}))
    arrived: int = 0
    closed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def failed(self, what: str, err: BaseException) -> None:
        key = f"{what}: {type(err).__name__} {getattr(err, 'code', lambda: '')()}"
        self.errors[key] = self.errors.get(key, 0) + 1


async def _timed(figures: DayFigures, name: str, call: Awaitable[Any]) -> Any:
    began = time.perf_counter()
    try:
        result = await call
    except Exception as err:  # noqa: BLE001 - a failed call is a figure, not a crash
        figures.failed(name, err)
        return None
    figures.samples.add(name, time.perf_counter() - began)
    return result


class District:
    def __init__(self, platform: PlatformUnderTest, api: SeamlessApi, http: httpx.AsyncClient,
                 open311_key: str) -> None:
        self._platform = platform
        self._api = api
        self._http = http
        self._key = open311_key
        self._run = uuid.uuid4().hex[:6]
        self._opened = 0
        # Items an officer of the agency is already acting on (officers share a queue).
        self._claimed: set[tuple[str, str, str]] = set()
        self._probes = asyncio.Semaphore(4)

    # ----- the backlog --------------------------------------------------------------

    async def grow_backlog(self, to: int, log: Callable[[str], None]) -> float:
        """Open cases until the backlog holds `to`; returns cases opened a second."""
        wanted = to - self._opened
        if wanted <= 0:
            return 0.0
        samples = Samples()

        async def one(number: int, _scheduled: float | None) -> None:
            n = self._opened + number
            if n % 10 == 9:
                await self._report(n)
            else:
                await self._backlog_case(n)

        log(f"district: opening {wanted} backlog cases (to {to})")
        seconds = await closed_loop(one, cases=wanted, concurrency=OPENING_CONCURRENCY,
                                    samples=samples)
        if samples.failures:
            raise SystemExit(f"opening the backlog failed: {samples.failures[0]}")
        self._opened = to
        log(f"  {wanted / seconds:.1f} cases/s")
        return wanted / seconds

    async def _backlog_case(self, n: int) -> None:
        lead, jurisdiction = (TOWNSHIP, "jinhaihu") if n % 2 == 0 else (CENTRE, "pinggu")
        reply = await self._api.call(lead, "OpenCase", pb.OpenCaseRequest(
            request_id=request_id(), type="citizen-hotline",
            subject_key=f"backlog-{self._run}-{n:06d}", title=f"Backlog work order {n}",
            jurisdiction=jurisdiction, location="Pinggu"))
        case_id = reply.case.id
        kinds = [("market-complaint", READER)]
        if n % 2 == 0:
            kinds.append(("pollution-complaint", SECOND_ASSIGNEE))
        for kind, assignee in kinds:
            await self._api.call(lead, "DispatchTask", pb.DispatchTaskRequest(
                request_id=request_id(), case_id=case_id, kind=kind, assignee=assignee,
                sign_within=BACKLOG_SIGN_WITHIN, due_within=BACKLOG_DUE_WITHIN))

    async def _report(self, n: int) -> None:
        form = {"api_key": self._key, "service_code": "restaurant-fumes", **XINGGU,
                "attribute[business]": f"restaurant {self._run}-{n:06d}",
                "attribute[nuisance][]": "fumes",
                "description": "fumes from the kitchen every evening"}
        while True:
            reply = await self._http.post("/open311/v2/requests.json", data=form)
            if reply.status_code != 429:  # over the address's rate: wait as told
                break
            await asyncio.sleep(float(reply.headers.get("retry-after", "1")))
        reply.raise_for_status()

    # ----- the day ------------------------------------------------------------------

    async def day(self, seconds: float) -> DayFigures:
        figures = DayFigures()
        stop = time.monotonic() + seconds
        marker = f"DAY-{self._run}-{uuid.uuid4().hex[:4]}"
        officers = [(agency, i) for agency, count in OFFICERS.items() for i in range(count)]
        tasks = [asyncio.create_task(self._officer(agency, i, marker, figures, stop))
                 for agency, i in officers]
        tasks.append(asyncio.create_task(self._citizen_app(figures, stop)))
        tasks.append(asyncio.create_task(self._arrivals(marker, figures, seconds)))
        await asyncio.gather(*tasks)
        return figures

    async def _arrivals(self, marker: str, figures: DayFigures, seconds: float) -> None:
        began = time.monotonic()
        peak_from = seconds / 3
        in_flight: set[asyncio.Task[None]] = set()
        n = 0
        while (elapsed := time.monotonic() - began) < seconds:
            rate = PEAK_RATE if peak_from <= elapsed < peak_from + PEAK_SECONDS else BASE_RATE
            task = asyncio.create_task(self._arrive(marker, n, figures))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*list(in_flight))

    async def _arrive(self, marker: str, n: int, figures: DayFigures) -> None:
        opened = await _timed(figures, "open", self._api.call(TOWNSHIP, "OpenCase",
                              pb.OpenCaseRequest(
                                  request_id=request_id(), type="citizen-hotline",
                                  subject_key=f"{marker}-{n:05d}",
                                  title=f"{marker} work order {n}", jurisdiction="jinhaihu",
                                  location="Jinhaihu")))
        if opened is not None:
            figures.arrived += 1

    async def _citizen_app(self, figures: DayFigures, stop: float) -> None:
        await asyncio.sleep(random.uniform(0, OPEN311_POLL_SECONDS))
        while time.monotonic() < stop:
            began = time.perf_counter()
            reply = await _timed(figures, "open311_get",
                                 self._http.get("/open311/v2/requests.json"))
            if reply is not None and reply.status_code != 200:
                figures.failed("open311_get", RuntimeError(str(reply.status_code)))
            await asyncio.sleep(max(0.0, OPEN311_POLL_SECONDS - (time.perf_counter() - began)))

    async def _officer(self, agency: str, number: int, marker: str, figures: DayFigures,
                       stop: float) -> None:
        await asyncio.sleep(random.uniform(0, POLL_SECONDS))
        polls = 0
        while time.monotonic() < stop:
            began = time.perf_counter()
            page = await _timed(figures, "list_inbox", self._api.call(
                agency, "ListInbox", pb.CaseServiceListInboxRequest(page_size=200,
                                                                    open_only=True)))
            if page is not None:
                if agency == READER:
                    figures.samples.add("list_inbox_reader", time.perf_counter() - began)
                await self._act_on(agency, page.items, marker, figures)
            polls += 1
            if polls % CASE_LIST_EVERY == 0:
                await _timed(figures, "list_cases", self._api.call(
                    agency, "ListCases", pb.ListCasesRequest(page_size=100)))
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - began)))

    async def _act_on(self, agency: str, items: Any, marker: str, figures: DayFigures) -> None:
        for item in items:
            if not item.case_title.startswith(marker):
                continue
            key = (item.case_id, item.ref, pb.WorkAction.Name(item.action))
            if key in self._claimed:
                continue
            self._claimed.add(key)
            if item.action == pb.WORK_ACTION_DISPATCH:
                reply = await _timed(figures, "dispatch", self._api.call(
                    agency, "DispatchTask", pb.DispatchTaskRequest(
                        request_id=request_id(), case_id=item.case_id,
                        kind="market-complaint", assignee=READER)))
                if reply is not None:
                    asyncio.create_task(self._probe(item.case_id, reply.task_id, figures))
            elif item.action == pb.WORK_ACTION_SIGN:
                await _timed(figures, "sign", self._api.act(
                    agency, item.case_id, item.ref, agency_pb2.TASK_ACTION_SIGN))
            elif item.action == pb.WORK_ACTION_COMPLETE:
                await _timed(figures, "complete", self._api.act(
                    agency, item.case_id, item.ref, agency_pb2.TASK_ACTION_COMPLETE,
                    findings="owner told to fit a filter; checked", evidence_refs=["photo"]))
            elif item.action == pb.WORK_ACTION_CLOSE:
                done = await _timed(figures, "close", self._api.call(
                    agency, "CloseCase", pb.CloseCaseRequest(
                        request_id=request_id(), case_id=item.case_id, summary="done")))
                if done is not None:
                    figures.closed += 1

    async def _probe(self, case_id: str, task_id: str, figures: DayFigures) -> None:
        """From a dispatch's answer until the task shows in the assignee's inbox."""
        if self._probes.locked():
            return  # a sample of the dispatches, not an extra load on every one
        async with self._probes:
            began = time.perf_counter()
            while time.perf_counter() - began < 60:
                try:
                    page = await self._api.call(READER, "ListInbox",
                                                pb.CaseServiceListInboxRequest(
                                                    page_size=20, open_only=True))
                except grpc.aio.AioRpcError as err:
                    figures.failed("visible", err)
                    return
                if any(i.case_id == case_id and i.ref == task_id for i in page.items):
                    figures.samples.add("visible", time.perf_counter() - began)
                    return
                await asyncio.sleep(0.05)
            figures.failed("visible", TimeoutError(f"{case_id} {task_id}"))


def _open311_key(platform: PlatformUnderTest) -> str:
    # Given as an operator gives a client its key (as bench/intake.py does).
    engine = open_case_numbers(on_sqlite(platform.data_dir, []).urls[GATEWAY])
    return ApiKeys(engine).add(f"district-{uuid.uuid4().hex[:6]}", per_minute=6000)


async def run(platform: PlatformUnderTest, *, sizes: list[int], seconds: float,
              log: Callable[[str], None], watch: Any) -> dict[str, Any]:
    http_base = platform.platform.endpoints.http
    figures: dict[str, Any] = {"seconds": seconds, "officers": sum(OFFICERS.values()),
                               "sizes": {}}
    key = await asyncio.to_thread(_open311_key, platform)
    api = SeamlessApi(platform.data_dir, watch)
    try:
        async with httpx.AsyncClient(base_url=http_base, timeout=60) as http:
            district = District(platform, api, http, key)
            for size in sizes:
                opening = await district.grow_backlog(size, log)
                log(f"district: a day of {seconds:.0f} s at {size} open cases")
                before, began = platform.usage(), time.monotonic()
                day = await district.day(seconds)
                after, took = platform.usage(), time.monotonic() - began
                figures["sizes"][str(size)] = {
                    "opening_cases_per_second": round(opening, 1),
                    "latency_ms": {name: summary(values)
                                   for name, values in day.samples.latencies.items()},
                    "work_orders": {"arrived": day.arrived, "closed": day.closed},
                    "errors": day.errors,
                    "cpu_per_second": {kind: round((after[kind].cpu_seconds
                                                    - before[kind].cpu_seconds) / took, 3)
                                       for kind in after},
                    "rss_mib": {kind: round(u.rss_bytes / procstats.MIB, 1)
                                for kind, u in after.items()},
                    "at": datetime.now().isoformat(timespec="seconds")}
                log(_size_line(size, figures["sizes"][str(size)]))
    finally:
        await api.aclose()
    return figures


def _tail(figures: dict[str, Any]) -> str:
    if not figures["count"]:
        return "-"
    tail = f"p99 {figures['p99']}" if figures["p99"] is not None else f"max {figures['max']}"
    return f"p50 {figures['p50']} {tail} ({figures['count']})"


def _size_line(size: int, day: dict[str, Any]) -> str:
    latency = day["latency_ms"]
    return (f"  {size} open: inbox {_tail(latency['list_inbox_reader'])}, cases "
            f"{_tail(latency['list_cases'])}, open311 {_tail(latency['open311_get'])}, "
            f"open {_tail(latency['open'])}, visible {_tail(latency['visible'])}; "
            f"{day['work_orders']['closed']}/{day['work_orders']['arrived']} closed; "
            f"errors {day['errors'] or 'none'}")


def table(figures: dict[str, Any]) -> list[str]:
    lines = [f"\nDistrict day ({figures['officers']} officers polling every "
             f"{POLL_SECONDS:.0f} s, work orders at {BASE_RATE}/s with a {PEAK_RATE}/s peak, "
             f"{figures['seconds']:.0f} s at each backlog), latency ms"]
    for size, day in figures["sizes"].items():
        lines.append(f"  backlog {size} (opened at {day['opening_cases_per_second']}/s):")
        for name in LATENCIES:
            lines.append(f"    {name:18} {_tail(day['latency_ms'][name])}")
        lines.append(f"    work orders closed {day['work_orders']['closed']} of "
                     f"{day['work_orders']['arrived']}; errors: {day['errors'] or 'none'}")
        lines.append("    CPU s/s: " + ", ".join(f"{k} {v}" for k, v in
                                                day["cpu_per_second"].items()))
        lines.append("    RSS MiB: " + ", ".join(f"{k} {v}" for k, v in day["rss_mib"].items()))
    return lines
