"""The case list: one indexed query of the read model (`observability.projection`).

Filter values are checked against the directory, the catalog and the status enum before
they reach the query, and the query takes them as parameters. The cases a viewer may
see are those it takes part in (`records.participation`), unless it sees every
case; the rows are kept by each case as it records its events, so the list costs the
same however many cases there are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Engine

from gateway import page_tokens
from gateway.errors import invalid
from observability import projection
from records import participation
from records.subjects import subject_identity
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows.catalog_loader import Catalog
from workflows.rules import limits

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_STATUS = {case_pb2.CASE_STATUS_OPEN: "OPEN", case_pb2.CASE_STATUS_CLOSED: "CLOSED"}
_STATUS_VALUE = {name: value for value, name in _STATUS.items()}


@dataclass(frozen=True)
class CasePage:
    cases: list[pb.CaseSummary]
    next_page_token: str


def filters_of(request: pb.ListCasesRequest, *, catalog: Catalog) -> projection.CaseFilter:
    """The request's filters, each checked; a bad one is INVALID_ARGUMENT."""
    directory = catalog.directory
    if request.owner and directory.get(request.owner) is None:
        raise invalid("owner", f"no agency {request.owner!r} in the directory")
    status = ""
    if request.status:
        status = _STATUS.get(request.status, "")
        if not status:
            raise invalid("status", f"{request.status} is not OPEN (1) or CLOSED (2)")
    if request.type and request.type not in catalog.playbooks:
        raise invalid("type", f"{request.type!r} is not a case type "
                              f"({', '.join(sorted(catalog.playbooks))})")
    subject = _subject(request.subject) if request.subject else ""
    if request.subject_begins and not subject:
        raise invalid("subject_begins", "needs the subject's beginning in subject")
    return projection.CaseFilter(owner=request.owner, status=status, case_type=request.type,
                                 subject=subject, subject_begins=request.subject_begins)


def _subject(subject: str) -> str:
    """The identity of the subject searched for (records.subjects): a case is found
    however its subject was spelt, by the lock's own rule."""
    if len(subject) > limits.MAX_SUBJECT:
        raise invalid("subject", f"is {len(subject)} characters; the limit is "
                                 f"{limits.MAX_SUBJECT}", "TEXT_TOO_LONG")
    if not subject.isprintable():
        raise invalid("subject", "cannot search for control characters; leave them out")
    identity = subject_identity(subject)
    if not identity:
        raise invalid("subject", "holds only spaces and separators; give the subject")
    return identity


def page_size(request: pb.ListCasesRequest) -> int:
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"{request.page_size} is not between 0 and {MAX_PAGE_SIZE}")
    return request.page_size or DEFAULT_PAGE_SIZE


def _timestamp(value: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def summary(row: projection.CaseRow) -> pb.CaseSummary:
    return pb.CaseSummary(
        id=row.case_id, number=row.number, type=row.case_type, subject_key=row.subject,
        title=row.title, owner=row.owner,
        status=_STATUS_VALUE.get(row.status, case_pb2.CASE_STATUS_UNSPECIFIED),
        opened_at=_timestamp(row.opened_at),
        closed_at=_timestamp(row.closed_at) if row.closed_at is not None else None)


def _read(ledger: Engine, request: pb.ListCasesRequest, viewer: str, catalog: Catalog
          ) -> tuple[list[projection.CaseRow], projection.CasePosition | None]:
    filters = filters_of(request, catalog=catalog)
    size = page_size(request)
    position = page_tokens.opened(request)
    after = None if position is None else projection.CasePosition.decode(position)
    sees_all = participation.sees_every_case(viewer, coordinator=catalog.directory.coordinator)
    with ledger.connect() as connection:
        return projection.case_page(connection, viewer=None if sees_all else viewer,
                                    filters=filters, size=size, after=after)


async def list_cases(ledger: Engine, request: pb.ListCasesRequest, *, viewer: str,
                     catalog: Catalog) -> CasePage:
    """One page of the cases `viewer` (a verified identity, never request text) may see,
    the newest first."""
    rows, last = await asyncio.to_thread(_read, ledger, request, viewer, catalog)
    return CasePage([summary(row) for row in rows],
                    page_tokens.seal(last.encode(), request) if last is not None else "")
