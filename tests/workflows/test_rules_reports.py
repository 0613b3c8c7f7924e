"""Reports (并单), answers (答复), reopening (重办) and objections (派单异议) in the rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from records import event_schema as schema
from tests.workflows.builders import T0, actor, mining_open, open_mining, rid
from tests.workflows.test_rules import LATER, refused
from workflows.catalog_loader import Catalog
from workflows.rules import limits
from workflows.rules.case import CaseEngine
from workflows.rules.commands import (
    AssignOwner,
    AttachReport,
    CloseCase,
    DecideObjection,
    DetachReport,
    ObjectToLead,
    OfferHandoff,
    WithdrawTask,
)
from workflows.rules.model import (
    CaseStatus,
    EventKind,
    ObjectionOutcome,
    OwnershipVia,
    ReportRef,
)
from workflows.rules.objection_ops import objection_window
from workflows.rules.opening import open_case
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.work import WorkKind, work_for

TOWNSHIP, NR, HOTLINE = "jinhaihu-township", "natural-resources", "command-center"
STRANGER = "traffic-police"


def ref(n: int) -> ReportRef:
    return ReportRef(id=f"R20261118-{n:04d}", channel="open311", service_code="night-quarrying",
                     received_at=T0, area="jinhaihu")


def reported_mining(catalog: Catalog, *reports: ReportRef) -> CaseEngine:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    cmd = replace(mining_open(agency=HOTLINE), reports=reports or (ref(1),))
    return open_case(cmd, rules, now=T0)


def kinds(engine: CaseEngine) -> list[EventKind]:
    return [e.kind for e in engine.state.events]


def withdraw_all(engine: CaseEngine, now: datetime = LATER) -> None:
    for task in list(engine.state.tasks):
        engine.execute(WithdrawTask(rid(), actor(engine.state.owner), task.id), now)


# ----- reports ---------------------------------------------------------------------------

def test_a_case_opened_from_a_report_holds_it_without_its_reporter(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    assert engine.state.owner == TOWNSHIP  # the matrix, not the hotline that opened it
    attached = [e for e in engine.state.events if e.kind is EventKind.REPORT_ATTACHED]
    assert [e.attributes[schema.REPORT_ID] for e in attached] == [ref(1).id]
    assert attached[0].attributes[schema.CHANNEL] == "open311"


def test_attaching_merges_once_and_a_repeat_changes_nothing(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    engine.execute(AttachReport(rid(), actor(HOTLINE, "op"), ref(2)), LATER)
    events = len(engine.state.events)
    engine.execute(AttachReport(rid(), actor(HOTLINE, "op"), ref(2)), LATER)
    engine.execute(AttachReport(rid(), actor(HOTLINE, "op"), ref(1)), LATER)
    assert len(engine.state.events) == events
    assert [r.id for r in engine.state.reports] == [ref(1).id, ref(2).id]


def test_who_may_attach_and_split(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    # The subject match is the intake's (the hotline's); by hand, the owner may too.
    refused(engine, AttachReport(rid(), actor(TOWNSHIP), ref(2)), Reason.NOT_COORDINATOR)
    engine.execute(AttachReport(rid(), actor(TOWNSHIP), ref(2), by_hand=True), LATER)
    assert engine.state.events[-1].attributes[schema.BY_HAND] == "true"
    refused(engine, AttachReport(rid(), actor(STRANGER), ref(3), by_hand=True),
            Reason.CASE_NOT_FOUND)
    refused(engine, DetachReport(rid(), actor(NR), ref(2).id, "not ours"), Reason.NOT_OWNER)
    refused(engine, DetachReport(rid(), actor(TOWNSHIP), "R-none", "x"),
            Reason.REPORT_NOT_FOUND)
    refused(engine, DetachReport(rid(), actor(TOWNSHIP), ref(2).id, ""), Reason.MISSING_FIELD)
    engine.execute(DetachReport(rid(), actor(TOWNSHIP), ref(2).id, "another quarry"), LATER)
    assert [r.id for r in engine.state.reports] == [ref(1).id]
    assert kinds(engine)[-1] is EventKind.REPORT_DETACHED


def test_a_case_takes_a_bounded_number_of_reports(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    for n in range(2, limits.MAX_REPORTS_PER_CASE + 1):
        engine.execute(AttachReport(rid(), actor(HOTLINE), ref(n)), LATER)
    refused(engine, AttachReport(rid(), actor(HOTLINE), ref(9999)), Reason.TOO_MANY_REPORTS)


def test_a_bad_report_reference_is_refused(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    refused(engine, AttachReport(rid(), actor(HOTLINE), replace(ref(2), channel="fax")),
            Reason.OUT_OF_RANGE)
    refused(engine, AttachReport(rid(), actor(HOTLINE), replace(ref(2), id="")),
            Reason.MISSING_FIELD)


# ----- the answer ------------------------------------------------------------------------

def test_a_case_with_reports_closes_only_with_an_answer(catalog: Catalog) -> None:
    engine = reported_mining(catalog)
    withdraw_all(engine)
    message = refused(engine, CloseCase(rid(), actor(TOWNSHIP)), Reason.ANSWER_REQUIRED)
    assert "1 citizen report" in message
    refused(engine, CloseCase(rid(), actor(TOWNSHIP), answer="x" * (limits.MAX_ANSWER + 1)),
            Reason.TEXT_TOO_LONG)
    engine.execute(CloseCase(rid(), actor(TOWNSHIP), "sealed", answer=" Sealed today. "),
                   LATER)
    assert engine.state.answer == "Sealed today."
    assert engine.state.events[-1].attributes == {schema.ANSWERED: "true"}


def test_a_case_without_reports_needs_no_answer(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    withdraw_all(engine)
    engine.execute(CloseCase(rid(), actor(TOWNSHIP), "done"), LATER)
    assert engine.state.status is CaseStatus.CLOSED and engine.state.answer == ""


# ----- reopening -------------------------------------------------------------------------

def test_only_the_hotline_reopens_and_names_the_lead(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    reopen = replace(mining_open(agency=HOTLINE), reopened_from="case:old@run", lead=NR,
                     reports=(ref(1),))
    engine = open_case(reopen, rules, now=T0)
    assert engine.state.owner == NR and engine.state.reopened_from == "case:old@run"
    assert engine.state.events[0].attributes[schema.REOPENED_FROM] == "case:old@run"
    by_township = replace(mining_open(), reopened_from="case:old@run", lead=NR)
    with pytest.raises(Refusal) as refusal:
        open_case(by_township, rules, now=T0)
    assert refusal.value.reason is Reason.NOT_COORDINATOR


# ----- objections ------------------------------------------------------------------------

def assigned_to_nr(catalog: Catalog) -> CaseEngine:
    engine = open_mining(catalog)
    engine.execute(AssignOwner(rid(), actor(HOTLINE), NR, "its site"), T0)
    assert engine.state.ownership[-1].via is OwnershipVia.ASSIGNMENT
    return engine


def test_an_agency_that_led_by_choice_cannot_object(catalog: Catalog) -> None:
    engine = open_mining(catalog)  # the township opened it and leads it
    refused(engine, ObjectToLead(rid(), actor(TOWNSHIP), "not ours"),
            Reason.OBJECTION_NOT_ALLOWED)


def test_objection_keeps_the_owner_until_the_coordinator_decides(catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    engine.execute(ObjectToLead(rid(), actor(NR, "chen"), "the township controls the site",
                                TOWNSHIP), LATER)
    assert engine.state.owner == NR  # one owner always
    objected = engine.state.events[-1]
    assert objected.kind is EventKind.LEAD_OBJECTED
    assert objected.attributes[schema.COORDINATOR] == HOTLINE
    assert [i.kind for i in work_for(engine.state, HOTLINE, coordinator=HOTLINE)
            if i.open].count(WorkKind.OBJECTION) == 1
    refused(engine, ObjectToLead(rid(), actor(NR), "again"), Reason.OBJECTION_NOT_ALLOWED)
    refused(engine, OfferHandoff(rid(), actor(NR), TOWNSHIP, "yours"),
            Reason.OBJECTION_PENDING)
    refused(engine, DecideObjection(rid(), actor(NR), "O1", ObjectionOutcome.UPHELD),
            Reason.NOT_COORDINATOR)
    engine.execute(DecideObjection(rid(), actor(HOTLINE), "O1", ObjectionOutcome.REASSIGNED),
                   LATER)
    assert engine.state.owner == TOWNSHIP  # the suggestion
    assert engine.state.events[-1].attributes[schema.OWNER] == TOWNSHIP
    refused(engine, DecideObjection(rid(), actor(HOTLINE), "O1", ObjectionOutcome.UPHELD),
            Reason.OBJECTION_DECIDED)


def test_an_upheld_dispatch_stays_with_the_objector(catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    engine.execute(ObjectToLead(rid(), actor(NR), "not ours"), LATER)
    refused(engine, DecideObjection(rid(), actor(HOTLINE), "O1", ObjectionOutcome.REASSIGNED),
            Reason.MISSING_FIELD)
    engine.execute(DecideObjection(rid(), actor(HOTLINE), "O1", ObjectionOutcome.UPHELD,
                                   note="the matrix names you"), LATER)
    assert engine.state.owner == NR
    assert engine.state.objections[0].outcome is ObjectionOutcome.UPHELD


def test_the_objection_window_closes(catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    late = T0 + timedelta(hours=2, minutes=1)  # the playbook's default: 2 hours
    message = refused(engine, ObjectToLead(rid(), actor(NR), "not ours"),
                      Reason.OBJECTION_NOT_ALLOWED, now=late)
    assert "ended at" in message


def test_the_window_the_page_shows_is_the_one_the_rules_hold(catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    window = objection_window(engine.state, engine.rules)
    assert window == T0 + timedelta(hours=2)  # from the assignment, the playbook's 2 hours
    refused(engine, ObjectToLead(rid(), actor(NR), "not ours"), Reason.OBJECTION_NOT_ALLOWED,
            now=window + timedelta(seconds=1))
    engine.execute(ObjectToLead(rid(), actor(NR), "not ours"), window)  # its last moment
    assert objection_window(engine.state, engine.rules) is None  # objected: no window
    chosen = open_mining(catalog)  # the township opened it and leads it by choice
    assert objection_window(chosen.state, chosen.rules) is None


def test_an_undecided_objection_is_supervised_then_escalated(catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    engine.execute(ObjectToLead(rid(), actor(NR), "not ours"), T0)
    decide_by = engine.state.objections[0].decide_by.deadline
    engine.tick(decide_by + timedelta(seconds=1))
    assert kinds(engine)[-1] is EventKind.NOTICE
    engine.tick(decide_by + timedelta(hours=3))
    assert EventKind.ESCALATION in kinds(engine)
    withdraw_all(engine, decide_by + timedelta(hours=3))
    refused(engine, CloseCase(rid(), actor(NR)), Reason.OBJECTION_PENDING,
            now=decide_by + timedelta(hours=3))


def test_the_coordinator_reassigns_through_the_objection_while_one_is_pending(
        catalog: Catalog) -> None:
    engine = assigned_to_nr(catalog)
    engine.execute(ObjectToLead(rid(), actor(NR), "not ours"), LATER)
    refused(engine, AssignOwner(rid(), actor(HOTLINE), TOWNSHIP, "settled"),
            Reason.OBJECTION_PENDING)
