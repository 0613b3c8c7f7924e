"""Which function checks and applies each command type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine
    from workflows.rules.model import CommandResult

Operation = Callable[["CaseEngine", Any, datetime, bool], "CommandResult | None"]
_OPERATIONS: dict[type, Operation] = {}


def operation(command_type: type) -> Callable[[Operation], Operation]:
    """Register the function that checks (and, when applying, carries out) a command."""

    def register(func: Operation) -> Operation:
        _OPERATIONS[command_type] = func
        return func

    return register


def operation_for(cmd: object) -> Operation:
    return _OPERATIONS[type(cmd)]
