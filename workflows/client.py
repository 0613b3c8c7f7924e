"""How callers (the gateway, tests, tools) open cases and send them commands."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistoryEventFilterType,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.converter import value_to_type
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from seamless.v1 import case_service_pb2
from workflows import envelopes, search
from workflows.case_updates import UPDATE_FOR_COMMAND, CommandReply
from workflows.case_workflow import (
    CASE_WORKFLOW,
    DEFAULT_DRAIN_LIMIT,
    CaseWorkflow,
    CaseWorkflowInput,
)
from workflows.catalog_loader import Catalog
from workflows.continuation import CONTINUE_AFTER_EVENTS
from workflows.ratings import RateReport, RatingWorkflow, rating_workflow_id
from workflows.rules.case import fingerprint
from workflows.rules.commands import AttachReport, Command, OpenCase
from workflows.rules.model import CaseState, CommandResult, OwnershipInterval
from workflows.rules.opening import (
    check_open_request,
    split_case_id,
    subject_lock,
)
from workflows.rules.refusals import Reason, Refusal, is_reason

TASK_QUEUE = "seamless-cases"


class CaseRefused(Exception):
    """The case refused a request. `reason` is the stable code; `details` may name ids."""

    def __init__(self, reason: str, message: str, details: dict[str, str]) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details


def _refused(err: WorkflowUpdateFailedError) -> CaseRefused:
    """The rules' refusal inside a failed update; anything else is re-raised as it is."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type and is_reason(cause.type):
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) \
            else {}
        return CaseRefused(cause.type, cause.message, details)
    raise err


async def open_case(client: Client, catalog: Catalog, cmd: OpenCase, *,
                    task_queue: str = TASK_QUEUE,
                    drain_limit: timedelta = DEFAULT_DRAIN_LIMIT,
                    continue_after_events: int = CONTINUE_AFTER_EVENTS) -> CommandResult:
    """Open a case (see `open_case_reply`); the result alone."""
    reply = await open_case_reply(client, catalog, cmd, task_queue=task_queue,
                                  drain_limit=drain_limit,
                                  continue_after_events=continue_after_events)
    return reply.result


# Gives an open request that passed every check its case number (the gateway's).
Numbering = Callable[[OpenCase], Awaitable[str]]


async def open_case_reply(client: Client, catalog: Catalog, cmd: OpenCase, *,
                          task_queue: str = TASK_QUEUE,
                          drain_limit: timedelta = DEFAULT_DRAIN_LIMIT,
                          numbering: Numbering | None = None,
                          number_of_retry: Numbering | None = None,
                          continue_after_events: int = CONTINUE_AFTER_EVENTS
                          ) -> CommandReply:
    """Open a case, or join the answer of an identical earlier request.

    One open case per (case type, subject): the subject lock is the workflow id, so of two
    concurrent opens one starts the workflow and the other's update is refused with
    CASE_ALREADY_OPEN naming the case and its owner. Once a case has closed, its subject
    can be opened again, as a new case (a new run, so a new case id).
    """
    return await _start_with(client, catalog, cmd, "open", lambda opening: opening,
                             task_queue=task_queue, drain_limit=drain_limit,
                             numbering=numbering, number_of_retry=number_of_retry,
                             continue_after_events=continue_after_events)


async def _start_with(client: Client, catalog: Catalog, cmd: OpenCase, update: str,
                      argument: Callable[[OpenCase], Command | OpenCase], *,
                      task_queue: str, drain_limit: timedelta,
                      numbering: Numbering | None, number_of_retry: Numbering | None = None,
                      continue_after_events: int = CONTINUE_AFTER_EVENTS) -> CommandReply:
    """`update`, with `argument` of the (numbered) open command, on the case of `cmd`'s
    subject lock, starting the case from `cmd` if none is running: one atomic step of
    Temporal's (update-with-start), so the subject check and what follows from it cannot
    be split by another request. A number is asked for (`numbering`) only when no case of
    the subject is running; when one is, the request may be a retry of the open that
    started it, which must send the number it got then (`number_of_retry`, '' for a
    request that got none: it is refused as a duplicate, and uses no number up)."""
    rules = catalog.rules_for(cmd.type)
    if rules is None:
        known = ", ".join(sorted(catalog.playbooks))
        raise CaseRefused(Reason.UNKNOWN_CASE_TYPE.value,
                          f"type: {cmd.type!r} is not a case type ({known})", {"field": "type"})
    try:
        check_open_request(cmd, rules)
    except Refusal as refusal:
        raise CaseRefused(refusal.reason.value, refusal.message, refusal.details) from None
    workflow_id = subject_lock(cmd.type, cmd.subject_key,
                               envelopes.subject_secret(client.data_converter))
    held = await _held(client, workflow_id, task_queue)
    if numbering is not None and not cmd.number:
        asked = numbering if not held else number_of_retry
        number = await asked(cmd) if asked is not None else ""
        if number:
            cmd = dataclasses.replace(cmd, number=number)
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseWorkflowInput(open=cmd, rules=rules,
                          drain_limit_seconds=drain_limit.total_seconds(),
                          continue_after_events=continue_after_events),
        id=workflow_id, task_queue=task_queue,
        # The case list shows titles without asking each case.
        memo={"title": cmd.title},
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(search.NUMBER, cmd.number)] if cmd.number else []),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    try:
        request = argument(cmd)
        outcome = await _making_room(lambda: client.execute_update_with_start_workflow(
            update, request, start_workflow_operation=start, id=update_id(request),
            result_type=dict))
    except WorkflowUpdateFailedError as err:
        raise _refused(err) from None
    return await _as_reply(client, outcome)


async def report_to_case(client: Client, catalog: Catalog, cmd: OpenCase,
                         attach: AttachReport, *, task_queue: str = TASK_QUEUE,
                         numbering: Numbering | None = None) -> CommandReply:
    """并单, atomically with the subject check: attach a report to the open case of its
    (type, subject), or open that case with the report.

    One update-with-start on the subject lock: of twenty reports racing on one subject,
    one starts the case (holding its own report from the start) and the others attach to
    it. A retry of the same report finds it attached and changes nothing. The number is
    asked for only when no case of the subject is running (so merged reports do not use
    numbers up); a case closed but still draining refuses with CASE_CLOSING, and the
    report is routed again later.
    """
    return await _start_with(client, catalog, cmd, UPDATE_FOR_COMMAND[AttachReport],
                             lambda _opening: attach, task_queue=task_queue,
                             drain_limit=DEFAULT_DRAIN_LIMIT, numbering=numbering)


async def _held(client: Client, workflow_id: str, task_queue: str) -> bool:
    """Whether a case of the platform's holds the lock `workflow_id` now.

    The engine takes a start from anyone who reaches it, so a workflow of someone else's
    may run under a lock it has seen (a closed case's), on a queue the platform does not
    serve, where no case's update would ever be answered: such a squatter is terminated,
    saying why, and the lock is free again. Only the platform's own queue is trusted."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status in _NO_SUCH_RUN:
            return False
        raise
    if description.status is not WorkflowExecutionStatus.RUNNING:
        return False
    if (description.task_queue, description.workflow_type) == (task_queue, CASE_WORKFLOW):
        return True
    await client.get_workflow_handle(workflow_id, run_id=description.run_id).terminate(
        reason=f"squatting the subject lock: a {description.workflow_type[:80]} on queue "
               f"{description.task_queue[:80]!r}, which the platform does not serve")
    log.warning("terminated a %s on queue %r squatting the subject lock %s",
                description.workflow_type[:80], description.task_queue[:80], workflow_id)
    return False


class AlreadyRated(Exception):
    """The report has its rating already (a report is rated once)."""


async def record_rating(client: Client, rating: RateReport, *, again: bool = False,
                        task_queue: str = TASK_QUEUE) -> str:
    """Record a report's rating in the ledger (a chain of its own); its chain id.
    `again`: the rated case reopened the matter (ratings.rating_workflow_id)."""
    try:
        chain: str = await client.execute_workflow(
            RatingWorkflow.run, rating,
            id=rating_workflow_id(rating.report_id,
                                  envelopes.subject_secret(client.data_converter),
                                  rated_case=rating.rated_case, again=again),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    except WorkflowAlreadyStartedError:
        raise AlreadyRated(rating.report_id) from None
    except WorkflowFailureError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type and is_reason(cause.type):
            raise CaseRefused(cause.type, cause.message, {}) from None
        raise
    return chain


async def recorded_rating(client: Client, report_id: str, rated_case: str, *,
                          again: bool = False) -> RateReport:
    """The rating a report got of `rated_case` (the input of its run: the ledger's event
    was made from it), for an intake that finds the report rated but its own record of
    it missing."""
    handle = client.get_workflow_handle(rating_workflow_id(
        report_id, envelopes.subject_secret(client.data_converter), rated_case=rated_case,
        again=again))
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (rating,) = await client.data_converter.decode(started.input.payloads, [RateReport])
    if not isinstance(rating, RateReport):
        raise TypeError(f"the rating run of {report_id} holds no rating")
    return rating


def update_id(cmd: Command | OpenCase) -> str:
    """The Temporal update id: the request id plus a digest of the request.

    Temporal answers a repeated update id with the first outcome without asking the
    workflow, which makes retries cheap. Folding the request's content into the id keeps
    that for true retries, while a request id reused for a *different* request reaches
    the workflow, which refuses it (REQUEST_ID_REUSED) instead of silently answering
    with the other request's result.
    """
    digest = hashlib.sha256(fingerprint(cmd).encode()).hexdigest()[:16]
    return f"{cmd.request_id}/{digest}"


def case_handle(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    """The handle that sends updates to this case: to the current run of the chain its
    first run began (a case continues as new, workflows.continuation), so a request meant
    for a closed case never reaches a later case of the same subject."""
    workflow_id, first_run = split_case_id(case_id)
    return client.get_workflow_handle(workflow_id, first_execution_run_id=first_run or None)


def _first_run(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    workflow_id, first_run = split_case_id(case_id)
    return client.get_workflow_handle(workflow_id, run_id=first_run or None)


# How many times a case may have continued as new before a reader stops following it
# (limits.MAX_REQUESTS_PER_CASE requests make a few dozen runs).
MAX_RUNS = 1000


async def _last_run(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    """The handle of the case's current (or final) run, followed run by run from its
    first: each run that continued as new names the next in its closing event."""
    workflow_id, run = split_case_id(case_id)
    for _ in range(MAX_RUNS):
        handle = client.get_workflow_handle(workflow_id, run_id=run or None)
        following = ""
        async for event in handle.fetch_history_events(
                event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
            following = event.workflow_execution_continued_as_new_event_attributes \
                .new_execution_run_id
        if not following:
            return handle
        run = following
    raise RuntimeError(f"case {case_id} continued as new more than {MAX_RUNS} times")


async def _query(client: Client, case_id: str, query: Any, *args: Any,
                 rpc_timeout: timedelta | None = None) -> Any:
    """Ask the case `query`: its workflow's latest run is the case's current run while
    the case is open, and the run tells when it belongs to another (a later case of the
    subject: NOT_THIS_CASE); then, or when the latest run cannot answer at all (a later
    start refused, say), the case's own final run is found and asked. A legacy id names
    no run: its workflow's latest run is the case."""
    workflow_id, first_run = split_case_id(case_id)
    latest = client.get_workflow_handle(workflow_id)
    meant = case_id if first_run else ""
    try:
        return await latest.query(query, args=[*args, meant], rpc_timeout=rpc_timeout)
    except WorkflowQueryFailedError:
        if not first_run:
            raise
    own = await _last_run(client, case_id)
    return await own.query(query, args=[*args, meant], rpc_timeout=rpc_timeout)


log = logging.getLogger(__name__)
# What Temporal answers for a case id that names no run: no such workflow, or a run id
# that is not one at all.
_NO_SUCH_RUN = (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT)


async def _missing(client: Client, case_id: str) -> CaseRefused:
    """Why a case did not answer: it has closed, or there is no such case."""
    try:
        await _first_run(client, case_id).describe()
    except RPCError as err:
        if err.status in _NO_SUCH_RUN:
            return CaseRefused(Reason.CASE_NOT_FOUND.value, f"there is no case {case_id}", {})
        raise
    return CaseRefused(Reason.CASE_CLOSED.value, f"case {case_id} is closed", {})


async def send(client: Client, case_id: str, cmd: Command) -> CommandResult:
    """Send one command to a case (see `send_reply`); the result alone, without reading
    a large case that its answer left out."""
    return _result(await _update(client, case_id, cmd))


async def send_reply(client: Client, case_id: str, cmd: Command) -> CommandReply:
    """Send one command to a case; raises CaseRefused with the rules' reason. The reply
    holds the case as the command left it."""
    return await _as_reply(client, await _update(client, case_id, cmd))


async def _update(client: Client, case_id: str, cmd: Command) -> dict[str, Any]:
    handle = case_handle(client, case_id)
    try:
        outcome: dict[str, Any] = await _making_room(lambda: handle.execute_update(
            UPDATE_FOR_COMMAND[type(cmd)], cmd, id=update_id(cmd), result_type=dict))
    except WorkflowUpdateFailedError as err:
        raise _refused(err) from None
    except RPCError as err:
        if err.status in _NO_SUCH_RUN:
            raise await _missing(client, case_id) from None
        raise
    return outcome


T = TypeVar("T")
# Temporal holds at most ten updates of one workflow in flight and refuses the
# eleventh (RESOURCE_EXHAUSTED): twenty citizens calling about one quarry at once must
# all get through, so a refused update waits its turn, briefly. The update id makes
# every try the same update.
ROOM_TRIES = 8
ROOM_FIRST_WAIT = 0.05


async def _making_room(send: Callable[[], Awaitable[T]]) -> T:
    wait = ROOM_FIRST_WAIT
    for _ in range(ROOM_TRIES - 1):
        try:
            return await send()
        except RPCError as err:
            if err.status is not RPCStatusCode.RESOURCE_EXHAUSTED:
                raise
        await asyncio.sleep(wait * (0.5 + random.random()))  # noqa: S311 - jitter
        wait *= 2
    return await send()


async def _as_reply(client: Client, outcome: dict[str, Any]) -> CommandReply:
    """The reply, with the case: the one the answer carries, or else read from the case.

    An update leaves a large case out of its answer (CaseWorkflow._reply). Temporal
    answers a retried update id with the outcome it stored the first time, which for
    updates finished long ago may be a bare CommandResult (from before answers held the
    case).
    """
    result = _result(outcome)
    if outcome.get("case"):
        return CommandReply(result, outcome["case"])
    case: str = await _query(client, result.case_id, CaseWorkflow.case_message)
    return CommandReply(result, case)


def _result(outcome: dict[str, Any]) -> CommandResult:
    result: CommandResult = value_to_type(CommandResult, outcome.get("result", outcome))
    return result


async def get_case(client: Client, case_id: str) -> CaseState:
    """The case's whole state, answers to retries and every event included (tests and
    tools; a reader wants `read_case`)."""
    case: CaseState = await _query(client, case_id, CaseWorkflow.case)
    return case


async def read_case(client: Client, case_id: str) -> CaseState:
    """The case as it is shown (to_proto.as_read), however long it has run."""
    case: CaseState = await _query(client, case_id, CaseWorkflow.case_to_read)
    return case


async def get_work(client: Client, case_id: str, agency: str, *,
                   timeout: timedelta | None = None) -> list[case_service_pb2.WorkItem]:
    """What the case asks of `agency` (rules.work), as of its last change: what depends
    on the moment (time left, overdue) is the reader's to add."""
    answer = await _query(client, case_id, CaseWorkflow.work, agency, rpc_timeout=timeout)
    return list(case_service_pb2.CaseServiceListInboxResponse.FromString(
        base64.b64decode(answer)).items)


async def get_ownership(client: Client, case_id: str) -> list[OwnershipInterval]:
    ownership: list[OwnershipInterval] = await _query(client, case_id, CaseWorkflow.ownership)
    return ownership
