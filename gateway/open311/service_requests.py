"""Reports as GeoReport v2 service requests: what anyone may read of a report and its
case.

GET calls are public (the spec requires no key), so a request shows what the report is
about and how its case stands, never who reported it: the spec's fields carry no contact,
and the reporter's own name, phone or e-mail typed into the description or the address
is masked too. The case is read from the case itself (its status, lead, promised
deadline and answer), briefly cached, a few at a time, so a listing costs the case
engine a bounded amount.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from gateway.open311.fields import REQUEST, TOKEN
from gateway.open311.formats import Value, record
from gateway.open311.services import service_name, service_notice
from gateway.reports import privacy
from gateway.reports.store import Report
from workflows import client as cases
from workflows.dispatch_catalogue import DispatchCatalogue
from workflows.rules.catalog import Directory
from workflows.rules.model import CaseState, CaseStatus

CACHE_SECONDS = 15.0
MAX_CACHED = 5_000
# Cases read at once for one listing; and how long one may take.
CONCURRENT_READS = 8
READ_TIMEOUT = timedelta(seconds=5)
REOPENED_NOTE = "重办：回访不满意，已重新立案 Reopened after the reporter's rating"


class CasesUnavailable(Exception):
    """The case engine did not answer (the caller may try again shortly)."""


@dataclass(frozen=True)
class CaseView:
    """What the public may read of a case."""

    closed: bool
    owner: str = ""
    expected: datetime | None = None
    updated: datetime | None = None
    notes: str = ""


def view_of(case: CaseState) -> CaseView:
    closed = case.status is CaseStatus.CLOSED
    last = case.events[-1].at if case.events else case.opened_at
    return CaseView(
        closed=closed, owner=case.owner, expected=case.promised_line.deadline,
        updated=case.closed_at if closed and case.closed_at else last,
        notes=case.answer if closed else REOPENED_NOTE if case.reopened_from else "")


# A case's run is kept after it ends until the namespace's retention passes; a report
# naming a run that is gone was on a case that closed long ago.
_GONE = CaseView(closed=True)


class CaseViews:
    def __init__(self, client: Client, *, ttl: float = CACHE_SECONDS,
                 max_cached: int = MAX_CACHED) -> None:
        self._client = client
        self._ttl = ttl
        self._max = max_cached
        self._cache: OrderedDict[str, tuple[float, CaseView]] = OrderedDict()
        self._reads = asyncio.Semaphore(CONCURRENT_READS)

    async def view(self, case_id: str) -> CaseView:
        now = time.monotonic()
        cached = self._cache.get(case_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        async with self._reads:
            try:
                async with asyncio.timeout(READ_TIMEOUT.total_seconds()):
                    seen = view_of(await cases.read_case(self._client, case_id))
            except RPCError as err:
                if err.status is not RPCStatusCode.NOT_FOUND:
                    raise CasesUnavailable(case_id) from None
                seen = _GONE
            except TimeoutError:
                raise CasesUnavailable(case_id) from None
        self._cache.pop(case_id, None)
        self._cache[case_id] = (time.monotonic(), seen)
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return seen

    async def views(self, case_ids: Iterable[str]) -> dict[str, CaseView]:
        wanted = sorted({c for c in case_ids if c})
        found = await asyncio.gather(*(self.view(c) for c in wanted))
        return dict(zip(wanted, found, strict=True))


def status_of(report: Report, view: CaseView | None) -> str:
    # A report not on a case yet has been reported, and nothing else: open.
    return "closed" if view is not None and report.case_id and view.closed else "open"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back the UTC times it was given without their zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def w3c(moment: datetime | None, zone: tzinfo) -> str | None:
    """The spec's date and time: W3C (ISO 8601) to the second, with the offset."""
    if moment is None:
        return None
    return _aware(moment).astimezone(zone).isoformat(timespec="seconds")


def public_text(text: str, report: Report) -> str:
    """`text` with the reporter's own contact masked (`gateway.reports.privacy`)."""
    return privacy.mask_text(text, name=report.contact_name, phone=report.contact_phone,
                             email=report.contact_email)


def request_record(report: Report, view: CaseView | None, *, dispatch: DispatchCatalogue,
                   directory: Directory, zone: tzinfo) -> dict[str, Value]:
    service = dispatch.service(report.service_code)
    agency = directory.get(view.owner) if view is not None and view.owner else None
    stamps = [_aware(t) for t in (report.received_at, report.routed_at,
                                  view.updated if view else None) if t is not None]
    closed = status_of(report, view) == "closed"
    updated = view.updated if closed and view is not None and view.updated else max(stamps)
    media = report.media()
    return record(
        REQUEST, service_request_id=report.id, status=status_of(report, view),
        status_notes=view.notes if view is not None else None,
        service_name=service_name(service) if service else report.service_code,
        service_code=report.service_code,
        description=public_text(report.description, report),
        agency_responsible=f"{agency.name_zh} {agency.name_en}" if agency else None,
        service_notice=service_notice(service) if service else None,
        requested_datetime=w3c(report.received_at, zone),
        updated_datetime=w3c(updated, zone),
        expected_datetime=w3c(view.expected, zone) if view is not None else None,
        address=public_text(report.address, report), address_id=None, zipcode=None,
        lat=report.lat, long=report.lon, media_url=media[0] if media else None)


def token_record(report: Report) -> dict[str, Value]:
    """The request's id once it is on a case; until then the token alone."""
    return record(TOKEN, service_request_id=report.id if report.case_id else None,
                  token=report.token)
