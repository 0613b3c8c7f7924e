"""Reports as GeoReport v2 service requests: what anyone may read of a report and its
case.

GET calls are public (the spec requires no key), so a request shows what the report is
about and how its case stands, never who reported it: the spec's fields carry no contact,
and the reporter's own name, phone or e-mail typed into the description or the address
is masked too. How each case stands (its status, lead, promised deadline and answer) is
read from the read model (`observability.projection`) with one indexed query for a
whole listing: a listing never asks the case engine, whatever it lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine

from gateway.open311.fields import REQUEST, TOKEN
from gateway.open311.formats import Value, record
from gateway.open311.services import service_name, service_notice
from gateway.reports import privacy
from gateway.reports.store import Report
from observability import projection
from workflows.dispatch_catalog import DispatchCatalog
from workflows.rules.catalog import Directory

REOPENED_NOTE = "重办：回访不满意，已重新立案 Reopened after the reporter's rating"


@dataclass(frozen=True)
class CaseView:
    """What the public may read of a case."""

    closed: bool
    owner: str = ""
    expected: datetime | None = None
    updated: datetime | None = None
    notes: str = ""


def view_of(case: projection.CaseRow) -> CaseView:
    closed = case.status == "CLOSED"
    return CaseView(
        closed=closed, owner=case.owner, expected=case.promised_by,
        updated=case.closed_at if closed and case.closed_at else case.updated_at,
        notes=case.answer if closed else REOPENED_NOTE if case.reopened_from else "")


class CaseViews:
    """How the cases of a listing stand, from the read model."""

    def __init__(self, ledger: Engine) -> None:
        self._ledger = ledger

    def _read(self, case_ids: list[str]) -> dict[str, CaseView]:
        with self._ledger.connect() as connection:
            rows = projection.cases_by_id(connection, case_ids)
        return {case_id: view_of(row) for case_id, row in rows.items()}

    async def views(self, case_ids: Iterable[str]) -> dict[str, CaseView]:
        """The views of those of these cases the ledger has heard of (a case opened a
        moment ago may not be there yet: its reports read as open until it is)."""
        wanted = sorted({c for c in case_ids if c})
        return await asyncio.to_thread(self._read, wanted) if wanted else {}

    async def view(self, case_id: str) -> CaseView | None:
        return (await self.views([case_id])).get(case_id)


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


def request_record(report: Report, view: CaseView | None, *, dispatch: DispatchCatalog,
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
