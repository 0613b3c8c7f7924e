"""Officers' passwords: Argon2id hashes (argon2-cffi), never the password itself.

The parameters are OWASP's recommended minimum for Argon2id (19 MiB, 2 passes): about
20 ms a check on this project's machines, which makes guessing slow without making
signing in slow.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD = 10
MAX_PASSWORD = 256
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Checked when the officer does not exist, so a wrong officer id takes as long to refuse
# as a wrong password and does not tell an attacker which ids exist.
_DECOY = _HASHER.hash("decoy password for unknown officers")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    return None


def matches(password: str, stored_hash: str | None) -> bool:
    """Whether `password` is the one `stored_hash` was made from (None: no such officer,
    checked against a decoy all the same)."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
