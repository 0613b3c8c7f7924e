"""How a completion names an evidence file: `evidence:<holder>/<sha256>`, the agency
holding it and the file's digest (inside the act the agency signs: a file swapped
afterwards no longer matches)."""

from __future__ import annotations

REF_PREFIX = "evidence:"


def evidence_ref(holder: str, sha256: str) -> str:
    return f"{REF_PREFIX}{holder}/{sha256}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """(holder, sha256) of an evidence reference; None for another kind of reference."""
    if not ref.startswith(REF_PREFIX):
        return None
    holder, _, sha256 = ref.removeprefix(REF_PREFIX).partition("/")
    if not holder or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    return holder, sha256
