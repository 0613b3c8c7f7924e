"""The agency's evidence store on its own: what it takes, how it names a file, what a
photo says of itself, and a file swapped on disk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from agencies import evidence
from agencies.evidence import EvidenceRefused, EvidenceStore, Tampered


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("head, media_type", [
    (b"\xff\xd8\xff\xe0", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"), (b"%PDF-1.7\n", "application/pdf"),
    (b"\0\0\0\x18ftypheic", "image/heic"), (b"\0\0\0\x18ftypisom", "video/mp4"),
    (b"\0\0\0\x14ftypqt  ", "video/quicktime"), (b"<html><script>", None),
    (b"<svg xmlns=", None), (b"MZ\x90\0", None), (b"plain words", None)])
def test_a_file_is_what_its_content_says(head: bytes, media_type: str | None) -> None:
    assert evidence.sniff(head + b"\0" * 16) == media_type


def test_a_file_is_kept_once_under_its_digest_and_checked_before_it_is_read(
        tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    body = jpeg()
    first = store.receive([body[:1000], body[1000:]])
    again = store.receive([body])
    assert first == again and first.path.read_bytes() == body
    with store.open_verified(first.sha256) as stored:
        assert stored.read() == body
    first.path.write_bytes(body[:-1] + b"\0")
    with pytest.raises(Tampered, match="no longer matches"):
        store.open_verified(first.sha256)
    first.path.unlink()
    with pytest.raises(Tampered, match="missing"):
        store.open_verified(first.sha256)


def test_what_is_not_evidence_or_too_large_is_refused_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EvidenceStore(tmp_path)
    with pytest.raises(EvidenceRefused, match="only photos"):
        store.receive([b"#!/bin/sh\nrm -rf /\n"])
    with pytest.raises(EvidenceRefused, match="empty"):
        store.receive([])
    monkeypatch.setattr(evidence, "MAX_FILE_BYTES", 1024)
    with pytest.raises(EvidenceRefused, match="over"):
        store.receive([jpeg()])
    assert not any((tmp_path / "incoming").iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["incoming"]


def test_a_photo_without_exif_says_nothing_and_its_copy_is_small(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    kept = store.receive([jpeg()])
    assert evidence.photo_facts(kept.path, kept.media_type) == evidence.PhotoFacts()
    small = evidence.thumbnail_of(kept.path, kept.media_type)
    assert small is not None
    with Image.open(io.BytesIO(small)) as thumb:
        assert thumb.size == (320, 240)
    assert evidence.thumbnail_of(kept.path, "application/pdf") is None
