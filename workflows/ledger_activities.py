"""The ledger activity: a case's events, appended to the ledger database.

After an append the case is replayed from the ledger: its gaps are rewritten in the gap
store and the facts its scorecards count in the score store (what oversight queries),
and the periods and gaps that the new events ended are exported as accountability spans
(observability.spans) when this process traces at all.
The case's new head is noted for the worker's next signed checkpoint
(observability.witness).
"""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace import ReadableSpan
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from temporalio import activity

from observability import gap_store, ledger, projection, score_store, spans, telemetry
from observability.accountability import CaseReplay
from observability.witness import Witness
from records import event_schema as schema
from workflows import activities
from workflows.rules.effects import CaseEventBatch


class LedgerActivities:
    def __init__(self, engine: Engine, witness: Witness | None = None) -> None:
        self._engine = engine
        self._witness = witness
        # The worker writes the score store and the read model, so it makes their tables
        # (readers never do).
        score_store.ready(engine)
        projection.ready(engine)

    def catch_up(self) -> int:
        """Derive the score store's rows of every chain it lags (all of them, the first
        time a worker keeping it starts on an existing ledger); returns how many."""
        return score_store.catch_up(self._engine)

    def _append(self, batch: CaseEventBatch) -> int:
        entries = [ledger.LedgerEntryBase(
            case_id=batch.case_id, sequence=e.sequence, kind=e.kind.value,
            actor_agency=e.actor.agency, actor_officer=e.actor.officer, at=e.at,
            task_id=e.task_id, detail=e.detail,
            attributes=ledger.encode_attributes(e.attributes), trace_id=e.trace_id,
            span_id=e.span_id, proofs=ledger.encode_proofs(e.proofs)) for e in batch.events]
        # One transaction: the events and the gaps and scores that follow from them are
        # committed together, so neither store lags the ledger. Both are rewritten also on
        # a retry that added nothing; every write is idempotent.
        with Session(self._engine) as session:
            added = ledger.append(session=session, case_id=batch.case_id, events=entries,
                                  commit=False)
            replay = spans.replay_case(
                ledger.stream_events(session.connection(), case_id=batch.case_id),
                batch.case_id)
            # The spans of what these events ended, taken before `finish` ends the rest.
            ended = self._ended_spans(batch, replay)
            replay.finish(batch.events[-1].at)
            gap_store.rewrite_case(session, replay)
            head = ledger.head(session.connection(), batch.case_id)
            if head is not None:
                score_store.rewrite_chain(session, replay, through=head[0])
            self._project(session, batch)
            session.commit()
        if self._witness is not None and head is not None:
            self._witness.note(batch.case_id, *head)
        # Spans only once committed. Their ids are derived, so a retry repeats the same.
        active = telemetry.active()
        if active is not None and ended:
            active.export_finished(ended)
        return added

    @staticmethod
    def _project(session: Session, batch: CaseEventBatch) -> None:
        """The read model's rows of the case (or the rating a rating chain records)."""
        connection = session.connection()
        if batch.projection is not None:
            projection.write(connection, batch.case_id, batch.projection,
                             through=batch.events[-1].sequence)
        for event in batch.events:
            if event.kind is schema.EventKind.REPORT_RATED:
                projection.rated(connection, event.attributes.get(schema.REPORT_ID, ""),
                                 event.attributes.get(schema.RATED_CASE, ""))

    def _ended_spans(self, batch: CaseEventBatch, replay: CaseReplay) -> list[ReadableSpan]:
        active = telemetry.active()
        if active is None:
            return []
        return spans.spans_ended_between(
            replay, batch.events[0].sequence, batch.events[-1].sequence,
            active.provider.resource)

    @activity.defn(name=activities.RECORD_CASE_EVENTS)
    async def record_case_events(self, batch: CaseEventBatch) -> None:
        try:
            await asyncio.to_thread(self._append, batch)
        except ledger.LedgerConflict as err:
            raise activities.ledger_refusal(str(err), "LEDGER_CONFLICT") from err
        except (IntegrityError, OperationalError) as err:
            # A concurrent append of the same batch, or the database busy: try again.
            raise RuntimeError(f"ledger append of {batch.idempotency_key} failed: {err}") \
                from err
