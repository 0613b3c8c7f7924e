"""The engine's keys: what seals every payload the platform hands Temporal.

Temporal keeps whatever it is given in its histories, and anyone who reaches its
frontend can read them or hand the worker payloads of their own. So the platform
encrypts and authenticates every payload (AES-256-GCM) under a key only the gateway and
the worker hold (`workflows.envelopes`). The keys are kept like the other keys: one
private file (0600) in the data directory, naming which key encrypts now; the older
ones still decrypt what they sealed. `seamless provision --rotate-engine-key` adds a
new one and makes it current.

Beside them the file keeps the subject secret: the key of the digest that stands for a
case's subject in its workflow id (`rules.opening.subject_lock`), which the engine shows
to anyone. A bare hash of a licence plate is read back by hashing every plate; a keyed
one is not. It is never rotated: the lock of a subject must stay the same while its case
is open.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trust.files import write_private

KEY_BYTES = 32
NONCE_BYTES = 12
# Key ids travel in every payload's metadata: short, and never a secret.
MAX_KEY_ID = 40


class EnvelopeError(Exception):
    """A sealed payload that does not open: another key, or changed on the way."""


@dataclass(frozen=True)
class EngineKeys:
    """Every key that may open a payload, and the one that seals new ones."""

    current: str
    keys: dict[str, bytes]
    subject_secret: bytes
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"the engine keys name {self.current!r} as current but do "
                             "not hold it")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES or not 0 < len(key_id) <= MAX_KEY_ID:
                raise ValueError(f"engine key {key_id[:MAX_KEY_ID]!r} is not a 256-bit key "
                                 "with a short id")
        if len(self.subject_secret) != KEY_BYTES:
            raise ValueError("the subject secret is not 256 bits")
        object.__setattr__(self, "_ciphers", {k: AESGCM(v) for k, v in self.keys.items()})

    def seal(self, plaintext: bytes, context: bytes) -> tuple[str, bytes]:
        """(key id, nonce + ciphertext): `context` is authenticated, not stored."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext,
                                                     self._bound(self.current, context))
        return self.current, nonce + sealed

    def open(self, key_id: str, sealed: bytes, context: bytes) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise EnvelopeError(f"sealed under key {key_id[:MAX_KEY_ID]!r}, which this "
                                "platform does not hold")
        if len(sealed) < NONCE_BYTES + 16:
            raise EnvelopeError("too short to be a sealed payload")
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                  self._bound(key_id, context))
        except InvalidTag:
            raise EnvelopeError("it does not open: changed since it was sealed, or sealed "
                                "for something else") from None

    @staticmethod
    def _bound(key_id: str, context: bytes) -> bytes:
        return key_id.encode() + b"\0" + context

    # ----- the file ---------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> EngineKeys:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(stored["current"]),
                       {str(k): base64.b64decode(v) for k, v in stored["keys"].items()},
                       base64.b64decode(stored["subject"]))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"the engine keys file {path} is not one `seamless provision` "
                             f"wrote: {err}") from None

    def save(self, path: Path) -> None:
        write_private(path, json.dumps({
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self.keys.items()},
            "subject": base64.b64encode(self.subject_secret).decode("ascii"),
        }, indent=1))

    def rotated(self, now: datetime | None = None) -> EngineKeys:
        """These keys with a new one that seals from now on."""
        key_id = new_key_id(now)
        return EngineKeys(key_id, {**self.keys, key_id: secrets.token_bytes(KEY_BYTES)},
                          self.subject_secret)


def new_key_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"engine-{moment:%Y%m%d}-{secrets.token_hex(4)}"


def ensure(path: Path) -> EngineKeys:
    """The keys in `path`, made the first time (and given a subject secret, if they were
    made before there was one)."""
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict) and "subject" not in stored:
            stored["subject"] = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
            write_private(path, json.dumps(stored, indent=1))
        return EngineKeys.load(path)
    key_id = new_key_id()
    keys = EngineKeys(key_id, {key_id: secrets.token_bytes(KEY_BYTES)},
                      secrets.token_bytes(KEY_BYTES))
    keys.save(path)
    return keys


def rotate(path: Path) -> EngineKeys:
    """A new current key in `path`; the old ones still open what they sealed."""
    keys = ensure(path).rotated()
    keys.save(path)
    return keys
