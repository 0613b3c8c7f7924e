"""Citizens' photos: what a reporter sends with a report (Open311's `media`, the
hotline page's photo), kept by the desk that took the report in, in the gateway's own
database beside the reports (every gateway replica reads the same).

Two copies of each: the original as it came, for the officers who may read the report;
and a public copy, re-encoded from the pixels alone (turned as the camera held it),
so no place, time or device travels in it: what Open311's `media_url` points to.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Column, DateTime, LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from agencies.evidence import PHOTOS, sniff

# A phone's photo is 2 to 6 MB.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
# The public copy's longest side: enough to see what the reporter saw.
PUBLIC_PIXELS = 2048
# A public copy's name where it is served: its SHA-256 and .jpg.
PUBLIC_NAME = re.compile(r"[0-9a-f]{64}\.jpg")


class PhotoRefused(ValueError):
    """Not a photo the desk takes, with what to send instead."""


class ReportPhoto(SQLModel, table=True):
    __tablename__ = "report_photo"

    sha256: str = Field(primary_key=True, max_length=64)
    public_sha256: str = Field(max_length=64, unique=True)
    media_type: str = Field(max_length=32)
    original: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    public: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC),
                                  sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class Prepared:
    sha256: str
    public_sha256: str
    media_type: str
    original: bytes
    public: bytes


def prepare(data: bytes) -> Prepared:
    """The photo and its public copy; PhotoRefused for anything else."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(f"the photo is over {MAX_PHOTO_BYTES // (1024 * 1024)} MiB; "
                           "send a smaller one")
    media_type = sniff(data[:16])
    if media_type not in PHOTOS:
        raise PhotoRefused("media: send a photo as JPEG, PNG or WebP")
    try:
        with Image.open(io.BytesIO(data)) as image:
            shown = ImageOps.exif_transpose(image).convert("RGB")
            shown.thumbnail((PUBLIC_PIXELS, PUBLIC_PIXELS))
            out = io.BytesIO()
            shown.save(out, "JPEG", quality=85)  # pixels only: no EXIF, no ICC, no XMP
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PhotoRefused("media: the photo could not be read; send it as JPEG, PNG or "
                           "WebP") from None
    public = out.getvalue()
    return Prepared(hashlib.sha256(data).hexdigest(), hashlib.sha256(public).hexdigest(),
                    media_type, data, public)


def keep(session: Session, photo: Prepared) -> None:
    """Store the photo once (the same bytes sent again are the same photo)."""
    if session.get(ReportPhoto, photo.sha256) is None:
        session.add(ReportPhoto(sha256=photo.sha256, public_sha256=photo.public_sha256,
                                media_type=photo.media_type, original=photo.original,
                                public=photo.public))
        session.commit()


def public_copy(session: Session, public_sha256: str) -> bytes | None:
    row = session.exec(select(ReportPhoto.public).where(
        ReportPhoto.public_sha256 == public_sha256)).first()
    return None if row is None else bytes(row)
