"""Every version gate of the case workflow, declared here alone.

A case's workflow replays its history on every worker that picks it up, so a change to
what the workflow does must leave the runs recorded before it as they ran: each such
change is a patch (`workflow.patched`), a marker the run records the first time it
takes the new path. Each is listed with the date it was added and when it may go: a
patch may be removed once no deployment holds a case that ran before it (every such
case closed and its history past the namespace's retention), together with the
recorded histories in `tests/workflows/histories/` that still take the old path.

A case started since `CURRENT` has every behaviour below behind that one marker: each
marker was an event in every case's history, and an upsert of Temporal's change-version
attribute besides. A case started before keeps the markers its history recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow


@dataclass(frozen=True)
class Patch:
    marker: str
    added: str
    # What changed; a case started before replays without it.
    what: str


# Deliveries became ledger events (TASK_DELIVERED).
DELIVERY_EVENTS = Patch("ledger-delivery-events", "2026-11-22",
                        "deliveries recorded as TASK_DELIVERED events")
# Notices' receipts became ledger events (NOTICE_DELIVERED).
NOTICE_RECEIPTS = Patch("ledger-notice-receipts", "2026-11-30",
                        "notices' receipts recorded as NOTICE_DELIVERED events")
# A task's clocks must run in order (sign-for, on scene, due); cases opened before may
# hold tasks whose do not.
CLOCK_ORDER = Patch("clocks-in-order", "2026-11-30", "a task's clocks run in order")
# A decline's suggestion must be able to do the work; cases opened before accepted any.
SUGGESTIONS = Patch("decline-suggestions-checked", "2026-11-30",
                    "a decline's suggested agency is checked")
# The agencies a case waits on became a search attribute.
AWAITING = Patch("awaiting-index", "2026-11-30",
                 "the agencies a case waits on kept in a search attribute")
# Ledger appends became regular activities (see LedgerFeed in workflows.case_loops);
# cases running before keep their local ones.
LEDGER_ACTIVITY = Patch("ledger-appends-in-history", "2026-12-01",
                        "ledger appends as regular activities, in history before they run")
# A case's requests and text became bounded (limits.check_case_size).
SIZE = Patch("case-size-bounded", "2026-12-01", "a case's requests and text bounded")
# Long cases continue as new (see workflows.continuation).
CONTINUE = Patch("continue-as-new", "2026-12-01", "long cases continue as new")
# Each ledger batch carries what the lists show of the case (workflows.projection), and
# the lists read that instead of the search index: the participants and the agencies
# the case waits on are no longer upserted.
PROJECTION = Patch("read-model", "2026-12-07",
                   "ledger batches carry the read model; the search index is not upserted")

ALL = (DELIVERY_EVENTS, NOTICE_RECEIPTS, CLOCK_ORDER, SUGGESTIONS, AWAITING,
       LEDGER_ACTIVITY, SIZE, CONTINUE, PROJECTION)
CURRENT = PROJECTION


def behaves(patch: Patch) -> bool:
    """Whether this run has the behaviour `patch` versions (inside a workflow only)."""
    return workflow.patched(CURRENT.marker) or workflow.patched(patch.marker)
