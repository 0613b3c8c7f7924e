"""What one run of a case hands the next when it continues as new.

Temporal keeps every event of a run, and refuses a run past 51,200 events, 50 MiB or
2,000 updates. A long case (hundreds of requests, each with its answer and the ledger
appends it causes) would walk towards those limits, and every replay of it (a worker
restarting, a query of a case not in the worker's cache) reads the whole history. So a
case continues as a new run of its workflow when the server suggests it or its run
passes `CONTINUE_AFTER_EVENTS`, carrying the case as it stands, how far the ledger has
heard, and the deliveries and notices not yet done (their idempotency keys let the
receiving agency drop a second copy).

The case keeps the id of its first run (rules.opening.case_id): updates reach the chain's
current run through Temporal's `first_execution_run_id`, queries through
`workflows.client`, and the visibility store finds the id in a continued run's memo.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import types
import typing
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import workflow

from workflows.rules.effects import Effect, Notice, TaskDelivery, TaskWithdrawal
from workflows.rules.model import CaseState
from workflows.rules.opening import case_id
from workflows.versions import RELEASE

# Temporal suggests continuing at 4 Ki events (or 4 MiB) on its default settings; this
# is the same number, for servers that say nothing (the time-skipping test server).
CONTINUE_AFTER_EVENTS = 4096
# The most a run hands on (packed): Temporal refuses a start whose input passes 2 MiB,
# and the case's rules and opening request travel beside it.
MAX_HAND_ON = 1536 * 1024
# The memo entries a continued run carries: its case's id and when the case opened
# (a run's own id and start time are no longer the case's).
CASE_MEMO = "case"
OPENED_MEMO = "opened"


@dataclass(frozen=True)
class PendingEffect:
    """One delivery, withdrawal or notice (exactly one is set): Temporal's converter
    cannot tell the members of a union of dataclasses apart, so each has its field."""

    delivery: TaskDelivery | None = None
    withdrawal: TaskWithdrawal | None = None
    notice: Notice | None = None

    @staticmethod
    def of(effect: Effect) -> PendingEffect:
        if isinstance(effect, TaskDelivery):
            return PendingEffect(delivery=effect)
        if isinstance(effect, TaskWithdrawal):
            return PendingEffect(withdrawal=effect)
        return PendingEffect(notice=effect)

    def effect(self) -> Effect:
        found = self.delivery or self.withdrawal or self.notice
        assert found is not None, "a pending effect holds one of the three"
        return found


@dataclass(frozen=True)
class CarryOver:
    state: CaseState
    # How many of the case's events the ledger has been sent.
    events_taken: int
    # In the order they were started: a task's withdrawal after its delivery.
    effects: list[PendingEffect] = field(default_factory=list)
    # The case's version (workflows.versions), decided at its opening.
    version: int = RELEASE
    # The run that handed this on: its successor takes it only from that run, so a
    # genuine hand-on copied out of an earlier run (by a worker of someone else's
    # polling the queue, say) does not wind the case back. (Empty: handed on before.)
    handed_on_by: str = ""


def is_continuation(info: workflow.Info) -> bool:
    """Whether this run is one its previous run continued as, so that what it was handed
    can be trusted: Temporal alone sets `continued_run_id`, but also on a cron schedule's
    or a retry policy's next run, whose input a caller chose (a case has neither). The
    run then also checks that it was handed its own case (CaseWorkflow._resume)."""
    return (info.continued_run_id is not None and not info.cron_schedule
            and info.retry_policy is None)


def lightened(state: CaseState, sent: int) -> CaseState:
    """The case without the proofs of its first `sent` events: the ledger holds those
    (and the case shows none), and they are most of a long case's bytes, signatures
    that do not compress."""
    events = [dataclasses.replace(e, proofs=()) if n < sent else e
              for n, e in enumerate(state.events)]
    return dataclasses.replace(state, events=events)


def pack(carry: CarryOver) -> str:
    """Compressed, then base64: the case's text in UTF-8 rather than JSON's \\u escapes
    (six bytes for a Chinese character's three), so the largest case a run may hold
    (limits.MAX_CASE_TEXT_BYTES of text) fits in one of Temporal's 2 MiB payloads."""
    text = json.dumps(_plain(carry), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    packed = zlib.compress(text.encode("utf-8", "surrogatepass"), 6)
    return base64.b64encode(packed).decode("ascii")


def unpack(packed: str) -> CarryOver:
    text = zlib.decompress(base64.b64decode(packed)).decode("utf-8", "surrogatepass")
    carry: CarryOver = _reader(CarryOver)(json.loads(text))
    return carry


def _plain(value: Any) -> Any:
    """`value` as JSON holds it. (Temporal's encoder goes through `dataclasses.asdict`,
    which copies every value deeply: several times slower, too slow for a long case.)"""
    kind: Any = type(value)
    return _writer(kind)(value)


@functools.cache
def _writer(kind: Any) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(kind):
        names = [f.name for f in dataclasses.fields(kind)]
        return lambda value: {name: _plain(getattr(value, name)) for name in names}
    if issubclass(kind, list | tuple):
        return lambda value: [_plain(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {key: _plain(item) for key, item in value.items()}
    if issubclass(kind, enum.Enum):
        return lambda value: value.value
    if issubclass(kind, datetime):
        return lambda value: value.isoformat()
    return lambda value: value


# Temporal's own `value_to_type` looks at a dataclass's type hints again for every
# value: for a long case's thousands of events and answers that took seconds, past the
# two a workflow task may take. Here each type's reader is made once and kept.
@functools.cache
def _reader(hint: Any) -> Callable[[Any], Any]:
    """A function reading `value` (as json.loads gave it) as `hint`, for the types a
    case is made of: dataclasses, enums, datetimes, optionals, and lists, tuples and
    dicts of them."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        (present,) = [arg for arg in args if arg is not type(None)]
        inner = _reader(present)
        return lambda value: None if value is None else inner(value)
    if dataclasses.is_dataclass(hint):
        fields = {name: _reader(field_hint)
                  for name, field_hint in typing.get_type_hints(hint).items()}
        return lambda value: hint(**{name: fields[name](item)  # type: ignore[operator]
                                     for name, item in value.items() if name in fields})
    if origin is list:
        item_reader = _reader(args[0])
        return lambda value: [item_reader(item) for item in value]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item_reader = _reader(args[0])
        return lambda value: tuple(item_reader(item) for item in value)
    if origin is tuple:
        readers = [_reader(arg) for arg in args]
        return lambda value: tuple(read(item) for read, item in zip(readers, value,
                                                                    strict=True))
    if origin is dict:
        value_reader = _reader(args[1])
        return lambda value: {key: value_reader(item) for key, item in value.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and issubclass(hint, datetime):
        # (`is datetime` would not do: in the workflow sandbox the class is a stand-in.)
        return datetime.fromisoformat
    return lambda value: value


def case_of_run(workflow_id: str, run_id: str, memo: Mapping[str, Any]) -> str:
    """The id of the case a run (from Temporal's visibility store) belongs to: its own,
    or, for a run the case continued as, the one in its memo."""
    return str(memo.get(CASE_MEMO) or case_id(workflow_id, run_id))
