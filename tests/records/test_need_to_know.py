"""Least knowledge: how much of a case each party sees, from the case (what the gateway
hands out) and from the ledger (exports, timelines), by the one rule
(`records.need_to_know`). OWASP API3, broken object property level authorization.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.case_views import case_seen_by
from records.event_schema import PLATFORM_ACTOR, Event
from records.need_to_know import EventPart, Part, events_seen_by
from seamless.v1 import case_pb2
from tests.workflows.builders import T0, actor, open_mining, rid
from workflows.catalog_loader import Catalog
from workflows.rules.case import CaseEngine
from workflows.rules.commands import (
    ArriveOnScene,
    AssignOwner,
    CompleteTask,
    DeclineHandoff,
    OfferHandoff,
    SignTask,
    WithdrawHandoff,
)
from workflows.to_proto import case_to_proto

TOWNSHIP = "jinhaihu-township"
LATER = T0 + timedelta(minutes=5)
SECRET_FINDINGS = "pit 40 m deep, excavator plate 京A12345"


def worked_case(catalog: Catalog) -> CaseEngine:
    """Township leads; natural resources finds something; health was offered the case
    and declined; market regulation is offered it now."""
    engine = open_mining(catalog)
    engine.execute(SignTask(rid(), actor("natural-resources", "li.na"), "T1"), LATER)
    engine.execute(ArriveOnScene(rid(), actor("natural-resources", "li.na"), "T1"), LATER)
    engine.execute(CompleteTask(rid(), actor("natural-resources", "li.na"), "T1",
                                findings=SECRET_FINDINGS, evidence_refs=("photo-1",)),
                   LATER)
    offer = engine.execute(OfferHandoff(rid(), actor(TOWNSHIP, "zhang.wei"), "health",
                                        "a poisoning angle"), LATER)
    engine.execute(DeclineHandoff(rid(), actor("health", "wang.fang"), offer.handoff_id,
                                  "no illness reported"), LATER)
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP, "zhang.wei"), "market-regulation",
                                "sold gravel"), LATER)
    return engine


def ledger_events(engine: CaseEngine) -> list[Event]:
    return [Event(engine.state.id, e.sequence, e.kind.value, e.actor.agency, e.at,
                  e.task_id, dict(e.attributes), officer=e.actor.officer)
            for e in engine.state.events]


def test_api3_the_owner_coordinator_and_oversight_see_the_whole_case(
        catalog: Catalog) -> None:
    case = case_to_proto(worked_case(catalog).state)
    for viewer in (TOWNSHIP, catalog.directory.coordinator, "oversight"):
        assert case_seen_by(viewer, case, coordinator=catalog.directory.coordinator) == case


def test_api3_an_assignee_sees_the_header_and_its_own_tasks_only(catalog: Catalog) -> None:
    case = case_to_proto(worked_case(catalog).state)
    seen = case_seen_by("public-security", case, coordinator=catalog.directory.coordinator)
    assert seen.title == case.title and seen.owner == TOWNSHIP and seen.number == case.number
    assert {t.assignee for t in seen.tasks} == {"public-security"}
    assert SECRET_FINDINGS not in str(seen)
    assert "no illness reported" not in str(seen)  # another agency's decline reason
    assert not seen.HasField("handoff")  # the offer is market regulation's business
    # Who acted for other agencies is the agency alone.
    assert "zhang.wei" not in str(seen) and "li.na" not in str(seen)
    # Its own work is all there.
    own = case_seen_by("natural-resources", case, coordinator=catalog.directory.coordinator)
    assert [t.findings for t in own.tasks] == [SECRET_FINDINGS]
    assert "li.na" in str(own)


def test_api3_an_agency_offered_the_case_sees_a_summary_and_the_offer(
        catalog: Catalog) -> None:
    case = case_to_proto(worked_case(catalog).state)
    seen = case_seen_by("market-regulation", case, coordinator=catalog.directory.coordinator)
    assert seen.title == case.title and seen.handoff.reason == "sold gravel"
    assert not seen.tasks and not seen.ownership and not seen.escalations
    assert SECRET_FINDINGS not in str(seen)


def test_api3_a_decliner_sees_only_its_own_part_of_the_history(catalog: Catalog) -> None:
    case = case_to_proto(worked_case(catalog).state)
    seen = case_seen_by("health", case, coordinator=catalog.directory.coordinator)
    assert not seen.tasks and not seen.HasField("handoff")
    assert {kind_name(a.kind) for a in seen.acts} == \
        {"OPENED", "HANDOFF_OFFERED", "HANDOFF_DECLINED"}
    assert "sold gravel" not in str(seen) and SECRET_FINDINGS not in str(seen)


def kind_name(number: int) -> str:
    return case_pb2.CaseEventKind.Name(number).removeprefix("CASE_EVENT_KIND_")


def test_the_ledger_and_the_case_apply_the_same_rule(catalog: Catalog) -> None:
    """For every party, the acts a case shows it are the events the ledger shows it."""
    engine = worked_case(catalog)
    case = case_to_proto(engine.state)
    coordinator = catalog.directory.coordinator
    for viewer in (TOWNSHIP, "natural-resources", "public-security", "health",
                   "market-regulation", coordinator, "oversight"):
        from_case = {a.sequence: a.actor.officer_id
                     for a in case_seen_by(viewer, case, coordinator=coordinator).acts}
        from_ledger = {e.sequence: e.officer
                       for e in events_seen_by(viewer, ledger_events(engine),
                                               coordinator=coordinator)
                       if e.actor != PLATFORM_ACTOR}
        assert from_case == from_ledger, viewer


def test_a_stranger_sees_nothing_of_the_ledger(catalog: Catalog) -> None:
    engine = worked_case(catalog)
    assert not list(events_seen_by("transport", ledger_events(engine),
                                   coordinator=catalog.directory.coordinator))
    assert Part.NONE < Part.OWN_PART < Part.WHOLE


def test_the_ledger_s_reading_follows_ownership_however_it_moved(catalog: Catalog) -> None:
    """Assigned by the coordinator, or reassigned on a 派单异议: the new owner sees the
    whole case in the ledger too."""
    engine = worked_case(catalog)
    coordinator = catalog.directory.coordinator
    engine.execute(WithdrawHandoff(rid(), actor(TOWNSHIP), engine.state.handoffs[-1].id),
                   LATER)
    engine.execute(AssignOwner(rid(), actor(coordinator), "natural-resources",
                               "their quarry"), LATER)
    reading = EventPart("natural-resources", coordinator)
    for e in ledger_events(engine):
        reading.note(e.kind, e.actor, e.task_id, e.attributes)
    assert reading.part() is Part.WHOLE
    reading.note("OBJECTION_DECIDED", coordinator, "", {"owner": "public-security"})
    assert reading.part() is Part.ASSIGNEE  # it keeps its own task
