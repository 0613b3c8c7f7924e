"""What a caller may give wherever a case id is asked for: the case number
(20261130-0042), the full id, or an id without its run (the latest opening).

Every door that takes a case id resolves it here, so a number works everywhere an id
does, and a reference that names nothing is NOT_FOUND in the same words everywhere.
"""

from __future__ import annotations

import asyncio
import re

import grpc
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.case_numbers import CaseNumbers
from gateway.errors import GatewayError
from observability import ledger
from workflows import continuation, search
from workflows.rules.opening import is_case_number, split_case_id
from workflows.rules.refusals import Reason

# Temporal's run ids: a run part of any other shape belongs to a (legacy) subject.
_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def not_found(reference: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.NOT_FOUND, Reason.CASE_NOT_FOUND.value,
                        f"there is no case {reference}")


def names_a_run(reference: str) -> bool:
    return _RUN_ID.fullmatch(split_case_id(reference)[1]) is not None


class CaseRefs:
    def __init__(self, client: Client, numbers: CaseNumbers) -> None:
        self._client = client
        self._numbers = numbers

    async def case_of_number(self, number: str) -> str | None:
        """The case a number names: from the table, or (when the open crashed before the
        table heard back) from the case's own search attribute, then remembered. Only a
        number this gateway gave out is looked for at all: a run started elsewhere
        claiming a number names nothing."""
        found = await asyncio.to_thread(self._numbers.case_of, number)
        if found is None or found:
            return found
        # The number's shape was checked: it cannot change the query's shape.
        async for execution in self._client.list_workflows(
                f"WorkflowType = 'CaseWorkflow' AND {search.NUMBER.name} = '{number}' AND "
                "(ExecutionStatus = 'Running' OR ExecutionStatus = 'Completed')", limit=1):
            found = continuation.case_of_run(execution.id, execution.run_id or "",
                                             await execution.memo())
            await asyncio.to_thread(self._numbers.bind, number, found)
            return found
        return None

    async def live(self, reference: str) -> str:
        """The full id of a case the engine holds (for reading it or acting on it)."""
        if is_case_number(reference):
            found = await self.case_of_number(reference)
            if found is None:
                raise not_found(reference)
            return found
        if names_a_run(reference):
            return reference
        try:
            description = await self._client.get_workflow_handle(reference).describe()
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise not_found(reference) from None
            raise
        return continuation.case_of_run(description.id, description.run_id or "",
                                        await description.memo())

    def recorded(self, reference: str, ledger_engine: Engine) -> str:
        """The full id of a case as the ledger knows it (also long after the engine has
        forgotten a closed case). Blocking: for the oversight's worker threads."""
        if is_case_number(reference):
            found = self._numbers.case_of(reference) or None
        elif names_a_run(reference):
            found = reference
        else:
            with Session(ledger_engine) as session:
                found = ledger.latest_case_of(session=session, workflow_id=reference)
        if found is None:
            raise not_found(reference)
        return found
