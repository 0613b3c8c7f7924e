"""Every custom span attribute, named once (the OpenTelemetry demo's telemetry-schema habit).

Spans of every process and the accountability spans derived from the ledger use these
names, so a query written against one holds for all.
"""

from __future__ import annotations

CASE_ID = "case.id"
CASE_TYPE = "case.type"
CASE_OWNER = "case.owner"
TASK_ID = "task.id"
TASK_ASSIGNEE = "task.assignee"
TASK_PHASE = "task.phase"
HANDOFF_ID = "handoff.id"
HANDOFF_FROM = "handoff.from"
HANDOFF_TO = "handoff.to"
ESCALATION_ID = "escalation.id"
GAP_KIND = "gap.kind"
GAP_ACCOUNTABLE = "gap.accountable"
# The agencies on either side of a gap: who was waiting on whom.
GAP_FROM = "gap.from"
GAP_TO = "gap.to"
DEADLINE_AT = "deadline.at"
DEADLINE_BREACHED = "deadline.breached"
# What a derived span stands for: case, ownership, task_phase or gap.
RESPONSIBILITY_KIND = "responsibility.kind"
# The ledger events that opened and closed the span.
LEDGER_START_SEQUENCE = "ledger.start_sequence"
LEDGER_END_SEQUENCE = "ledger.end_sequence"
# On a span link: whether the linked request started or ended the span.
LINK_ROLE = "link.role"
# On an agency service's server spans: the agency that served the call (several agencies
# may share one process, and so one service.name, under the embedded default).
AGENCY_ID = "agency.id"
