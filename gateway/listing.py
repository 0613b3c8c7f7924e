"""The case list: a query of Temporal's visibility store on the case search attributes.

Filter values are checked against the directory, the catalog and the status enum before
they reach the query text, so no request can change the query's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.client import Client, WorkflowExecution

from gateway import page_tokens
from gateway.errors import invalid
from observability import participation
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows import continuation, search
from workflows.catalog_loader import Catalog
from workflows.rules import limits
from workflows.rules.opening import normalize_subject

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_STATUS = {case_pb2.CASE_STATUS_OPEN: "OPEN", case_pb2.CASE_STATUS_CLOSED: "CLOSED"}
_STATUS_VALUE = {name: value for value, name in _STATUS.items()}


@dataclass(frozen=True)
class CasePage:
    cases: list[pb.CaseSummary]
    next_page_token: str


def build_query(request: pb.ListCasesRequest, *, viewer: str, catalog: Catalog) -> str:
    """The visibility query for what `viewer` (an agency, or the oversight body) may see,
    with the request's filters. `viewer` is a verified identity, never request text."""
    directory = catalog.directory
    # A run that failed is no case: a start refused for want of the gateway's seal (one
    # made from the host, with search attributes of its maker's choosing) ends so.
    clauses = ["WorkflowType = 'CaseWorkflow'",
               "(ExecutionStatus = 'Running' OR ExecutionStatus = 'Completed')"]
    if not participation.sees_every_case(viewer, coordinator=directory.coordinator):
        clauses.append(f"{search.PARTICIPANTS.name} = '{viewer}'")
    if request.owner:
        if directory.get(request.owner) is None:
            raise invalid("owner", f"no agency {request.owner!r} in the directory")
        clauses.append(f"{search.OWNER.name} = '{request.owner}'")
    if request.status:
        status = _STATUS.get(request.status)
        if status is None:
            raise invalid("status", f"{request.status} is not OPEN (1) or CLOSED (2)")
        clauses.append(f"{search.STATUS.name} = '{status}'")
    if request.type:
        if request.type not in catalog.playbooks:
            raise invalid("type", f"{request.type!r} is not a case type "
                                  f"({', '.join(sorted(catalog.playbooks))})")
        clauses.append(f"{search.CASE_TYPE.name} = '{request.type}'")
    if request.subject:
        clauses.append(_subject_clause(request.subject))
    return " AND ".join(clauses)


def _subject_clause(subject: str) -> str:
    """Cases about `subject`, however it was spelt: new cases index it normalised, older
    ones as typed (trimmed)."""
    if len(subject) > limits.MAX_SUBJECT:
        raise invalid("subject", f"is {len(subject)} characters; the limit is "
                                 f"{limits.MAX_SUBJECT}", "TEXT_TOO_LONG")
    if any(c in subject for c in "'\"\\") or not subject.isprintable():
        raise invalid("subject", "cannot search for quotes, backslashes or control "
                                 "characters; leave them out")
    spellings = sorted({normalize_subject(subject), subject.strip()})
    listed = ", ".join(f"'{s}'" for s in spellings)
    return f"{search.SUBJECT.name} IN ({listed})"


def page_size(request: pb.ListCasesRequest) -> int:
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"{request.page_size} is not between 0 and {MAX_PAGE_SIZE}")
    return request.page_size or DEFAULT_PAGE_SIZE


def _stamp(execution: WorkflowExecution, memo: Mapping[str, Any], closed: bool
           ) -> tuple[Timestamp, Timestamp | None]:
    opened = Timestamp()
    # A run the case continued as started later than the case: its memo says when.
    started = memo.get(continuation.OPENED_MEMO)
    opened.FromDatetime(datetime.fromisoformat(started) if isinstance(started, str)
                        else execution.start_time)
    if closed and execution.close_time is not None:
        ended = Timestamp()
        ended.FromDatetime(execution.close_time)
        return opened, ended
    return opened, None


async def summary(execution: WorkflowExecution) -> pb.CaseSummary:
    attributes = execution.typed_search_attributes
    status = attributes.get(search.STATUS) or "OPEN"
    memo = await execution.memo()  # decoded locally: the title travels with the listing
    opened, closed = _stamp(execution, memo, status == "CLOSED")
    return pb.CaseSummary(
        id=continuation.case_of_run(execution.id, execution.run_id or "", memo),
        number=attributes.get(search.NUMBER) or "",
        type=attributes.get(search.CASE_TYPE) or "",
        subject_key=attributes.get(search.SUBJECT) or "", title=str(memo.get("title", "")),
        owner=attributes.get(search.OWNER) or "",
        status=_STATUS_VALUE.get(status, case_pb2.CASE_STATUS_UNSPECIFIED), opened_at=opened,
        closed_at=closed)


async def list_cases(client: Client, request: pb.ListCasesRequest, *, viewer: str,
                     catalog: Catalog) -> CasePage:
    query = build_query(request, viewer=viewer, catalog=catalog)
    size = page_size(request)
    # Temporal's token, inside one of ours: what Temporal is handed back is its own.
    iterator = client.list_workflows(query, page_size=size,
                                     next_page_token=page_tokens.opened(request) or None)
    await iterator.fetch_next_page(page_size=size)
    cases = [await summary(execution) for execution in iterator.current_page or []]
    token = iterator.next_page_token
    return CasePage(cases, page_tokens.seal(token, request) if token else "")
