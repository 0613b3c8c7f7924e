"""`seamless demo mining|food|day|hotline`: realistic cases driven end to end through the public
API, each step taken by the agency whose job it is: owners' officers call the gateway
with their own sessions, officers act on their inbox at their own agency's desk. `day`
leaves the console something true on every page: a breach, a bounce, a hand-off and an
escalation, with real waits on short clocks."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli import datadir, render
from cli.api import AgencyDesk, Gateway, new_request_id
from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb
from seamless.v1 import report_pb2 as rp

Say = Callable[[str], None]
DELIVERY_WAIT_SECONDS = 30.0


class Cast:
    """One gateway connection per agency taking part."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._by_agency: dict[str, Gateway] = {}

    def __call__(self, agency: str) -> Gateway:
        if agency not in self._by_agency:
            self._by_agency[agency] = Gateway(self.data_dir, agency)
        return self._by_agency[agency]

    def act(self, agency: str, action: int, case_id: str, task_id: str,
            **fields: Any) -> case_pb2.Case:
        """An officer of `agency` acts on a task at the agency's own service, once the
        task is in the agency's inbox (as an officer would see it arrive)."""
        self._wait_in_inbox(agency, case_id, task_id)
        desk = AgencyDesk(self.data_dir, agency, self(agency).credential)
        try:
            reply = desk.act(agency_pb2.ActOnTaskRequest(
                request_id=new_request_id(), case_id=case_id, task_id=task_id,
                action=action, **fields))  # type: ignore[arg-type]
        finally:
            desk.close()
        case: case_pb2.Case = reply.case
        return case

    def _wait_in_inbox(self, agency: str, case_id: str, task_id: str) -> None:
        give_up = time.monotonic() + DELIVERY_WAIT_SECONDS
        while time.monotonic() < give_up:
            items = self(agency).call("ListInbox", pb.CaseServiceListInboxRequest(
                page_size=200, open_only=True)).items
            if any(i.case_id == case_id and i.ref == task_id and i.delivered
                   for i in items):
                return
            time.sleep(0.1)
        raise SystemExit(f"task {task_id} did not reach the inbox of {agency} within "
                         f"{DELIVERY_WAIT_SECONDS:.0f} s; see 'seamless status'")

    def close(self) -> None:
        for api in self._by_agency.values():
            api.close()


def _task(case: case_pb2.Case, assignee: str, kind: str) -> case_pb2.Task:
    return next(t for t in case.tasks if t.assignee == assignee and t.kind == kind
                and t.state == case_pb2.TASK_STATE_DISPATCHED)


def _work(cast: Cast, case: case_pb2.Case, task: case_pb2.Task, findings: str,
          say: Say) -> case_pb2.Case:
    agency, where = task.assignee, (case.id, task.id)
    case = cast.act(agency, agency_pb2.TASK_ACTION_SIGN, *where)
    say(f"  {agency} signs for {task.id} ({task.kind})")
    if task.needs_presence:
        case = cast.act(agency, agency_pb2.TASK_ACTION_ARRIVE, *where)
        say(f"  {agency} is on scene")
    case = cast.act(agency, agency_pb2.TASK_ACTION_COMPLETE, *where, findings=findings,
                    evidence_refs=[f"{agency}/evidence/{task.id}"])
    say(f"  {task.assignee} completes {task.id}: {findings}")
    # An assignee sees its own tasks only: the case goes on as its owner sees it.
    seen_by_owner: case_pb2.Case = cast(case.owner).call(
        "GetCase", pb.GetCaseRequest(case_id=case.id)).case
    return seen_by_owner


def mining(cast: Cast, say: Say) -> case_pb2.Case:
    """街乡吹哨、部门报到: the township opens, four departments arrive and finish."""
    subject = f"JHH-QUARRY-{time.strftime('%Y%m%d-%H%M%S')}"
    township = cast("jinhaihu-township")
    case = township.call("OpenCase", pb.OpenCaseRequest(
        request_id=new_request_id(), type="illegal-mining", subject_key=subject,
        title="Night-time quarrying on the slope above Jinhaihu village",
        jurisdiction="jinhaihu", location="Jinhaihu, Pinggu", priority=1)).case
    say(f"jinhaihu-township blows the whistle: case {case.number} with {len(case.tasks)} "
        "tasks")
    findings = {"mining-investigation": "excavator and 40 t of ore seized",
                "criminal-investigation": "two suspects detained; no explosives",
                "work-safety": "slope secured, site fenced off",
                "environmental-damage": "1.2 ha damaged; restoration ordered"}
    for task in list(case.tasks):
        case = _work(cast, case, task, findings[task.kind], say)
    case = township.call("CloseCase", pb.CloseCaseRequest(
        request_id=new_request_id(), case_id=case.id, summary="site closed, case referred")
    ).case
    say(f"jinhaihu-township closes the case: {render.case_json(case)['status']}")
    return case  # type: ignore[no-any-return]


def food(cast: Cast, say: Say) -> case_pb2.Case:
    """A tainted batch found in a market: a decline, a review, a hand-off, and done."""
    subject = f"BATCH-{time.strftime('%Y%m%d-%H%M%S')}"
    market = cast("market-regulation")
    case = market.call("OpenCase", pb.OpenCaseRequest(
        request_id=new_request_id(), type="food-supply-chain", subject_key=subject,
        title="Pork with clenbuterol residue found at Pinggu market", stage="circulation",
        jurisdiction="pinggu")).case
    say(f"market-regulation opens {case.number}: tasks to "
        f"{', '.join(t.assignee for t in case.tasks)}")
    case = _work(cast, case, _task(case, "agriculture-rural", "trace-production"),
                 "traced to a farm in Daxingzhuang; herd quarantined", say)
    processing = _task(case, "quality-inspection", "trace-processing")
    case = cast.act(
        "quality-inspection", agency_pb2.TASK_ACTION_DECLINE, case.id, processing.id,
        reason="the plant is licensed for circulation only; processing checks moved to "
               "market regulation in the 2018 reform", suggested_agency="market-regulation")
    say(f"  quality-inspection declines {processing.id} (退单), suggesting market-regulation")
    review = market.call("ReviewDecline", pb.ReviewDeclineRequest(
        request_id=new_request_id(), case_id=case.id, task_id=processing.id,
        outcome=case_pb2.DECLINE_REVIEW_OUTCOME_UPHELD, note="agreed"))
    case = review.case
    say(f"  market-regulation upholds the decline; the work goes on as "
        f"{review.redispatched_task_id}")
    redone = next(t for t in case.tasks if t.id == review.redispatched_task_id)
    case = _work(cast, case, redone, "batch records show no additive at the plant", say)
    offer = market.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=new_request_id(), case_id=case.id, to_agency="agriculture-rural",
        reason="the source is the farm: production stage leads from here"))
    say(f"  market-regulation offers the case to agriculture-rural ({offer.handoff_id})")
    farm = cast("agriculture-rural")
    case = farm.call("AcceptHandoff", pb.AcceptHandoffRequest(
        request_id=new_request_id(), case_id=case.id, handoff_id=offer.handoff_id)).case
    say(f"  agriculture-rural accepts: owner is now {case.owner}")
    case = farm.call("CloseCase", pb.CloseCaseRequest(
        request_id=new_request_id(), case_id=case.id, summary="farm penalised; batch recalled")
    ).case
    say(f"agriculture-rural closes the case: {render.case_json(case)['status']}")
    return case  # type: ignore[no-any-return]


# The day's short clocks: long enough to watch them run down in the console, short
# enough that the demo sees them missed.
DAY_SIGN_WITHIN = "20s"
DAY_OFFER_EXPIRES = "10s"
DAY_WAIT_SECONDS = 90.0


def day(cast: Cast, say: Say) -> case_pb2.Case:
    """A morning's work for the console to show: a case done on time, a food case with
    a decline re-dispatched (a bounce) and a hand-off, a mining case whose late task
    breaches its clock, and an offer nobody answers, escalated to the coordinator."""
    mining(cast, say)
    food(cast, say)
    township = cast("jinhaihu-township")
    stalled = township.call("OpenCase", pb.OpenCaseRequest(
        request_id=new_request_id(), type="illegal-mining",
        subject_key=f"JHH-PIT-{time.strftime('%Y%m%d-%H%M%S')}",
        title="Unlicensed pit reopened behind the reservoir", jurisdiction="jinhaihu",
        location="Jinhaihu reservoir, north shore")).case
    say(f"jinhaihu-township opens {stalled.number}")
    first = _task(stalled, "natural-resources", "mining-investigation")
    cast.act("natural-resources", agency_pb2.TASK_ACTION_SIGN, stalled.id, first.id)
    cast.act("natural-resources", agency_pb2.TASK_ACTION_ARRIVE, stalled.id, first.id)
    say(f"  natural-resources signs for {first.id} and is on scene")
    late = township.call("DispatchTask", pb.DispatchTaskRequest(
        request_id=new_request_id(), case_id=stalled.id, kind="work-safety",
        assignee="emergency-management", title="Second slope check after the rain",
        sign_within=DAY_SIGN_WITHIN))
    say(f"  jinhaihu-township dispatches {late.task_id} to emergency-management: sign for "
        f"within {DAY_SIGN_WITHIN} (nobody will)")
    market = cast("market-regulation")
    offered = market.call("OpenCase", pb.OpenCaseRequest(
        request_id=new_request_id(), type="food-supply-chain",
        subject_key=f"BATCH-{time.strftime('%Y%m%d-%H%M%S')}-B",
        title="Unlabelled frozen chicken at a Pinggu cold store", stage="circulation",
        jurisdiction="pinggu")).case
    market.call("OfferHandoff", pb.OfferHandoffRequest(
        request_id=new_request_id(), case_id=offered.id, to_agency="agriculture-rural",
        reason="the supplier is a farm", expires_within=DAY_OFFER_EXPIRES))
    say(f"market-regulation opens {offered.number} and offers it to agriculture-rural "
        f"for {DAY_OFFER_EXPIRES} (no answer comes)")
    say("  waiting for the clocks to run out…")
    coordinator = cast("command-center")
    give_up = time.monotonic() + DAY_WAIT_SECONDS
    while time.monotonic() < give_up:
        breached = any(t.sign_by.misses for t in township.call("GetCase", pb.GetCaseRequest(
            case_id=stalled.id)).case.tasks)
        escalated = coordinator.call("GetCase", pb.GetCaseRequest(
            case_id=offered.id)).case.escalations
        if breached and escalated:
            say(f"  {late.task_id} missed its sign-for clock (督办 sent); the offer expired "
                f"and {escalated[0].id} waits for the coordinator")
            break
        time.sleep(1.0)
    else:
        raise SystemExit("the demo's clocks did not run out in time; see 'seamless status'")
    case: case_pb2.Case = township.call("GetCase", pb.GetCaseRequest(case_id=stalled.id)).case
    return case


def hotline(cast: Cast, say: Say) -> case_pb2.Case:
    """接诉即办: two calls about one restaurant merge into one case (并单); the township
    has the fumes looked at and answers (答复); one caller is satisfied, the other is
    not and nothing was solved for them, so the matter reopens (重办)."""
    desk = cast("command-center")
    restaurant = f"金海湖烧烤店 {time.strftime('%H%M%S')}"
    reports = []
    for phone, words in (("13812340001", "smoke from the barbecue every night"),
                         ("13812340002", "fumes and shouting until 2 am")):
        reports.append(desk.reports("SubmitReport", rp.SubmitReportRequest(
            request_id=new_request_id(), service_code="restaurant-fumes", description=words,
            address="Jinhaihu village, east street", lat=40.17, lon=117.35, located=True,
            attributes=[rp.ReportAttribute(code="business", value=restaurant),
                        rp.ReportAttribute(code="nuisance", value="fumes,noise")],
            contact=rp.ReporterContact(phone=phone))).report)
    first, second = reports
    say(f"the hotline takes two calls about {restaurant}: {first.id} opens case "
        f"{first.case_number}, {second.id} merges into it (并单)")
    township = cast("jinhaihu-township")
    case = township.call("GetCase", pb.GetCaseRequest(case_id=first.case_id)).case
    dispatched = township.call("DispatchTask", pb.DispatchTaskRequest(
        request_id=new_request_id(), case_id=case.id, kind="pollution-complaint",
        assignee="ecology-environment", title="Check the barbecue's fume filter"))
    task = next(t for t in dispatched.case.tasks if t.id == dispatched.task_id)
    _work(cast, dispatched.case, task, "filter missing; owner ordered to fit one", say)
    township.call("CloseCase", pb.CloseCaseRequest(
        request_id=new_request_id(), case_id=case.id, summary="filter ordered",
        answer="The restaurant was ordered to fit a fume filter within 7 days."))
    say(f"jinhaihu-township closes {case.number} with its answer to both callers (答复)")
    desk.reports("RateReport", rp.RateReportRequest(
        report_id=first.id, solved=True, satisfaction=rp.SATISFACTION_SATISFIED))
    rated = desk.reports("RateReport", rp.RateReportRequest(
        report_id=second.id, solved=False, satisfaction=rp.SATISFACTION_DISSATISFIED)).report
    reopened: case_pb2.Case = desk.call("GetCase", pb.GetCaseRequest(
        case_id=rated.reopened_as)).case
    say(f"回访: {first.id} satisfied; {second.id} dissatisfied and unsolved, so the matter "
        f"reopens as {reopened.number} (重办), led by {reopened.owner}")
    return reopened


SCENARIOS: dict[str, Callable[[Cast, Say], case_pb2.Case]] = {
    "mining": mining, "food": food, "day": day, "hotline": hotline}


def demo_command(args: argparse.Namespace) -> Any:
    cast = Cast(datadir.resolve(args.data_dir))
    say: Say = (lambda _line: None) if args.json else (lambda line: print(line))  # noqa: T201
    try:
        case = SCENARIOS[args.scenario](cast, say)
    finally:
        cast.close()
    if args.json:
        return render.case_json(case)
    if case.status == case_pb2.CASE_STATUS_CLOSED:
        return f"\ncase {case.number or case.id} is closed"
    console = datadir.Endpoints.read(cast.data_dir).http
    return (f"\ncase {case.number} is open. See it in the console: {console}/cases/"
            f"{case.number} (sign in as any demo officer; passwords in "
            f"{cast.data_dir / datadir.DEMO_OFFICERS})")
