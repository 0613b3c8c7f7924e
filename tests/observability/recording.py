"""Cases recorded as the worker records them: through its ledger activity, which appends
the events and rewrites the case's gaps in the gap store in the same transaction. Tests
that audit a ledger build it this way, so the audit holds the gap store to what the
worker really writes rather than to a copy of its rule."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine

from observability.ledger import LedgerEntryBase
from records.event_schema import EventKind
from workflows.ledger_activities import LedgerActivities
from workflows.rules.effects import CaseEventBatch
from workflows.rules.model import Actor, CaseEvent


def record(engine: Engine, case_id: str, events: Sequence[LedgerEntryBase]) -> None:
    """Append `events` (one batch, in sequence order) as the worker's activity does."""
    batch = CaseEventBatch(case_id, [CaseEvent(
        e.sequence, EventKind(e.kind), Actor(e.actor_agency, e.actor_officer), e.at,
        task_id=e.task_id, detail=e.detail, attributes=e.attribute_map(),
        trace_id=e.trace_id, span_id=e.span_id, proofs=tuple(e.proof_list()))
        for e in events])
    asyncio.run(LedgerActivities(engine).record_case_events(batch))
