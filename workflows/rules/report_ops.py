"""Reports on a case (并单): attaching a citizen's report, splitting one off again.

A report attached to a case makes its reporter a follower, told the case's status and
answer, never a participant: the reporter acts on nothing. The case keeps only what the
report is about (`ReportRef`); who made it stays with the intake.

Who may attach or split: the hotline (the coordinator's desk, which takes the calls)
and the owner, who may find two of its reports are one matter. Attaching a report the
case already has changes nothing and answers as if it had just been attached, so an
intake retried after a crash, or racing another on the same subject, cannot fail on
its own earlier success.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows.rules import limits
from workflows.rules.commands import AttachReport, DetachReport
from workflows.rules.model import Actor, CommandResult, EventKind, ReportRef
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.registry import operation

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine

# How a report came in; the hotline desk takes calls and walk-ins, Open311 the rest.
OPEN311 = "open311"
DESK_CHANNELS = ("hotline", "walk-in")
CHANNELS = (*DESK_CHANNELS, OPEN311)


def check_report(ref: ReportRef, field: str = "report") -> None:
    limits.check_text(f"{field}.id", ref.id, limits.MAX_ID, required=True)
    limits.check_text(f"{field}.service_code", ref.service_code, limits.MAX_ID, required=True)
    limits.check_text(f"{field}.area", ref.area, limits.MAX_ID)
    if ref.channel not in CHANNELS:
        raise Refusal(Reason.OUT_OF_RANGE,
                      f"{field}.channel: {ref.channel!r} is not one of {', '.join(CHANNELS)}",
                      field=f"{field}.channel")


def check_hotline(engine: CaseEngine, actor: Actor, what: str) -> None:
    hotline = engine.rules.directory.hotline
    if actor.agency != hotline:
        raise Refusal(Reason.NOT_COORDINATOR, f"only the hotline ({hotline}) {what}")


def check_desk(engine: CaseEngine, actor: Actor) -> None:
    """The hotline or the owner."""
    if actor.agency != engine.rules.directory.hotline:
        engine.check_owner(actor)


def record_attached(engine: CaseEngine, ref: ReportRef, actor: Actor, now: datetime, *,
                    by_hand: bool) -> None:
    engine.state.reports.append(ref)
    attributes = {schema.REPORT_ID: ref.id, schema.CHANNEL: ref.channel,
                  schema.SERVICE_CODE: ref.service_code}
    if ref.area:
        attributes[schema.AREA] = ref.area
    if by_hand:
        attributes[schema.BY_HAND] = "true"
    engine.record(EventKind.REPORT_ATTACHED, actor, now,
                  phrase=Phrase("report_merged" if by_hand else "report_attached",
                                report=ref.id, channel=ref.channel, service=ref.service_code),
                  attributes=attributes)


@operation(AttachReport)
def attach(engine: CaseEngine, cmd: AttachReport, now: datetime, apply: bool
           ) -> CommandResult | None:
    engine.check_open()
    check_report(cmd.report)
    if engine.state.report(cmd.report.id) is not None:
        # Already here (the intake's own start, or a retry): nothing to change.
        return engine.result() if apply else None
    # The subject match is the intake's to make; merging by hand is a person's choice.
    if cmd.by_hand:
        check_desk(engine, cmd.actor)
    else:
        check_hotline(engine, cmd.actor, "attaches a report by its subject")
    if len(engine.state.reports) >= limits.MAX_REPORTS_PER_CASE:
        raise Refusal(Reason.TOO_MANY_REPORTS,
                      f"case {engine.state.reference} already has "
                      f"{limits.MAX_REPORTS_PER_CASE} reports; open a new case for this one")
    if not apply:
        return None
    record_attached(engine, cmd.report, cmd.actor, now, by_hand=cmd.by_hand)
    return engine.result()


@operation(DetachReport)
def detach(engine: CaseEngine, cmd: DetachReport, now: datetime, apply: bool
           ) -> CommandResult | None:
    engine.check_open()
    check_desk(engine, cmd.actor)
    ref = engine.state.report(cmd.report_id)
    if ref is None:
        raise Refusal(Reason.REPORT_NOT_FOUND,
                      f"case {engine.state.reference} has no report {cmd.report_id!r}",
                      field="report_id")
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    if not apply:
        return None
    engine.state.reports.remove(ref)
    engine.record(EventKind.REPORT_DETACHED, cmd.actor, now,
                  phrase=Phrase("report_detached", report=ref.id).saying(cmd.reason),
                  attributes={schema.REPORT_ID: ref.id, schema.CHANNEL: ref.channel,
                              schema.SERVICE_CODE: ref.service_code})
    return engine.result()
