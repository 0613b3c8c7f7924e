"""How a case's replay reads the case's own events: its opening and closing, offers and
hand-offs, assignments, reports attached and split off, objections to the lead, and a
rating chain's one rating."""

from __future__ import annotations

from observability.replay_base import ReplayBase
from observability.replay_model import (
    CaseReport,
    Category,
    GapKind,
    LeadObjection,
    Rating,
    ReplayedTask,
    attribute_time,
)
from records import event_schema as schema
from records.event_schema import Event
from records.event_schema import EventKind as K


class CaseEvents(ReplayBase):
    def _opened(self, event: Event, _task: ReplayedTask | None) -> None:
        a = event.attributes
        self.case_type = a.get(schema.CASE_TYPE, "")
        self.reopened_from = a.get(schema.REOPENED_FROM, "")
        self.coordinator = a.get(schema.COORDINATOR, "")
        self.opened_at = event.at
        self.legal_by = attribute_time(a, schema.LEGAL_BY)
        self.promised_by = attribute_time(a, schema.PROMISED_BY)
        self._opener = event.actor
        self._case = self._open(Category.CASE, "case", event, a.get(schema.OWNER, ""))
        self._set_owner(a.get(schema.OWNER, event.actor), event)

    def _offered(self, event: Event, _task: ReplayedTask | None) -> None:
        a = event.attributes
        to_agency = a.get(schema.TO_AGENCY, "")
        self._offered_agencies.append(to_agency)
        self._handoffs[a.get(schema.HANDOFF_ID, "")] = self._gap(
            GapKind.HANDOFF_PENDING, event, a.get(schema.FROM_AGENCY, self.owner),
            from_agency=a.get(schema.FROM_AGENCY, self.owner), to_agency=to_agency,
            deadline=attribute_time(a, schema.EXPIRES_AT), ref=a.get(schema.HANDOFF_ID, ""))

    def _handoff_ended(self, event: Event, _task: ReplayedTask | None) -> None:
        gap = self._handoffs.pop(event.attributes.get(schema.HANDOFF_ID, ""), None)
        if gap is not None:
            gap.closed_by(event)
        if event.kind == K.HANDOFF_ACCEPTED:
            self._set_owner(event.attributes.get(schema.TO_AGENCY, event.actor), event)

    def _owner_assigned(self, event: Event, task: ReplayedTask | None) -> None:
        self._handoff_ended(event, task)  # an assignment supersedes a pending offer
        self._set_owner(event.attributes.get(schema.OWNER, ""), event)

    def _closed(self, event: Event, _task: ReplayedTask | None) -> None:
        self.closed_at = event.at
        # The rules close no case with an objection pending; a ledger that says otherwise
        # still ends every wait with the case.
        for waits in (self._escalations, self._objection_gaps):
            for gap in waits.values():
                gap.closed_by(event)
            waits.clear()
        for interval in (self._ownership, self._case):
            if interval is not None:
                interval.closed_by(event)

    def _report_attached(self, event: Event, _task: ReplayedTask | None) -> None:
        a = event.attributes
        report_id = a.get(schema.REPORT_ID, "")
        self.reports[report_id] = CaseReport(report_id, a.get(schema.CHANNEL, ""),
                                             a.get(schema.SERVICE_CODE, ""),
                                             a.get(schema.AREA, ""), event.at)

    def _report_detached(self, event: Event, _task: ReplayedTask | None) -> None:
        self.reports.pop(event.attributes.get(schema.REPORT_ID, ""), None)

    def _lead_objected(self, event: Event, _task: ReplayedTask | None) -> None:
        """派单异议: the objector keeps the case while the coordinator reviews; the
        review is the coordinator's gap, with its deadline."""
        a = event.attributes
        objection_id = a.get(schema.OBJECTION_ID, "")
        coordinator = a.get(schema.COORDINATOR, self.coordinator)
        decide_by = attribute_time(a, schema.DECIDE_BY)
        self.objections[objection_id] = LeadObjection(objection_id, event.actor, coordinator,
                                                      event.at, decide_by)
        self._objection_gaps[objection_id] = self._gap(
            GapKind.LEAD_OBJECTION, event, coordinator, from_agency=event.actor,
            to_agency=coordinator, deadline=decide_by, ref=objection_id)

    def _objection_decided(self, event: Event, _task: ReplayedTask | None) -> None:
        a = event.attributes
        objection_id = a.get(schema.OBJECTION_ID, "")
        gap = self._objection_gaps.pop(objection_id, None)
        if gap is not None:
            gap.closed_by(event)
        objection = self.objections.get(objection_id)
        if objection is not None:
            objection.outcome, objection.decided_at = a.get(schema.OUTCOME, ""), event.at
        new_owner = a.get(schema.OWNER, "")
        if new_owner:  # reassigned: the case moves at this moment, as on OWNER_ASSIGNED
            self._set_owner(new_owner, event)

    def _rated(self, event: Event) -> None:
        a = event.attributes
        self.rating = Rating(
            a.get(schema.REPORT_ID, ""), a.get(schema.RATED_CASE, ""),
            a.get(schema.CASE_TYPE, ""), a.get(schema.OWNER, ""),
            a.get(schema.SOLVED) == "true", a.get(schema.SATISFACTION, ""),
            event.at, event.actor)
