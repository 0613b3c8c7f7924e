"""Citizens' photos: what a reporter sends with a report (Open311's `media`, the
hotline page's photo), kept by the desk that took the report in, in the gateway's own
database beside the reports (every gateway replica reads the same).

The desk keeps the public copy: re-encoded from the pixels alone into a fresh image
(turned as the camera held it), so no place, time, device or comment travels in it;
what Open311's `media_url` points to and the case page shows. Of the original it keeps
only the digest: the reporter's file can be matched to the report later, and nobody
holds a reporter's exact location that no page could show.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Column, DateTime, LargeBinary
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, or_, select

from agencies.evidence import PHOTOS, sniff

# A phone's photo is 2 to 6 MB, of 12 to 50 megapixels; more pixels than this is refused
# before any is decoded (a small file can claim a huge picture).
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000
_TOO_BIG = f"media: the photo has over {MAX_PIXELS // 1_000_000} million pixels; send a smaller one"
# The public copy's longest side: enough to see what the reporter saw.
PUBLIC_PIXELS = 2048
# A public copy's name where it is served: its SHA-256 and .jpg.
PUBLIC_NAME = re.compile(r"[0-9a-f]{64}\.jpg")


class PhotoRefused(ValueError):
    """Not a photo the desk takes, with what to send instead."""


class ReportPhoto(SQLModel, table=True):
    __tablename__ = "report_photo"

    # The original's digest (the original itself is not kept).
    sha256: str = Field(primary_key=True, max_length=64)
    public_sha256: str = Field(max_length=64, unique=True)
    media_type: str = Field(max_length=32)
    public: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC),
                                  sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class Prepared:
    sha256: str
    public_sha256: str
    media_type: str
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
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PhotoRefused(_TOO_BIG)
                # A JPEG decodes at the size it is shown at, not its full size.
                image.draft("RGB", (PUBLIC_PIXELS, PUBLIC_PIXELS))
                shown = ImageOps.exif_transpose(image).convert("RGB")
                shown.thumbnail((PUBLIC_PIXELS, PUBLIC_PIXELS))
                # The pixels alone, into an image of nothing else: no EXIF, comment,
                # ICC profile or XMP is carried over by any writer.
                clean = Image.new("RGB", shown.size)
                clean.paste(shown)
                out = io.BytesIO()
                clean.save(out, "JPEG", quality=85)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_TOO_BIG) from None
    except (UnidentifiedImageError, OSError):
        raise PhotoRefused("media: the photo could not be read; send it as JPEG, PNG or "
                           "WebP") from None
    public = out.getvalue()
    return Prepared(hashlib.sha256(data).hexdigest(), hashlib.sha256(public).hexdigest(),
                    media_type, public)


def keep(session: Session, photo: Prepared) -> None:
    """Store the photo once: the same file again, or another file of the same pixels (a
    copy a messaging app stripped), is already kept."""
    kept = session.exec(select(ReportPhoto.sha256).where(or_(
        ReportPhoto.sha256 == photo.sha256,
        ReportPhoto.public_sha256 == photo.public_sha256))).first()
    if kept is not None:
        return
    session.add(ReportPhoto(sha256=photo.sha256, public_sha256=photo.public_sha256,
                            media_type=photo.media_type, public=photo.public))
    try:
        session.commit()
    except IntegrityError:  # the same photo, kept by a post at the same moment
        session.rollback()


def public_copy(session: Session, public_sha256: str) -> bytes | None:
    row = session.exec(select(ReportPhoto.public).where(
        ReportPhoto.public_sha256 == public_sha256)).first()
    return None if row is None else bytes(row)
