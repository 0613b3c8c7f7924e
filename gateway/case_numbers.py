"""Case numbers: the short number people say, write on forms and type (20261130-0042).

In the style of a 12345 work order: the local date the case was opened and that day's
sequence. Not derived from the subject, and unique across reopenings (every opening gets
its own). The gateway hands them out and keeps which case each names, so that every RPC
taking a case id also takes the number; the case keeps its number too (in its state and
the `SeamlessCaseNumber` search attribute, the fallback when this table has not heard
back from an open that crashed half way).

A retried open (same caller, same request) gets the number it got the first time, so a
retry never uses up a second one, and an open refused because its subject's case is
already open asks for none. An open refused after its number was given (a rare race with
another open of the subject, a catalog changed meanwhile) leaves it unused: the sequence
may have gaps, never duplicates.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy import Column, DateTime, Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from records import database

# Opens racing on one day (a burst of reports, each on its own subject) each take the
# next number; a loser looks again, after a moment's pause.
_ATTEMPTS = 50
logger = logging.getLogger(__name__)


def request_key(agency: str, request_id: str, content: str) -> str:
    """What makes two opens the same request: the caller, its request id and what it
    asked (a request id reused for another case must not get the first one's number)."""
    digest = hashlib.sha256(f"{agency}\n{request_id}\n{content}".encode()).hexdigest()
    return digest[:40]


class CaseNumber(SQLModel, table=True):
    __tablename__ = "case_number"

    number: str = Field(primary_key=True, max_length=16)
    day: str = Field(max_length=8, index=True)
    sequence: int = Field(ge=1)
    request_key: str = Field(max_length=40, unique=True)
    # Empty until the case has answered (or when its open was refused).
    case_id: str = Field(default="", max_length=300, index=True)
    allocated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


SCHEMA = database.Schema("gateway", Path(__file__).parent / "migrations",
                         "gateway_0005")


def open_case_numbers(url: str, *, password_file: Path | None = None) -> Engine:
    return database.open_database(url, SCHEMA, password_file=password_file)


class CaseNumbers:
    def __init__(self, engine: Engine, zone: tzinfo) -> None:
        self._engine = engine
        self._zone = zone

    def allocate(self, key: str, now: datetime) -> str:
        """The number for the open request `key`: the one it already has, or the next of
        the local day. Two gateways allocating at once cannot both take a number: the
        loser of the primary key tries the next one."""
        day = now.astimezone(self._zone).strftime("%Y%m%d")
        for _ in range(_ATTEMPTS):
            with Session(self._engine) as session:
                known = session.exec(select(CaseNumber).where(
                    CaseNumber.request_key == key)).first()
                if known is not None:
                    return known.number
                last = session.exec(select(func.max(CaseNumber.sequence)).where(
                    CaseNumber.day == day)).one()
                sequence = (last or 0) + 1
                number = f"{day}-{sequence:04d}"
                session.add(CaseNumber(number=number, day=day, sequence=sequence,
                                       request_key=key, allocated_at=now.astimezone(UTC)))
                try:
                    session.commit()
                    return number
                except IntegrityError:
                    session.rollback()  # taken meanwhile: look again
                    time.sleep(random.uniform(0, 0.01))
        raise RuntimeError(f"could not allocate a case number for {day} in {_ATTEMPTS} tries")

    def allocated(self, key: str) -> str:
        """The number the open request `key` got, if it got one ('' if none)."""
        with Session(self._engine) as session:
            known = session.exec(select(CaseNumber).where(
                CaseNumber.request_key == key)).first()
            return known.number if known is not None else ""

    def bind(self, number: str, case_id: str) -> None:
        """Record which case the number names (once the case has answered). A number
        names one case for good: another is never bound to it."""
        with Session(self._engine) as session:
            row = session.get(CaseNumber, number)
            if row is None or row.case_id == case_id:
                return
            if row.case_id:
                logger.error("case number %s names %s; not rebinding it to %s", number,
                             row.case_id, case_id)
                return
            row.case_id = case_id
            session.add(row)
            session.commit()

    def case_for_request(self, key: str) -> str:
        """The case an open request already opened ('' if none has answered yet)."""
        with Session(self._engine) as session:
            row = session.exec(select(CaseNumber).where(
                CaseNumber.request_key == key)).first()
            return row.case_id if row is not None else ""

    def case_of(self, number: str) -> str | None:
        """The case the number names; '' for a number given out whose case has not
        answered yet; None for a number never given out."""
        with Session(self._engine) as session:
            row = session.get(CaseNumber, number)
            return row.case_id if row is not None else None
