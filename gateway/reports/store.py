"""The report table: one row per report, in the gateway's own database.

A report is written before it is routed, so an intake that crashes half way loses
nothing: the row waits, unrouted, for the next routing pass. Its id (the Open311
`service_request_id`) is known at once; its case once routed.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Column, DateTime, Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, or_, select

from gateway.reports import photos

# Reports taken in at once race for the day's next number; each loser looks again.
_ATTEMPTS = 50
MAX_MEDIA_URLS = 5
MAX_MEDIA_URL = 512
# The attributes' and the media links' columns, as JSON (the intake refuses more).
MAX_ENCODED = 6000


def encode_attributes(attributes: dict[str, str]) -> str:
    return json.dumps(attributes, ensure_ascii=False)


def encode_media(urls: list[str]) -> str:
    return json.dumps(urls, ensure_ascii=False)


class Report(SQLModel, table=True):
    __tablename__ = "report"

    # R20261130-0007: the local day it was received and that day's sequence.
    id: str = Field(primary_key=True, max_length=20)
    day: str = Field(max_length=8, index=True)
    sequence: int = Field(ge=1)
    # What makes a retried submission the same report (the submitter and its request
    # id): a retry gets the first report back rather than a second one.
    request_key: str = Field(max_length=64, unique=True)
    # Open311's token: what a client polls until the request has its id.
    token: str = Field(max_length=40, unique=True)
    channel: str = Field(max_length=16)
    service_code: str = Field(max_length=64, index=True)
    description: str = Field(default="", max_length=4000)
    address: str = Field(default="", max_length=200)
    lat: float | None = None
    lon: float | None = None
    jurisdiction: str = Field(default="", max_length=64)
    area: str = Field(default="", max_length=64)
    subject: str = Field(default="", max_length=128)
    # The service definition's answers, as a JSON object of code -> value.
    attributes: str = Field(default="{}", max_length=MAX_ENCODED)
    # At most MAX_MEDIA_URLS of MAX_MEDIA_URL characters, as a JSON list.
    media_urls: str = Field(default="[]", max_length=MAX_ENCODED)
    # Personal data: never logged, traced or exported; masked for every other viewer.
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str = Field(default="", max_length=32)
    contact_email: str = Field(default="", max_length=254)
    # Who took it in: an officer ("agency/officer") or an Open311 client ("open311/key").
    received_by: str = Field(max_length=140)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The case it belongs to; empty until routed.
    case_id: str = Field(default="", max_length=300, index=True)
    case_number: str = Field(default="", max_length=16)
    routed_at: datetime | None = Field(default=None,
                                       sa_column=Column(DateTime(timezone=True)))
    # Why the last routing attempt failed (for the operator), empty once routed; when,
    # so the retries go round every waiting report; and whether it is parked: refused
    # for good (by the case's rules, or a catalog changed since), waiting for a person.
    routing_problem: str = Field(default="", max_length=500)
    attempted_at: datetime | None = Field(default=None,
                                          sa_column=Column(DateTime(timezone=True)))
    parked: bool = False
    # 回访/评价: the reporter's rating after close, recorded by the hotline.
    solved: bool | None = None
    satisfaction: str = Field(default="", max_length=24)
    rated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    rated_by: str = Field(default="", max_length=140)
    # The case that reopened the matter (重办), when the rating did.
    reopened_as: str = Field(default="", max_length=300)
    # The case the rating (the latest) was of: a report that has moved on to a reopened
    # case is followed up again once that one closes.
    rated_case: str = Field(default="", max_length=300)

    @property
    def rated_here(self) -> bool:
        """Rated on the case it follows now."""
        return self.rated_at is not None and self.rated_case == self.case_id

    def attribute_map(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.attributes)
        return loaded

    def media(self) -> list[str]:
        loaded: list[str] = json.loads(self.media_urls)
        return loaded


@dataclass(frozen=True)
class ReportDraft:
    """A report as submitted, before it has an id."""

    channel: str
    service_code: str
    description: str = ""
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    jurisdiction: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    media_urls: tuple[str, ...] = ()
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class ReportFilter:
    """GET /requests' filters: ids, service codes, status, a time window."""

    ids: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    # Only reports that came in through these channels (empty: every channel).
    channels: Sequence[str] = ()
    case_ids: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 50
    # Only reports of closed cases awaiting a rating (the follow-up list).
    unrated_only: bool = False


class ReportStore:
    def __init__(self, engine: Engine, zone: tzinfo) -> None:
        self._engine = engine
        self._zone = zone

    def keep_photo(self, photo: photos.Prepared) -> None:
        with Session(self._engine) as session:
            photos.keep(session, photo)

    def public_photo(self, public_sha256: str) -> bytes | None:
        with Session(self._engine) as session:
            return photos.public_copy(session, public_sha256)

    def add(self, draft: ReportDraft, *, request_key: str, received_by: str, area: str,
            jurisdiction: str, subject: str, now: datetime) -> Report:
        """Store a new report (or return the one this request already made)."""
        day = now.astimezone(self._zone).strftime("%Y%m%d")
        for _ in range(_ATTEMPTS):
            with Session(self._engine, expire_on_commit=False) as session:
                known = session.exec(select(Report).where(
                    Report.request_key == request_key)).first()
                if known is not None:
                    return known
                last = session.exec(select(func.max(Report.sequence)).where(
                    Report.day == day)).one()
                sequence = (last or 0) + 1
                report = Report(
                    id=f"R{day}-{sequence:04d}", day=day, sequence=sequence,
                    request_key=request_key, token=secrets.token_hex(16),
                    channel=draft.channel, service_code=draft.service_code,
                    description=draft.description, address=draft.address, lat=draft.lat,
                    lon=draft.lon, jurisdiction=jurisdiction, area=area, subject=subject,
                    attributes=encode_attributes(dict(draft.attributes)),
                    media_urls=encode_media(list(draft.media_urls)),
                    contact_name=draft.contact_name, contact_phone=draft.contact_phone,
                    contact_email=draft.contact_email, received_by=received_by,
                    received_at=now.astimezone(UTC))
                session.add(report)
                try:
                    session.commit()
                    return report
                except IntegrityError:
                    session.rollback()  # the id (or this request) was taken meanwhile
                    time.sleep(random.uniform(0, 0.01))
        raise RuntimeError(f"could not number a report for {day} in {_ATTEMPTS} tries")

    def get(self, report_id: str) -> Report | None:
        with Session(self._engine) as session:
            return session.get(Report, report_id)

    def by_token(self, token: str) -> Report | None:
        with Session(self._engine) as session:
            return session.exec(select(Report).where(Report.token == token)).first()

    def routed(self, report_id: str, *, case_id: str, case_number: str, now: datetime
               ) -> None:
        with Session(self._engine) as session:
            row = session.get(Report, report_id)
            if row is None:
                return
            row.case_id, row.case_number = case_id, case_number
            row.routed_at, row.routing_problem = now.astimezone(UTC), ""
            session.add(row)
            session.commit()

    def routing_failed(self, report_id: str, problem: str, *, park: bool, now: datetime
                       ) -> None:
        with Session(self._engine) as session:
            row = session.get(Report, report_id)
            if row is None or row.case_id:
                return
            row.routing_problem, row.parked = problem[:500], park
            row.attempted_at = now.astimezone(UTC)
            session.add(row)
            session.commit()

    def forget_subject(self, report_id: str) -> None:
        """A report split off its case is routed on its own from then on."""
        with Session(self._engine) as session:
            row = session.get(Report, report_id)
            if row is not None:
                row.subject = ""
                session.add(row)
                session.commit()

    def unrouted(self, limit: int = 100) -> list[Report]:
        """Reports waiting for their case, least recently tried first (never tried
        before any), parked ones left out."""
        with Session(self._engine) as session:
            return list(session.exec(
                select(Report).where(Report.case_id == "", col(Report.parked).is_(False))
                .order_by(col(Report.attempted_at).is_not(None), col(Report.attempted_at),
                          col(Report.received_at)).limit(limit)))

    def of_case(self, case_id: str, limit: int = 1000) -> list[Report]:
        with Session(self._engine) as session:
            return list(session.exec(select(Report).where(Report.case_id == case_id)
                                     .order_by(col(Report.received_at)).limit(limit)))

    def rate(self, report_id: str, *, case_id: str, solved: bool, satisfaction: str,
             rated_by: str, reopened_as: str, now: datetime) -> bool:
        """Record the rating of `case_id` once; False when the report has one of it."""
        with Session(self._engine) as session:
            row = session.get(Report, report_id)
            if row is None or (row.rated_at is not None and row.rated_case == case_id):
                return False
            row.solved, row.satisfaction, row.rated_by = solved, satisfaction, rated_by
            row.rated_at, row.reopened_as = now.astimezone(UTC), reopened_as
            row.rated_case = case_id
            session.add(row)
            session.commit()
            return True

    def search(self, query: ReportFilter) -> list[Report]:
        statement = select(Report)
        if query.ids:
            statement = statement.where(col(Report.id).in_(list(query.ids)))
        if query.service_codes:
            statement = statement.where(col(Report.service_code).in_(
                list(query.service_codes)))
        if query.channels:
            statement = statement.where(col(Report.channel).in_(list(query.channels)))
        if query.case_ids is not None:
            statement = statement.where(col(Report.case_id).in_(list(query.case_ids)))
        if query.start is not None:
            statement = statement.where(col(Report.received_at) >= query.start)
        if query.end is not None:
            statement = statement.where(col(Report.received_at) <= query.end)
        if query.unrated_only:
            statement = statement.where(Report.case_id != "", or_(
                col(Report.rated_at).is_(None), Report.rated_case != Report.case_id))
        statement = statement.order_by(col(Report.received_at).desc()).limit(query.limit)
        with Session(self._engine) as session:
            return list(session.exec(statement))
