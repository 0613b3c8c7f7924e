"""RatingWorkflow: one reporter's rating (回访/评价) of a closed case, recorded once.

A closed case takes no more events (its run has ended, releasing its subject for the
next case), so a rating is a ledger chain of its own: one event, REPORT_RATED, naming
the case rated, its type and the agency that led it, which is what the scorecards'
solved, satisfaction and reopen rates count. The run's id is the report's
(`rating:<its keyed digest>`) and is never reused, so a report is rated once however
often the hotline's request is retried; the start is sealed by the gateway like a
case's, and checked here before anything is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from records import event_schema as schema
    from records.event_schema import Satisfaction, reopens
    from workflows import activities, request_trace, seals, unopened
    from workflows.case_loops import asked_by_this_run
    from workflows.case_updates import refusal_error
    from workflows.rules import phrases
    from workflows.rules.effects import CaseEventBatch
    from workflows.rules.model import Actor, CaseEvent, EventKind
    from workflows.rules.opening import keyed_digest
    from workflows.rules.phrases import Phrase
    from workflows.rules.refusals import Reason, Refusal


__all__ = ["RATING_WORKFLOW", "RateReport", "RatingWorkflow", "Satisfaction",
           "rating_workflow_id", "reopens"]


@dataclass(frozen=True)
class RateReport:
    request_id: str
    actor: Actor
    report_id: str
    # The closed case, its type and the agency that led it when it closed (the one rated).
    rated_case: str
    case_type: str
    owner: str
    solved: bool
    satisfaction: Satisfaction


def rating_workflow_id(report_id: str, secret: bytes, *, rated_case: str = "",
                       again: bool = False) -> str:
    """The run's id: the report's, as a digest keyed with the subject secret (as subject
    locks are, rules.opening), so that nobody reaching the engine can start a workflow
    of their own under a report's id first and so block its rating. A rating of a
    reopened case (`again`: the follow-up of the redone work) is the report's and that
    case's: one rating per report per case."""
    rated = f"{report_id}@{rated_case}" if again else report_id
    return schema.rating_chain(keyed_digest(secret, rated))


RATING_WORKFLOW = "RatingWorkflow"


@workflow.defn(name=RATING_WORKFLOW)
class RatingWorkflow:
    @workflow.run
    async def run(self, rating: RateReport | unopened.Unopened) -> str:
        if isinstance(rating, unopened.Unopened):
            raise refusal_error(Refusal(Reason.COMMAND_NOT_SEALED, unopened.refusal(rating)))
        unsealed = seals.start_refusal(rating)
        if unsealed is not None:
            raise refusal_error(Refusal(Reason.COMMAND_NOT_SEALED, unsealed))
        info = workflow.info()
        trace_id, span_id = request_trace.workflow_start()
        attributes = {schema.REPORT_ID: rating.report_id, schema.RATED_CASE: rating.rated_case,
                      schema.CASE_TYPE: rating.case_type, schema.OWNER: rating.owner,
                      schema.SOLVED: "true" if rating.solved else "false",
                      schema.SATISFACTION: rating.satisfaction.value}
        rated = Phrase("report_rated", report=rating.report_id,
                       solved=attributes[schema.SOLVED],
                       satisfaction=rating.satisfaction.value)
        event = CaseEvent(1, EventKind.REPORT_RATED, rating.actor, workflow.now(),
                          detail=phrases.render(rated, "en"),
                          attributes={**attributes, schema.PHRASE: rated.encode()},
                          trace_id=trace_id, span_id=span_id,
                          proofs=seals.start_proofs())
        chain = f"{info.workflow_id}@{info.run_id}"
        # A regular activity, as for cases (CaseWorkflow._append): the event's time is
        # only fixed once the task that made it is in history.
        await workflow.execute_activity(
            activities.RECORD_CASE_EVENTS,
            asked_by_this_run(CaseEventBatch(chain, [event])),
            start_to_close_timeout=activities.CALL_TIMEOUT, retry_policy=activities.PATIENT_RETRY)
        return chain
