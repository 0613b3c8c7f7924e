"""The oversight figures as seamless.v1 messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from observability import analysis, gap_store, ledger
from observability.accountability import CaseReplay, Category, GapKind, Interval
from seamless.v1 import case_pb2
from seamless.v1 import oversight_pb2 as pb
from workflows import reconcile


def stamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    found = Timestamp()
    found.FromDatetime(value)
    return found


def span(seconds: float | None) -> Duration | None:
    if seconds is None:
        return None
    found = Duration()
    found.FromTimedelta(timedelta(seconds=seconds))
    return found


def gap_kind(kind: str) -> str:
    return f"GAP_KIND_{kind}"


def kind_of(value: int) -> GapKind | None:
    if value == case_pb2.GAP_KIND_UNSPECIFIED:
        return None
    return GapKind(case_pb2.GapKind.Name(value).removeprefix("GAP_KIND_"))


def gap(interval: Interval, now: datetime, numbers: Mapping[str, str]) -> pb.Gap:
    end = interval.end_event
    return pb.Gap(
        case_id=interval.case_id, case_number=numbers.get(interval.case_id, ""),
        task_id=interval.task_id, kind=gap_kind(interval.name),
        accountable=interval.accountable, from_agency=interval.from_agency,
        to_agency=interval.to_agency, start_time=stamp(interval.start),
        end_time=stamp(interval.end), duration=span(interval.seconds(now)),
        deadline=stamp(interval.deadline), breached=interval.breached(now), ref=interval.ref,
        start_sequence=interval.start_event.sequence,
        end_sequence=end.sequence if end is not None else 0,
        start_trace_id=interval.start_event.trace_id,
        end_trace_id=end.trace_id if end is not None else "",
        late_from_start=interval.deadline is not None and interval.start >= interval.deadline)


def bounce_chain(chain: analysis.BounceChain) -> pb.BounceChain:
    return pb.BounceChain(case_id=chain.case_id, task_ids=chain.task_ids,
                          agencies=chain.agencies, bounces=chain.bounces)


def case_lines(lines: analysis.CaseLines) -> pb.CaseLines:
    return pb.CaseLines(case_id=lines.case_id, case_type=lines.case_type,
                        opened_time=stamp(lines.opened_at), legal=span(lines.legal_seconds),
                        promised=span(lines.promised_seconds),
                        actual=span(lines.actual_seconds), closed=lines.closed)


def type_lines(lines: analysis.TypeLines) -> pb.CaseTypeLines:
    return pb.CaseTypeLines(
        case_type=lines.case_type, cases=lines.cases, closed=lines.closed,
        median_legal=span(lines.median_legal_seconds),
        median_promised=span(lines.median_promised_seconds),
        median_actual=span(lines.median_actual_seconds),
        closed_within_promised=lines.within_promised, closed_within_legal=lines.within_legal)


def hotline(figures: analysis.HotlineFigures) -> pb.HotlineFigures:
    return pb.HotlineFigures(
        response_rate=figures.response_rate, sign_judged=figures.sign_judged,
        ratings=figures.ratings, solved_rate=figures.solved_rate, solved=figures.solved,
        satisfaction_rate=figures.satisfaction_rate, satisfied=figures.satisfied,
        basically_satisfied=figures.basically_satisfied, dissatisfied=figures.dissatisfied,
        reopen_rate=figures.reopen_rate, reopened=figures.reopened,
        objections=figures.objections, objections_upheld=figures.objections_upheld,
        objections_reassigned=figures.objections_reassigned)


def type_scorecard(card: analysis.TypeScorecard) -> pb.CaseTypeScorecard:
    return pb.CaseTypeScorecard(case_type=card.case_type, cases=card.cases,
                                closed=card.closed, tasks=card.tasks, hotline=hotline(card),
                                reports=card.reports)


def area_reports(area: str, reports: int) -> pb.AreaReports:
    return pb.AreaReports(area=area, reports=reports)


def scorecard(card: analysis.Scorecard, rank: int) -> pb.AgencyScorecard:
    # `resolution_rate` is the API's name, older than the ratings, for the closure rate.
    return pb.AgencyScorecard(
        score=card.score, rank=rank if analysis.is_ranked(card) else 0,
        agency=card.agency, tasks=card.tasks, on_time_sign_rate=card.on_time_sign_rate,
        sign_judged=card.sign_judged, on_time_arrival_rate=card.on_time_arrival_rate,
        arrival_judged=card.arrival_judged,
        on_time_completion_rate=card.on_time_completion_rate,
        completion_judged=card.completion_judged, bounce_rate=card.bounce_rate,
        median_handoff_acceptance=span(card.median_handoff_acceptance_seconds),
        handoffs_accepted=len(card.handoff_waits), resolution_rate=card.closure_rate,
        cases_led=card.cases_led, hotline=hotline(card))


def handoff_cell(cell: gap_store.HandoffCell) -> pb.HandoffCell:
    return pb.HandoffCell(from_agency=cell.from_agency, to_agency=cell.to_agency,
                          offers=cell.offers, accepted=cell.accepted,
                          median_wait=span(cell.median_wait_seconds),
                          p90_wait=span(cell.p90_wait_seconds))


def ownership(replay: CaseReplay) -> list[pb.OwnershipPeriod]:
    return [pb.OwnershipPeriod(owner=i.accountable, start_time=stamp(i.start),
                               end_time=stamp(i.end))
            for i in replay.intervals if i.category is Category.OWNERSHIP]


def case_event(row: ledger.LedgerEntry) -> case_pb2.CaseEvent:
    return case_pb2.CaseEvent(
        case_id=row.case_id, sequence=row.sequence,
        kind=f"CASE_EVENT_KIND_{row.kind}",
        actor=case_pb2.Actor(agency_id=row.actor_agency, officer_id=row.actor_officer),
        time=stamp(ledger.utc(row.at)), task_id=row.task_id, detail=row.detail,
        attributes=row.attribute_map(), trace_id=row.trace_id, span_id=row.span_id)


def engine_finding(found: reconcile.Finding) -> pb.EngineFinding:
    return pb.EngineFinding(kind=found.kind, case_id=found.case_id,
                            case_number=found.case_number, workflow_id=found.workflow_id,
                            run_id=found.run_id, detail=found.detail,
                            at=stamp(found.at) if found.at else None)


def verdict(found: ledger.Verdict) -> pb.LedgerVerdict:
    return pb.LedgerVerdict(case_id=found.case_id, events=found.events, intact=found.intact,
                            broken_at=found.broken_at or 0, problem=found.problem)
