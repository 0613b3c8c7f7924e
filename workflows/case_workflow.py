"""CaseWorkflow: one execution per case, a thin shell around `workflows.rules`.

Updates (one per command, each with a validator, so a refused request writes nothing to
history: `workflows.case_updates`) change the case; one timer waits for the earliest
running clock; two collaborators (`workflows.case_loops`) carry out the deliveries and
notices the rules ask for and append the case's events to the ledger, all through
activities with idempotency keys; a long case continues as new
(`workflows.continuation`). A case's version is asked once, at its opening
(`_version_of_this_run`), of the patches `workflows.versions` declares.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import (
    ApplicationError,
)

with workflow.unsafe.imports_passed_through():
    from seamless.v1 import case_service_pb2
    from workflows import case_loops, continuation, request_trace, seals, search, unopened, versions
    from workflows.case_updates import CaseCommands, CommandReply, refusal_error
    from workflows.rules.case import CaseEngine, answer_key, fingerprint
    from workflows.rules.catalog import CaseRules
    from workflows.rules.commands import (
        Command,
        OpenCase,
    )
    from workflows.rules.effects import (
        Effect,
    )
    from workflows.rules.model import CaseState, CaseStatus, CommandResult, OwnershipInterval
    from workflows.rules.opening import case_id as case_id_of
    from workflows.rules.opening import open_case, subject_digest
    from workflows.rules.refusals import Reason, Refusal
    from workflows.rules.work import work_for
    from workflows.to_proto import as_read, case_to_proto, work_to_proto

# How long a closed case keeps retrying deliveries and notices to an agency that is down
# before it gives up on them and completes (the subject can be opened again after that).
DEFAULT_DRAIN_LIMIT = timedelta(minutes=10)
# The largest case (base64 of its serialized proto) an update's answer carries: a
# usual case is a few KiB, and a run continues as new long before its answers near
# Temporal's 50 MiB.
INLINE_CASE_BYTES = 8 * 1024
# How long before a far deadline its timer wakes, to arm the rest precisely.
EARLY_WAKE = timedelta(seconds=2)
# A clock already due is settled after a timer this short (a zero one would replay as a
# different command).
SHORTEST_TIMER = timedelta(milliseconds=1)
# What a query answers when it reached a run of another case (see CaseWorkflow.case).
NOT_THIS_CASE = "NOT_THIS_CASE"


@dataclass(frozen=True)
class CaseWorkflowInput:
    open: OpenCase
    rules: CaseRules
    drain_limit_seconds: float = DEFAULT_DRAIN_LIMIT.total_seconds()
    # Past this many events of history a run continues as new (or sooner, when the
    # server suggests it).
    continue_after_events: int = continuation.CONTINUE_AFTER_EVENTS
    # What the previous run handed on (continuation.pack); empty in a case's first run.
    carried: str = ""


@dataclass(frozen=True)
class CaseOutcome:
    case_id: str
    owner: str
    closed_at: datetime | None
    tasks: int


def case_message(state: CaseState, rules: CaseRules | None = None) -> str:
    return base64.b64encode(case_to_proto(state, rules).SerializeToString()).decode("ascii")


# The type every case runs as (what the engine's lists and the lock checks look for).
CASE_WORKFLOW = "CaseWorkflow"


def _version_of_this_run() -> int:
    """The version a case opens with: the newest patch this run takes (asked newest first,
    so a new run records the newest marker alone), else the release's."""
    for patch in reversed(versions.ALL):
        if workflow.patched(patch.marker):
            return patch.version
    return versions.RELEASE


@workflow.defn(name=CASE_WORKFLOW)
class CaseWorkflow(CaseCommands):
    @workflow.init
    def __init__(self, input: CaseWorkflowInput | unopened.Unopened) -> None:
        self._refused: Refusal | None = None
        self._opened: CaseEngine | None = None
        # Deliveries and notices the previous run left undone, to start again.
        self._carried_effects: list[Effect] = []
        self._drain_limit = DEFAULT_DRAIN_LIMIT
        self._begin(input)
        # The loops of side effects (workflows.case_loops), made when the run starts, and
        # what tells them the case is closing or the run continuing as new.
        self._flags = case_loops.RunFlags()
        self._ledger: case_loops.LedgerFeed | None = None
        self._effects: case_loops.EffectRunner | None = None
        # What the search attributes last said (owner, status).
        self._indexed: tuple[str, str] | None = None
        # Cleared when the run cannot continue as new (what it would hand on is too
        # large): it runs on, towards Temporal's own limits, and says so in the log.
        self._may_continue = True
        # Set once the case is too large to travel in an update's answer (see _reply).
        self._outgrown = False

    def _begin(self, input: CaseWorkflowInput | unopened.Unopened) -> None:
        """Open the case, resume it from the run before, or refuse the start."""
        if isinstance(input, unopened.Unopened):
            # Not sealed by the platform (a start or a continuation made by hand): no case
            # is opened, nothing is shown or sent, and the run ends at once.
            self._refused = Refusal(Reason.COMMAND_NOT_SEALED, unopened.refusal(input))
            return
        self._drain_limit = timedelta(seconds=input.drain_limit_seconds)
        continued = bool(input.carried) and continuation.is_continuation(workflow.info())
        unsealed = None if continued else seals.start_refusal(input)
        if continued:
            self._resume(continuation.unpack(input.carried), input.rules)
        elif unsealed is not None:
            # Not started by the gateway: no case is opened, nothing is shown or sent, and
            # the run ends at once, releasing the subject.
            self._refused = Refusal(Reason.COMMAND_NOT_SEALED, unsealed)
        else:
            try:
                self._opened = open_case(input.open, input.rules, now=workflow.now(),
                                         trace=request_trace.workflow_start(),
                                         proofs=seals.start_proofs(),
                                         run_id=workflow.info().run_id,
                                         workflow_id=workflow.info().workflow_id,
                                         version=_version_of_this_run())
            except Refusal as refusal:
                # Callers validate before starting, so this means the catalog changed
                # between their check and the start. The run ends at once, releasing the
                # subject.
                self._refused = refusal

    def _resume(self, carry: continuation.CarryOver, rules: CaseRules) -> None:
        info = workflow.info()
        if carry.state.id != case_id_of(info.workflow_id, info.first_execution_run_id):
            # Handed another case: not what a run of this chain hands on.
            self._refused = Refusal(Reason.COMMAND_NOT_SEALED,
                                    "command refused: a continuation of another case")
            return
        if carry.handed_on_by and carry.handed_on_by != info.continued_run_id:
            self._refused = Refusal(Reason.COMMAND_NOT_SEALED,
                                    "command refused: a continuation handed on by another "
                                    "run of the case than the one it follows")
            return
        self._opened = CaseEngine(carry.state, rules, version=carry.version,
                                  events_taken=carry.events_taken)
        self._carried_effects = [pending.effect() for pending in carry.effects]

    @property
    def _engine(self) -> CaseEngine:
        if self._opened is None:
            assert self._refused is not None
            raise refusal_error(self._refused)
        return self._opened

    @workflow.run
    async def run(self, input: CaseWorkflowInput | unopened.Unopened) -> CaseOutcome:
        engine = self._engine
        # A start that did not open was refused by the line above.
        assert isinstance(input, CaseWorkflowInput)
        self._index()
        runner = self._effects = case_loops.EffectRunner(engine, self._flags,
                                                         self._drain_limit)
        feed = self._ledger = case_loops.LedgerFeed(engine, self._flags)
        for effect in self._carried_effects:
            runner.start(effect)
        effects = asyncio.create_task(runner.run())
        ledger = asyncio.create_task(feed.run())
        clocks = asyncio.create_task(self._keep_clocks())
        while True:
            # The ledger loop ends before closing only by raising (a bug in the
            # workflow): let that fail the workflow task at once, not when the case closes.
            await workflow.wait_condition(
                lambda: clocks.done() or ledger.done() or self._history_long(input))
            if ledger.done():
                ledger.result()
            if clocks.done():
                break
            await self._continue_as_new(input, ledger)
        await clocks
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._flags.closing = True
        await ledger
        await effects
        state = engine.state
        return CaseOutcome(state.id, state.owner, state.closed_at, len(state.tasks))

    # ----- continuing as new --------------------------------------------------------

    def _history_long(self, input: CaseWorkflowInput) -> bool:
        if not self._may_continue or self._flags.continuing:
            return False
        info = workflow.info()
        return (info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= input.continue_after_events)

    async def _continue_as_new(self, input: CaseWorkflowInput,
                               ledger: asyncio.Task[None]) -> None:
        """Hand the case to a new run of this workflow (see workflows.continuation).

        Updates finish first (Temporal would fail those still running), and so does a
        ledger append in flight, whose batch the next run could not tell apart from a
        new one: an append that failed for good fails the workflow task here, as it
        would have anyway, rather than be handed on as done. Deliveries and notices
        still running are started again by the next run, which their idempotency keys
        make harmless; new ones wait for it (the wait is an append's, milliseconds unless
        the ledger is down, when the case's record waits anyway)."""
        assert self._effects is not None and self._ledger is not None
        feed, runner = self._ledger, self._effects
        self._flags.continuing = True
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not feed.appending)
        if ledger.done():
            ledger.result()
        engine = self._engine
        state = engine.state
        undone = [*runner.in_flight.values(), *engine.take_effects()]
        carry = continuation.CarryOver(
            state=continuation.lightened(state, engine.events_taken),
            events_taken=engine.events_taken,
            effects=[continuation.PendingEffect.of(effect) for effect in undone],
            version=engine.version, handed_on_by=workflow.info().run_id)
        packed = continuation.pack(carry)
        if len(packed) > continuation.MAX_HAND_ON:
            workflow.logger.error("case %s cannot continue as new: it would hand on %d KiB "
                                  "(at most %d)", state.id, len(packed) // 1024,
                                  continuation.MAX_HAND_ON // 1024)
            self._may_continue, self._flags.continuing = False, False
            return
        workflow.continue_as_new(
            dataclasses.replace(input, carried=packed),
            memo={"title": state.title, continuation.CASE_MEMO: state.id,
                  continuation.OPENED_MEMO: state.opened_at.isoformat()})

    # ----- clocks -------------------------------------------------------------------

    async def _keep_clocks(self) -> None:
        """One timer, for the earliest running clock, re-armed only when that changes.

        What the timer does when it fires depends on the case alone, never on this
        activation's clock (`workflow.now()`): a worker that rebuilds the run to answer a
        query, after a crash and while the timer's workflow task waits on the dead
        worker's queue, is handed the timer's firing with the time of the last task
        before it. Settling what was due "now" then settled nothing and armed another
        timer, a history a clean replay no longer follows (the fault suite's finding).
        So a fired timer settles what was due by the moment it was armed for, stamped
        then (or at the case's latest event, if later: the ledger's times never go back;
        the stamp dates events and decides nothing), the early wake-up below is decided
        from the moment last reached, and no timer is of zero length (zero or not is
        part of a timer's identity on replay; its length is not). After an outage the
        moments passed meanwhile are settled one after the other, each after a short
        timer, a reminder before its miss.
        """
        engine = self._engine
        if engine.version < versions.CLOCKS_FIRE_AT_THEIR_MOMENT.version:
            await self._keep_clocks_by_the_workers_time()
            return
        reached = engine.state.opened_at
        while engine.state.status is CaseStatus.OPEN:
            armed = engine.next_deadline()
            if armed is None:
                await workflow.wait_condition(self._clocks_changed(None))
                continue
            target = armed - EARLY_WAKE if armed - reached > 2 * EARLY_WAKE else armed
            try:
                await workflow.wait_condition(
                    self._clocks_changed(armed),
                    timeout=max(target - workflow.now(), SHORTEST_TIMER))
            except TimeoutError:
                reached = target
                if target == armed:
                    # What fires is what was due by `armed`; the stamp (a delivery's time
                    # may be this activation's) only dates the events.
                    events = engine.state.events
                    engine.tick(max(armed, events[-1].at) if events else armed,
                                due_by=armed)
                    self._index()  # a clock can change whom the case waits on

    async def _keep_clocks_by_the_workers_time(self) -> None:
        """The clocks of a case opened before CLOCKS_FIRE_AT_THEIR_MOMENT, as it ran.

        One timer, for the earliest running clock, re-armed only when that changes.

        The server starts a timer when the workflow task that asked for it completes, but
        the timeout is reckoned from when that task started: a clock armed while the
        worker was busy would fire late by however long its task took (half a second,
        measured under load). So a far clock is armed to wake a little early, and the rest
        is armed from that quick wake-up, which has nothing else to do.
        """
        engine = self._engine
        while engine.state.status is CaseStatus.OPEN:
            armed = engine.next_deadline()
            timeout = None if armed is None else max(armed - workflow.now(), timedelta(0))
            if timeout is not None and timeout > 2 * EARLY_WAKE:
                timeout -= EARLY_WAKE
            try:
                await workflow.wait_condition(self._clocks_changed(armed), timeout=timeout)
            except TimeoutError:
                engine.tick(workflow.now())
                self._index()  # a clock can change whom the case waits on

    def _clocks_changed(self, armed: datetime | None) -> Callable[[], bool]:
        engine = self._engine
        return lambda: (engine.next_deadline() != armed
                        or engine.state.status is not CaseStatus.OPEN)

    # ----- search attributes --------------------------------------------------------

    def _index(self) -> None:
        """Keep the case's search attributes current, writing only when they change.

        The lists do not read them (they read the read model, workflows.projection):
        they are what an operator filters on with Temporal's own tools (type, subject,
        owner, status), which changes at a hand-off and a close, not at every step."""
        state = self._engine.state
        snapshot = (state.owner, state.status.value)
        if snapshot == self._indexed:
            return
        self._indexed = snapshot
        updates: list[SearchAttributeUpdate[Any]] = [
            search.CASE_TYPE.value_set(state.type),
            # The subject's keyed digest, never the subject: the engine shows this to all.
            search.SUBJECT.value_set(subject_digest(workflow.info().workflow_id)),
            search.OWNER.value_set(state.owner),
            search.STATUS.value_set(state.status.value),
        ]
        workflow.upsert_search_attributes(updates)

    # ----- updates ------------------------------------------------------------------

    def _validate(self, cmd: Command) -> None:
        try:
            self._engine.validate(cmd, workflow.now())
        except Refusal as refusal:
            raise refusal_error(refusal) from None

    def _execute(self, cmd: Command) -> CommandReply:
        try:
            # Clocks that passed before this request are settled first, so the request is
            # judged against the case as it stands now (and as its validator judged it).
            result = self._engine.execute(cmd, workflow.now(),
                                          trace=request_trace.current_update(),
                                          proofs=seals.current_proofs())
        except Refusal as refusal:
            raise refusal_error(refusal) from None
        self._index()
        return self._reply(result)

    def _reply(self, result: CommandResult) -> CommandReply:
        """The result, and the case if it is small.

        Temporal keeps every update's answer in the case's history, and the whole case
        in each (tasks, findings, evidence, every act) made a long case's history grow
        with the square of its length. So a case past INLINE_CASE_BYTES is left out and
        the caller reads it with the `case_message` query, which history does not keep;
        a usual case travels in the answer, which spares its caller that query (a
        round trip that waits for the workflow task in flight: 30 ms on a quiet
        machine, hundreds under load).

        A case only grows (events, tasks, text), so once it is past the bound it is not
        serialized again for nothing: for a case of a hundred tasks that took longer
        than Temporal lets a workflow task take."""
        if self._outgrown:
            return CommandReply(result, "")
        case = case_message(self._engine.state, self._engine.rules)
        self._outgrown = len(case) > INLINE_CASE_BYTES
        return CommandReply(result, "" if self._outgrown else case)

    @workflow.update
    def open(self, cmd: OpenCase) -> CommandReply:
        """The answer to an open request: this case, if the request opened it."""
        return self._reply(self._engine.state.answers[answer_key(cmd)][1])

    @open.validator
    def _validate_open(self, cmd: OpenCase) -> None:
        state = self._engine.state
        first = state.answers.get(answer_key(cmd))
        if first is not None and first[0] == fingerprint(cmd):
            return
        if state.status is CaseStatus.CLOSED:
            refusal = Refusal(
                Reason.CASE_CLOSING,
                f"case {state.reference} for {state.subject_key} has just closed and is finishing "
                "its last deliveries; open the new case again in a few minutes",
                case_id=state.id)
        else:
            refusal = Refusal(
                Reason.CASE_ALREADY_OPEN,
                f"case {state.reference} is already open for {state.subject_key}, owned by "
                f"{state.owner}; attach your report to it", case_id=state.id,
                case_number=state.number, owner=state.owner)
        raise refusal_error(refusal)

    # ----- queries ------------------------------------------------------------------

    # Each takes the id of the case the caller means: a query reaches the latest run of
    # the workflow (a continued case's current run), which after that case closed may
    # be a later case of the same subject; that one says so (workflows.client asks the
    # right run then).

    def _answering(self, case_id: str) -> CaseEngine:
        opened = self._opened
        if case_id and (opened is None or case_id != opened.state.id):
            this = "no case" if opened is None else f"case {opened.state.id}"
            raise ApplicationError(f"{NOT_THIS_CASE}: this run is {this}",
                                   type=NOT_THIS_CASE, non_retryable=True)
        return self._engine

    @workflow.query
    def case(self, case_id: str = "") -> CaseState:
        """The whole state (for tests and tools: a long case's is past gRPC's 4 MiB)."""
        return self._answering(case_id).state

    @workflow.query
    def case_to_read(self, case_id: str = "") -> CaseState:
        """The case as the gateway reads it (to_proto.as_read)."""
        return as_read(self._answering(case_id).state)

    @workflow.query
    def case_message(self, case_id: str = "") -> str:
        """The case as a serialized `seamless.v1.Case` (base64): what a command's
        caller is answered with (see CommandReply)."""
        engine = self._answering(case_id)
        return case_message(engine.state, engine.rules)

    @workflow.query
    def ownership(self, case_id: str = "") -> list[OwnershipInterval]:
        return self._answering(case_id).state.ownership

    @workflow.query
    def work(self, agency: str, case_id: str = "") -> str:
        """What the case asks of `agency`, as a serialized `CaseServiceListInboxResponse`
        (base64): an inbox reads this rather than the whole case, a few items instead of
        every task and event, decoded with protobuf (see CommandReply)."""
        engine = self._answering(case_id)
        items = work_for(engine.state, agency, coordinator=engine.rules.directory.coordinator)
        answer = case_service_pb2.CaseServiceListInboxResponse(
            items=work_to_proto(engine.state, items))
        return base64.b64encode(answer.SerializeToString()).decode("ascii")
