"""Evidence files (现场取证): the photos, documents and videos an officer attaches to a task,
kept by the officer's own agency in a store of its own, never in the engine or the ledger.

A file is named by its SHA-256: what the act its officer signs names, so a file swapped
afterwards no longer matches what was signed. What a file is comes from its content
(sniffed, never from its name); what a photo says of itself (EXIF time and place) is
read and kept to be shown and checked, never trusted. Before a byte is served the file
is hashed again: one that no longer matches its digest is refused, and the refusal is
in the custody log beside every fetch.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

# What an agency takes, per file and per task (README: "Evidence files").
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILES_PER_TASK = 20
CHUNK_BYTES = 64 * 1024
MAX_NAME = 200
# Pages show photos this big at most.
THUMBNAIL_PIXELS = 320
# Pillow refuses to decode more than this (a "decompression bomb"): a phone's photo is
# 12 to 50 megapixels.
Image.MAX_IMAGE_PIXELS = 80_000_000

PHOTOS = frozenset({"image/jpeg", "image/png", "image/webp"})
# EXIF tags: the original time (in the Exif IFD) and the GPS IFD.
_EXIF_IFD, _GPS_IFD, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x8769, 0x8825, 0x9003, 0x9011


class EvidenceRefused(ValueError):
    """A file the store does not take; the message says what to do instead."""


class Tampered(Exception):
    """A file that no longer matches the digest it was stored (and signed) under."""


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes; None for anything but photos,
    PDF and video."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"heim", b"heis"):
            return "image/heic"  # a phone's photo: kept, but no EXIF read nor thumbnail
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    return None


@dataclass(frozen=True)
class Received:
    sha256: str
    size: int
    media_type: str
    path: Path


@dataclass(frozen=True)
class PhotoFacts:
    """What a photo says of itself (EXIF), as read."""

    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None


class EvidenceStore:
    """The agency's files, by digest, under `root` (a directory of its own)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / "incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 digest")
        return self.root / sha256[:2] / sha256

    def incoming(self) -> Incoming:
        """A file about to arrive, written as it comes (never whole in memory)."""
        return Incoming(self)

    def receive(self, chunks: Iterable[bytes]) -> Received:
        """A whole file from `chunks` (Incoming's steps at once)."""
        incoming = self.incoming()
        try:
            for chunk in chunks:
                incoming.write(chunk)
            return incoming.finish()
        finally:
            incoming.discard()

    def open_verified(self, sha256: str) -> BinaryIO:
        """The file, open and hashed again through the same handle (so what is served is
        what was checked), positioned at its start; Tampered when it is missing or no
        longer matches its digest. The caller closes it."""
        try:
            stored = self.path_of(sha256).open("rb")
        except FileNotFoundError:
            raise Tampered(f"the file {sha256[:12]}… is missing from the store") from None
        digest = hashlib.sha256()
        for chunk in iter(lambda: stored.read(CHUNK_BYTES), b""):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            stored.close()
            raise Tampered(f"the file {sha256[:12]}… no longer matches its signed digest")
        stored.seek(0)
        return stored


class Incoming:
    """A file arriving: written to a file of its own as it comes, hashed on the way,
    and checked at the end; then kept under its digest."""

    def __init__(self, store: EvidenceStore) -> None:
        self._store = store
        self._path = store._incoming / uuid.uuid4().hex
        self._out: BinaryIO | None = self._path.open("wb")
        self._digest, self._size, self._head = hashlib.sha256(), 0, b""

    def write(self, chunk: bytes) -> None:
        assert self._out is not None, "written after it finished"
        self._size += len(chunk)
        if self._size > MAX_FILE_BYTES:
            raise EvidenceRefused(f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
                                  "send a smaller photo or a shorter video")
        if len(self._head) < 16:
            self._head += chunk[:16 - len(self._head)]
        self._digest.update(chunk)
        self._out.write(chunk)

    def finish(self) -> Received:
        """The file kept under its digest (the same file twice is kept once)."""
        assert self._out is not None, "finished twice"
        self._out.close()
        self._out = None
        media_type = sniff(self._head)
        if self._size == 0:
            raise EvidenceRefused("the file is empty")
        if media_type is None:
            raise EvidenceRefused("only photos (JPEG, PNG, WebP, HEIC), PDF documents and "
                                  "videos (MP4, MOV) are taken as evidence")
        sha256 = self._digest.hexdigest()
        final = self._store.path_of(sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(self._path, final)
        return Received(sha256, self._size, media_type, final)

    def discard(self) -> None:
        """What arrived of a file refused or cut off goes."""
        if self._out is not None:
            self._out.close()
            self._out = None
        self._path.unlink(missing_ok=True)


def photo_facts(path: Path, media_type: str) -> PhotoFacts:
    """A photo's EXIF time and place; nothing for other files or a photo without them."""
    if media_type not in PHOTOS:
        return PhotoFacts()
    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return PhotoFacts()
    return PhotoFacts(_taken_at(exif), *_place(exif))


def _taken_at(exif: Image.Exif) -> datetime | None:
    details = exif.get_ifd(_EXIF_IFD)
    text = details.get(_DATETIME_ORIGINAL)
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            return datetime.fromisoformat(f"{moment.isoformat()}{offset.strip()}").astimezone(UTC)
        except ValueError:
            pass
    # No zone: the camera's clock, taken as the district's (China Standard Time).
    return datetime.fromisoformat(f"{moment.isoformat()}+08:00").astimezone(UTC)


def _place(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(_GPS_IFD)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"), "S")
        lon = _degrees(gps[4], gps.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _degrees(parts: tuple[float, float, float], ref: str, negative: str) -> float:
    degrees, minutes, seconds = (float(p) for p in parts)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if str(ref).strip().upper() == negative else value


def thumbnail_of(source: Path | BinaryIO, media_type: str) -> bytes | None:
    """A small JPEG of a photo, turned as the camera held it, without its EXIF (no place
    travels in the copy); None for other files."""
    if media_type not in PHOTOS:
        return None
    try:
        with Image.open(source) as image:
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None
