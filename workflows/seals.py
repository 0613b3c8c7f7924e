"""Sealed commands: a case acts only on what the gateway signed.

Temporal's dev server has no authorization: anyone who reaches it could start a case or
send an update naming any actor. So the gateway seals every start and update it sends (a
statement signed with its key, in a Temporal header): which case, which operation, which
request, who acted and how the gateway knew (the officer's session, or the agency's
signed act, which travels beside it), and a digest of the command itself. The worker
checks the seal before anything else:

* an update's seal in the validator (`SealCheck`), which Temporal runs only when the
  update arrives, never on replay, so a later change of keys cannot break a replay; a
  refused update writes nothing to the history;
* a start's seal when the case is created (`start_refusal`, from the workflow's init),
  before anything is opened: an unsealed start ends at once, having sent, recorded and
  shown nothing. A start refused once is marked in the history (a patch marker), so a
  replay knows it was refused without checking again.

The seals (and a forwarded act) become the proofs of the events the command causes, so
the ledger keeps, with every act, who vouched for its actor.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)
from temporalio.worker import Interceptor as WorkerInterceptor

from trust.attestations import ACT_HEADER
from trust.pki import CertificateStore, Role
from trust.statements import (
    COMMAND_SEAL_LIFETIME,
    Signer,
    StatementError,
    StatementType,
    verify,
)
from workflows.rules.refusals import Reason

SEAL_HEADER = "seamless-seal"
START = "start"
# A seal is good for this long after the gateway made it: a command copied out of a
# history cannot be sent again later.
MAX_SEAL_AGE = COMMAND_SEAL_LIFETIME
# Marks a start that was refused, so its replay is refused without checking again.
START_REFUSED = "seamless-start-refused"

_PAYLOADS = PayloadConverter.default


# ----- what a seal covers ------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo is not None else value
        return moment.isoformat(timespec="microseconds")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def digest(value: Any) -> str:
    """SHA-256 of a command (or a start's input) in a canonical JSON form that survives
    Temporal's encoding: the same on the gateway, which sends it, and in the workflow,
    which receives it decoded."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _header(token: str) -> Payload:
    return _PAYLOADS.to_payloads([token])[0]


def _read_header(headers: Mapping[str, Payload], key: str) -> str:
    payload = headers.get(key)
    if payload is None:
        return ""
    try:
        value = _PAYLOADS.from_payloads([payload])[0]
    except Exception:  # a malformed header is as good as a missing one
        return ""
    return value if isinstance(value, str) else ""


# ----- the gateway's side: sealing -----------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Vouch:
    """How the gateway knew who acts: the officer's session, or (for an act an agency
    forwarded) the agency's signed act."""

    session_id: str = ""
    act: str = ""


_NOBODY_VOUCHED = Vouch()
_VOUCH: ContextVar[Vouch] = ContextVar("seamless_vouch", default=_NOBODY_VOUCHED)


@contextmanager
def vouched(vouch: Vouch) -> Iterator[None]:
    """Commands sent meanwhile are sealed as vouched for by `vouch`."""
    token = _VOUCH.set(vouch)
    try:
        yield
    finally:
        _VOUCH.reset(token)


def _actor_of(command: Any) -> dict[str, str]:
    actor = getattr(command, "actor", None) or getattr(getattr(command, "open", None),
                                                      "actor", None)
    if actor is None:
        return {"agency": "", "officer": ""}
    return {"agency": actor.agency, "officer": actor.officer}


def _request_of(command: Any) -> str:
    request = getattr(command, "request_id", None)
    if request is None:
        request = getattr(getattr(command, "open", None), "request_id", "")
    return str(request)


class Sealer(Interceptor):
    """The gateway's client interceptor: seals every start and update it sends."""

    def __init__(self, signer: Signer,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 before_sealing: Callable[[datetime], Awaitable[None]] | None = None
                 ) -> None:
        self._signer = signer
        self._clock = clock
        # Awaited with the moment a seal is to carry, before it is made; what it raises
        # refuses the command unsent (the gateway's check that its clock is one the
        # engine will believe).
        self._before_sealing = before_sealing

    async def moment(self) -> datetime:
        """The moment the next seal carries, once it passed the check before sealing."""
        at = self._clock()
        if self._before_sealing is not None:
            await self._before_sealing(at)
        return at

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _SealingOutbound(next, self)

    def seal(self, *, operation: str, workflow_id: str, run_id: str, command: Any,
             at: datetime | None = None) -> str:
        vouch = _VOUCH.get()
        claims: dict[str, Any] = {
            "wf": workflow_id, "run": run_id, "op": operation,
            "rid": _request_of(command), "actor": _actor_of(command),
            "cmd": digest(command), "sid": vouch.session_id}
        task = getattr(command, "task_id", "")
        if task:  # so the audit can hold a task's event to the command on that task
            claims["task"] = task
        if vouch.act:
            claims["act"] = hashlib.sha256(vouch.act.encode()).hexdigest()
        return self._signer.sign(StatementType.COMMAND, claims,
                                 at=self._clock() if at is None else at)

    def headers(self, headers: Mapping[str, Payload], seal: str) -> dict[str, Payload]:
        added = {**headers, SEAL_HEADER: _header(seal)}
        act = _VOUCH.get().act
        if act:
            added[ACT_HEADER] = _header(act)
        return added


class _SealingOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, sealer: Sealer) -> None:
        super().__init__(next)
        self._sealer = sealer

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        at = await self._sealer.moment()
        seal = self._sealer.seal(operation=START, workflow_id=input.id, run_id="",
                                 command=input.args[0] if input.args else None, at=at)
        input.headers = self._sealer.headers(input.headers, seal)
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                    ) -> WorkflowUpdateHandle[Any]:
        at = await self._sealer.moment()
        # A case is named by its first run (workflows.continuation): the seal names that.
        seal = self._sealer.seal(operation=input.update, workflow_id=input.id,
                                 run_id=input.first_execution_run_id or input.run_id or "",
                                 command=input.args[0] if input.args else None, at=at)
        input.headers = self._sealer.headers(input.headers, seal)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
            self, input: StartWorkflowUpdateWithStartInput) -> WorkflowUpdateHandle[Any]:
        at = await self._sealer.moment()
        start, update = input.start_workflow_input, input.update_workflow_input
        start.headers = self._sealer.headers(start.headers, self._sealer.seal(
            operation=START, workflow_id=start.id, run_id="",
            command=start.args[0] if start.args else None, at=at))
        update.headers = self._sealer.headers(update.headers, self._sealer.seal(
            operation=update.update, workflow_id=start.id, run_id="",
            command=update.args[0] if update.args else None, at=at))
        return await super().start_update_with_start_workflow(input)


# ----- the worker's side: checking -----------------------------------------------------------

class SealRefused(Exception):
    """Why a command's seal does not hold (for the refusal's message)."""


@dataclasses.dataclass(frozen=True)
class SealVerifier:
    """Checks seals against the gateways' certificates, loaded when the worker starts."""

    store: CertificateStore
    max_age: timedelta | None = MAX_SEAL_AGE

    def check(self, headers: Mapping[str, Payload], *, operation: str, workflow_id: str,
              run_id: str, command: Any, now: datetime) -> None:
        token = _read_header(headers, SEAL_HEADER)
        if not token:
            raise SealRefused("it carries no seal of the gateway; send it through the "
                              "gateway")
        try:
            claims = verify(token, self.store, StatementType.COMMAND,
                            roles=(Role.GATEWAY,)).claims
        except StatementError as err:
            raise SealRefused(f"its seal does not hold: {err}") from None
        expected = {"wf": workflow_id, "op": operation, "cmd": digest(command),
                    "actor": _actor_of(command), "rid": _request_of(command)}
        for claim, value in expected.items():
            if claims.get(claim) != value:
                raise SealRefused(f"its seal was made for another command ({claim} differs)")
        if claims.get("run") not in ("", run_id):
            raise SealRefused("its seal was made for another run of the case")
        act = _read_header(headers, ACT_HEADER)
        if claims.get("act", "") != (hashlib.sha256(act.encode()).hexdigest() if act else ""):
            raise SealRefused("the act beside it is not the one the seal vouches for")
        if self.max_age is not None:
            issued = datetime.fromtimestamp(float(claims["iat"]), UTC)
            if not -self.max_age < now - issued < self.max_age:
                raise SealRefused(f"its seal is from {issued.isoformat()}: older than "
                                  f"{self.max_age} (sent again?) or from the future")


def _refusal(problem: SealRefused) -> ApplicationError:
    return ApplicationError(f"command refused: {problem}", {},
                            type=Reason.COMMAND_NOT_SEALED.value, non_retryable=True)



_PROOFS: ContextVar[tuple[str, ...]] = ContextVar("seamless_proofs", default=())


def proofs_of(headers: Mapping[str, Payload]) -> tuple[str, ...]:
    """The seal (and a forwarded act) in a start's or update's headers."""
    return tuple(p for p in (_read_header(headers, SEAL_HEADER),
                             _read_header(headers, ACT_HEADER)) if p)


def current_proofs() -> tuple[str, ...]:
    """The proofs of the update being handled (call from an update handler)."""
    return _PROOFS.get()


def start_proofs() -> tuple[str, ...]:
    """The proofs of the start of this run (call from the workflow)."""
    return proofs_of(workflow.info().headers)


# Each task queue's seal checker: a case checks its own start against it from its init,
# where its input is at hand (an interceptor sees a start only after the case exists).
_START_CHECKERS: dict[str, SealVerifier] = {}


def start_refusal(start_input: Any) -> str | None:
    """Why this run's start is refused, or None: call from the workflow's init.

    The start's seal is checked against the moment Temporal accepted the start (a case
    whose worker was down a while is still opened). On replay the verdict is read from
    the history's marker instead, so a later change of keys cannot change it."""
    if workflow.unsafe.is_replaying():
        return ("command refused: the start was not sealed by the gateway"
                if workflow.patched(START_REFUSED) else None)
    info = workflow.info()
    checker = _START_CHECKERS.get(info.task_queue)
    try:
        if checker is None:
            raise SealRefused("no worker of this task queue checks seals")
        checker.check(info.headers, operation=START, workflow_id=info.workflow_id,
                      run_id=info.run_id, command=start_input, now=info.start_time)
    except SealRefused as problem:
        workflow.patched(START_REFUSED)
        return f"command refused: {problem}"
    return None


class SealCheck(WorkerInterceptor):
    """The worker's interceptor: no seal, no command. It also makes `verifier` the seal
    checker of `task_queue`'s cases for their starts."""

    def __init__(self, verifier: SealVerifier, task_queue: str) -> None:
        self._verifier = verifier
        _START_CHECKERS[task_queue] = verifier

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput
                                   ) -> type[WorkflowInboundInterceptor]:
        verifier = self._verifier

        class Inbound(_SealCheckInbound):
            _seals = verifier

        return Inbound


class _SealCheckInbound(WorkflowInboundInterceptor):
    _seals: SealVerifier

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        info = workflow.info()
        try:
            self._seals.check(input.headers, operation=input.update,
                              workflow_id=info.workflow_id,
                              run_id=info.first_execution_run_id,
                              command=input.args[0] if input.args else None,
                              now=workflow.now())
        except SealRefused as problem:
            raise _refusal(problem) from None
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        # The handler runs in this same asyncio task, so it sees this value.
        token = _PROOFS.set(proofs_of(input.headers))
        try:
            return await super().handle_update_handler(input)
        finally:
            _PROOFS.reset(token)
