"""The case workflow's versions, declared here alone.

A case's workflow replays its history on every worker that picks it up, so a change to
what the workflow does must leave the runs recorded before it as they ran. Release 1
(tagged `v1.0.0`) is the baseline: every case runs as it does, and the recorded
histories in `tests/workflows/histories/` are of that release. The gates of the months
before it were collapsed into the code at the release, with the histories that still
took their old paths: no deployment held a case opened before it.

A change after the release is a `Patch` below: a marker the run records the first time
it takes the new path (`workflow.patched`), with the date it was added and when it may
go. The workflow asks once, at the case's opening, which patches the run has
(`CaseWorkflow` asks `workflow.patched` of each, newest first) and hands the pure rules
the case's version, a number, never a flag per patch: a rule that changed reads
`if engine.version >= MY_PATCH.version`. A continued run keeps the version its case
was opened with (`workflows.continuation.CarryOver`).

Pure data: the rules import it, and nothing here imports Temporal.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every case opened since release 1 is at least of this version.
RELEASE = 1


@dataclass(frozen=True)
class Patch:
    # The case version this patch brings: RELEASE + 1 for the first, and so on.
    version: int
    # What the run records in its history the first time it takes the new path.
    marker: str
    added: str
    # What changed; a case opened before replays without it.
    what: str
    # When the patch and its old path may go: every case opened before it closed and
    # its history past the namespace's retention, in every deployment.
    remove_when: str


NOTICES_BEFORE_AND_AFTER = Patch(
    version=2, marker="reminders-and-decision-notices", added="2026-12-07",
    what="a reminder to whoever a clock waits on, at a share of its span (the playbook's "
         "remind_at, three quarters by default): one more timer and one more notice per "
         "clock; and a notice to the assignee when its decline or its extension is "
         "decided",
    remove_when="every case opened before 2026-12-07 closed and past retention")

CLOCKS_FIRE_AT_THEIR_MOMENT = Patch(
    version=3, marker="clocks-fire-at-their-moment", added="2026-12-07",
    what="a clock's timer, when it fires, settles what was due at the moment it was "
         "armed for (never the moment the worker happens to run it), wakes early by the "
         "case's own record rather than by the worker's clock, and is never of zero "
         "length: a run rebuilt by a worker that answered a query first (after a crash, "
         "while the timer's task waited) takes the same steps as the run that was "
         "recorded. The fault suite found the old path making histories that no longer "
         "replayed",
    remove_when="every case opened before 2026-12-07 closed and past retention")

# Oldest first.
ALL: tuple[Patch, ...] = (NOTICES_BEFORE_AND_AFTER, CLOCKS_FIRE_AT_THEIR_MOMENT)

# The version a case opened now is of.
LATEST = ALL[-1].version if ALL else RELEASE
