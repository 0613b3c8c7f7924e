"""Clocks on the time-skipping server: notices, escalations, expiry, deemed consent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import case_worker, eventually
from workflows.catalog_loader import Catalog
from workflows.client import get_case, open_case, send
from workflows.rules.calendar import parse_duration
from workflows.rules.commands import (
    AcceptHandoff,
    ArriveOnScene,
    CompleteTask,
    DecideExtension,
    DeclineTask,
    OfferHandoff,
    OpenCase,
    RequestExtension,
    SignTask,
)
from workflows.rules.model import (
    Actor,
    CaseEvent,
    EventKind,
    HandoffState,
    NoticeKind,
    TaskState,
)

BEIJING = timezone(timedelta(hours=8))
TOWNSHIP = "jinhaihu-township"
_n = 0


def rid() -> str:
    global _n
    _n += 1
    return f"clock-req-{_n}"


async def open_mining(client: Client, catalog: Catalog, task_queue: str, subject: str) -> str:
    result = await open_case(client, catalog, OpenCase(
        rid(), Actor(TOWNSHIP, "zhang.wei"), "illegal-mining", subject, "Night digging",
        jurisdiction="jinhaihu"), task_queue=task_queue)
    return result.case_id


def events_of(events: list[CaseEvent], kind: EventKind, task_id: str = "") -> list[CaseEvent]:
    return [e for e in events if e.kind is kind and (not task_id or e.task_id == task_id)]


async def test_on_scene_clock_notices_at_30_minutes_and_escalates_on_second_miss(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, recorder, _):
        case_id = await open_mining(client, catalog, queue, "QUARRY-ONSCENE")
        for task_id, agency in [("T1", "natural-resources"), ("T2", "public-security"),
                                ("T3", "emergency-management"), ("T4", "ecology-environment")]:
            await send(client, case_id, SignTask(rid(), Actor(agency), task_id))
            if task_id != "T1":  # natural resources never shows up
                await send(client, case_id, ArriveOnScene(rid(), Actor(agency), task_id))
        dispatched = (await get_case(client, case_id)).tasks[0].dispatched_at

        def reminders() -> list[tuple[str, ...]]:
            return [n.recipients for n in recorder.notices
                    if n.kind is NoticeKind.REMINDER and n.task_id == "T1"]

        # 临期提醒: at three quarters of the 30 minutes, to the agency the clock waits on
        # alone (the others arrived; nobody is reminded of a clock already met).
        await env.sleep(timedelta(minutes=22))
        assert not [n for n in recorder.notices if n.kind is NoticeKind.REMINDER]
        await env.sleep(timedelta(minutes=1))

        async def reminded() -> bool:
            return reminders() == [("natural-resources",)]
        await eventually(reminded)
        reminder = next(n for n in recorder.notices if n.kind is NoticeKind.REMINDER)
        assert reminder.text.startswith("task T1 (natural-resources) on-scene due soon")

        await env.sleep(timedelta(minutes=6))
        assert not events_of((await get_case(client, case_id)).events, EventKind.NOTICE)

        await env.sleep(timedelta(minutes=2))
        notices = events_of((await get_case(client, case_id)).events, EventKind.NOTICE)
        assert [n.task_id for n in notices] == ["T1"]
        assert abs(notices[0].at - dispatched - timedelta(minutes=30)) < timedelta(seconds=2)
        assert not (await get_case(client, case_id)).escalations

        await env.sleep(timedelta(minutes=30))
        state = await get_case(client, case_id)
        assert [(e.task_id, e.reason) for e in state.escalations] == [
            ("T1", "task T1 (natural-resources) on-scene missed twice")]
        escalated = events_of(state.events, EventKind.ESCALATION, "T1")[0]
        assert abs(escalated.at - dispatched - timedelta(minutes=60)) < timedelta(seconds=2)

        async def delivered() -> bool:
            kinds = [(n.kind, n.recipients[0]) for n in recorder.notices if n.task_id == "T1"]
            return kinds == [(NoticeKind.REMINDER, "natural-resources"),
                             (NoticeKind.SUPERVISION, "natural-resources"),
                             (NoticeKind.ESCALATION, "command-center")]
        await eventually(delivered)
        supervision = next(n for n in recorder.notices if n.kind is NoticeKind.SUPERVISION)
        assert set(supervision.recipients) == {"natural-resources", TOWNSHIP}


async def test_expired_offer_escalates_and_leaves_the_owner(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, recorder, _):
        case_id = await open_mining(client, catalog, queue, "QUARRY-OFFER")
        offer = await send(client, case_id, OfferHandoff(
            rid(), Actor(TOWNSHIP), "natural-resources", "the mining is theirs to lead"))
        await env.sleep(timedelta(hours=2, minutes=1))
        state = await get_case(client, case_id)
        assert state.owner == TOWNSHIP and len(state.ownership) == 1
        assert state.handoffs[0].state is HandoffState.EXPIRED
        # (The unsigned whistle tasks have escalated too; this test is about the offer.)
        assert [e.handoff_id for e in state.escalations if e.handoff_id] == [offer.handoff_id]
        # Too late now: the offer cannot be accepted.
        refused = None
        try:
            await send(client, case_id, AcceptHandoff(rid(), Actor("natural-resources"),
                                                      offer.handoff_id))
        except Exception as err:  # noqa: BLE001 - the type is asserted below
            refused = err
        assert getattr(refused, "reason", None) == "HANDOFF_NOT_FOUND"

        async def escalation_delivered() -> bool:
            return any(n.kind is NoticeKind.ESCALATION and n.handoff_id == offer.handoff_id
                       and n.recipients[0] == "command-center" for n in recorder.notices)
        await eventually(escalation_delivered)


async def test_deemed_consent_fires_at_the_deadline(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, _, _):
        result = await open_case(client, catalog, OpenCase(
            rid(), Actor("development-reform"), "parallel-approval", "PRJ-DEEMED",
            "Cold-chain warehouse", stage="project-approval"), task_queue=queue)
        case_id = result.case_id
        for task_id, agency in [("T1", "natural-resources"), ("T2", "ecology-environment")]:
            await send(client, case_id, SignTask(rid(), Actor(agency), task_id))
        await send(client, case_id, CompleteTask(rid(), Actor("natural-resources"), "T1",
                                                 findings="land use approved"))
        due = (await get_case(client, case_id)).tasks[1].due_by.deadline
        now = await env.get_current_time()
        await env.sleep(due - now - timedelta(minutes=1))
        assert (await get_case(client, case_id)).tasks[1].state is TaskState.SIGNED

        await env.sleep(timedelta(minutes=2))
        state = await get_case(client, case_id)
        silent, answered = state.tasks[1], state.tasks[0]
        assert silent.state is TaskState.DEEMED_CONSENT
        assert answered.state is TaskState.DONE
        consent = events_of(state.events, EventKind.DEEMED_CONSENT, "T2")
        assert len(consent) == 1 and abs(consent[0].at - due) < timedelta(seconds=2)
        # The approval itself is now due within one working day.
        assert catalog.calendar.add(due, parse_duration("1wd")) == silent.due_by.deadline


async def test_granted_extension_moves_the_due_by(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, _, _):
        result = await open_case(client, catalog, OpenCase(
            rid(), Actor("market-regulation"), "food-supply-chain", "BATCH-EXT",
            "Tainted pork", stage="circulation"), task_queue=queue)
        case_id = result.case_id
        await send(client, case_id, SignTask(rid(), Actor("agriculture-rural"), "T1"))
        old_due = (await get_case(client, case_id)).tasks[0].due_by.deadline
        new_due = old_due + timedelta(days=2)
        await send(client, case_id, RequestExtension(rid(), Actor("agriculture-rural"), "T1",
                                                     new_due, reason="waiting for the lab"))
        await send(client, case_id, DecideExtension(rid(), Actor("market-regulation"), "T1",
                                                    grant=True))
        now = await env.get_current_time()
        await env.sleep(old_due - now + timedelta(hours=1))
        state = await get_case(client, case_id)
        assert state.tasks[0].due_by.deadline == new_due
        assert not events_of(state.events, EventKind.NOTICE, "T1")

        await env.sleep(new_due - old_due)
        notices = events_of((await get_case(client, case_id)).events, EventKind.NOTICE, "T1")
        assert len(notices) == 1 and "completion" in notices[0].detail
        assert abs(notices[0].at - new_due) < timedelta(seconds=2)


async def test_working_day_deadline_set_on_friday_lands_on_monday(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    now = (await env.get_current_time()).astimezone(BEIJING)
    days_to_friday = (4 - now.weekday()) % 7 or 7
    friday = (now + timedelta(days=days_to_friday)).replace(hour=15, minute=0, second=0,
                                                            microsecond=0)
    await env.sleep(friday - now)
    async with case_worker(client) as (queue, _, _):
        result = await open_case(client, catalog, OpenCase(
            rid(), Actor("development-reform"), "parallel-approval", "PRJ-FRIDAY",
            "Logistics park", stage="project-approval"), task_queue=queue)
        case_id = result.case_id
        opened = (await get_case(client, case_id)).opened_at.astimezone(BEIJING)
        assert opened.weekday() == 4  # Friday
        sign_by = (await get_case(client, case_id)).tasks[0].sign_by.deadline.astimezone(BEIJING)
        assert sign_by.weekday() == 0 and sign_by.date() == (opened + timedelta(days=3)).date()
        assert (sign_by.hour, sign_by.minute) == (opened.hour, opened.minute)

        await env.sleep(timedelta(days=2))  # Sunday afternoon: nothing is late yet
        assert not events_of((await get_case(client, case_id)).events, EventKind.NOTICE)
        await env.sleep(datetime.combine(sign_by.date(), sign_by.timetz())
                        - (await env.get_current_time()) + timedelta(minutes=1))
        notices = events_of((await get_case(client, case_id)).events, EventKind.NOTICE)
        assert notices and all("sign-for" in n.detail for n in notices)
        assert all(n.at.astimezone(BEIJING).weekday() == 0 for n in notices)


async def test_unreviewed_decline_escalates_through_the_workflow(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, recorder, _):
        case_id = await open_mining(client, catalog, queue, "QUARRY-DECLINE")
        await send(client, case_id, DeclineTask(rid(), Actor("public-security"), "T2",
                                                "no crime reported yet"))
        await env.sleep(timedelta(minutes=59))
        assert not [e for e in (await get_case(client, case_id)).escalations
                    if e.reason.startswith("decline")]
        await env.sleep(timedelta(minutes=2))  # the playbook gives the owner 1 hour
        escalations = [e for e in (await get_case(client, case_id)).escalations
                       if e.reason.startswith("decline")]
        assert [(e.task_id, e.reason) for e in escalations] == [
            ("T2", "decline of task T2 by public-security left unreviewed")]

        async def coordinator_told() -> bool:
            return any(n.kind is NoticeKind.ESCALATION and n.task_id == "T2"
                       and n.recipients[0] == "command-center" for n in recorder.notices)
        await eventually(coordinator_told)


async def test_a_far_clock_wakes_early_but_fires_at_its_deadline(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    """The timer of a far clock wakes a little early (to arm the rest from a quick task);
    that wake-up must not raise the notice before the deadline, nor delay it after."""
    env, client = time_skipping_env, time_skipping_env.client
    async with case_worker(client) as (queue, _recorder, _):
        case_id = await open_mining(client, catalog, queue, "QUARRY-EARLY-WAKE")
        sign_by = (await get_case(client, case_id)).tasks[0].sign_by
        # 10 minutes: the earliest clock of the case, far enough to wake early.

        await env.sleep(timedelta(minutes=9, seconds=59))  # past the early wake-up
        assert not events_of((await get_case(client, case_id)).events, EventKind.NOTICE)

        await env.sleep(timedelta(seconds=5))
        notices = events_of((await get_case(client, case_id)).events, EventKind.NOTICE)
        assert {n.task_id for n in notices} == {"T1", "T2", "T3", "T4"}
        assert all("sign-for missed" in n.detail for n in notices)
        assert all(abs(n.at - sign_by.deadline) < timedelta(milliseconds=500)
                   for n in notices)
