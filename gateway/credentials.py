"""Bearer credentials: one per agency, generated into the data directory.

Each caller gets a random token (256 bits) in its own file; the gateway keeps only the
SHA-256 of each. A slow password hash buys nothing for tokens this long: nobody can guess
one, so the digest only has to make the stored file useless to whoever reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

TOKEN_DIR = "credentials"
HASHES_FILE = "gateway/token-hashes.json"
# Oversight staff (督查): read every case and every oversight figure, change nothing.
OVERSIGHT = "oversight"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_path(data_dir: Path, identity: str) -> Path:
    return data_dir / TOKEN_DIR / f"{identity}.token"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def ensure_credentials(data_dir: Path, identities: Iterable[str]) -> dict[str, str]:
    """Make a token for every identity that has none; keep existing ones. Returns the
    digest -> identity table the gateway serves from (also written to HASHES_FILE)."""
    table: dict[str, str] = {}
    for identity in identities:
        path = token_path(data_dir, identity)
        if not path.exists():
            _write_private(path, secrets.token_urlsafe(32) + "\n")
        table[digest(path.read_text(encoding="utf-8").strip())] = identity
    _write_private(data_dir / HASHES_FILE, json.dumps(table, indent=2, sort_keys=True))
    return table


def load_hashes(path: Path) -> dict[str, str]:
    """The digest -> identity table; fails fast when it is missing or empty."""
    table = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict) or not table:
        raise ValueError(f"{path} holds no credentials; run 'seamless up' to create them")
    return {str(k): str(v) for k, v in table.items()}


def read_token(data_dir: Path, identity: str) -> str:
    path = token_path(data_dir, identity)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no credential for {identity!r} in {data_dir / TOKEN_DIR}; is the data "
            "directory the one 'seamless up' uses?") from None


def identify(table: Mapping[str, str], token: str) -> str | None:
    return table.get(digest(token))
