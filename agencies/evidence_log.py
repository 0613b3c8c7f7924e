"""What the agency's database keeps of its evidence files: each file's row, and the
custody log of every fetch (agencies.evidence keeps the bytes)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from agencies.models import CustodyEntry, EvidenceFile, InboxItem

# A task the agency may still attach evidence to: in its inbox, not withdrawn, and not
# ended by a decline (its findings go with a completion, its evidence with them).
_WORKING = ("DISPATCHED", "SIGNED", "ON_SCENE", "DONE")


def task_held(session: Session, *, agency: str, case_id: str, task_id: str) -> bool:
    """Whether the task is the agency's to attach evidence to (its latest delivery)."""
    row = session.exec(select(InboxItem).where(
        InboxItem.assignee == agency, InboxItem.case_id == case_id,
        InboxItem.task_id == task_id).order_by(col(InboxItem.round).desc())).first()
    return row is not None and not row.withdrawn and row.task_state in _WORKING


def files_of_task(session: Session, *, case_id: str, task_id: str) -> int:
    return int(session.exec(select(func.count()).select_from(EvidenceFile).where(
        EvidenceFile.case_id == case_id, EvidenceFile.task_id == task_id)).one())


def record_file(session: Session, row: EvidenceFile) -> tuple[EvidenceFile, bool]:
    """The file's row, and whether it is new (the same file attached to the same task
    twice is one row: an upload retried)."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.exec(select(EvidenceFile).where(
            EvidenceFile.case_id == row.case_id, EvidenceFile.task_id == row.task_id,
            EvidenceFile.sha256 == row.sha256)).one()
        return existing, False
    session.refresh(row)
    return row, True


def files_of_case(session: Session, case_id: str) -> list[EvidenceFile]:
    return list(session.exec(select(EvidenceFile).where(EvidenceFile.case_id == case_id)
                             .order_by(col(EvidenceFile.id))))


def file_of(session: Session, *, case_id: str, sha256: str) -> EvidenceFile | None:
    return session.exec(select(EvidenceFile).where(
        EvidenceFile.case_id == case_id, EvidenceFile.sha256 == sha256)
        .order_by(col(EvidenceFile.id))).first()


def record_fetch(session: Session, *, file: EvidenceFile, agency: str, officer: str,
                 served: bool, thumbnail: bool) -> None:
    session.add(CustodyEntry(sha256=file.sha256, case_id=file.case_id, task_id=file.task_id,
                             agency=agency, officer=officer, served=served,
                             thumbnail=thumbnail, at=datetime.now(UTC)))
    session.commit()


def custody_of(session: Session, case_id: str, limit: int = 1000) -> list[CustodyEntry]:
    return list(session.exec(select(CustodyEntry).where(CustodyEntry.case_id == case_id)
                             .order_by(col(CustodyEntry.id)).limit(limit)))
