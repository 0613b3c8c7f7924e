"""What the lists show of a case, made by the case's own rules as it now stands.

The workflow sends this beside each batch of events; the ledger's append keeps it in
the read model (`observability.projection`) in the same transaction. The work items are
`workflows.rules.work`'s, for every agency the case may ask something of: the same rule
the case's own `work` query answers with, so an inbox read from the read model shows
what the case would have said.
"""

from __future__ import annotations

from records.projected_case import ProjectedCase, encode_work
from records.subjects import normalize_subject
from workflows.rules.catalog import CaseRules
from workflows.rules.model import CaseState, CaseStatus
from workflows.rules.work import work_for
from workflows.to_proto import work_to_proto


def parties(state: CaseState, coordinator: str) -> list[str]:
    """Every agency the case may ask something of: its assignees, its owner, the agency
    offered it and the coordinator (escalations and objections)."""
    found = {t.assignee for t in state.tasks} | {state.owner, coordinator}
    if state.pending_handoff is not None:
        found.add(state.pending_handoff.to_agency)
    return sorted(found)


def project(state: CaseState, rules: CaseRules) -> ProjectedCase:
    coordinator = rules.directory.coordinator
    work: dict[str, str] = {}
    # A closed case asks nothing more of anyone: it leaves every inbox.
    if state.status is CaseStatus.OPEN:
        for agency in parties(state, coordinator):
            items = work_for(state, agency, coordinator=coordinator)
            if items:
                work[agency] = encode_work(work_to_proto(state, items))
    closed = state.closed_at if state.status is CaseStatus.CLOSED else None
    return ProjectedCase(
        number=state.number, case_type=state.type,
        subject=normalize_subject(state.subject_key), title=state.title, owner=state.owner,
        status=state.status.value, opened_at=state.opened_at,
        updated_at=state.events[-1].at if state.events else state.opened_at,
        closed_at=closed, promised_by=state.promised_line.deadline,
        answer=state.answer if closed else "", reopened_from=state.reopened_from,
        follow_up_ends=(rules.calendar_deadline(closed, rules.playbook.follow_up_within)
                        if closed is not None else None),
        participants=state.participants(), reports=[r.id for r in state.reports], work=work)
