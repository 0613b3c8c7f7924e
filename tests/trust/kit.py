"""A platform's PKI in a folder, issued as `seamless up` issues it, for tests."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from trust.authority import ensure_authority, ensure_party
from trust.pki import CertificateStore, Identity, IdentityFiles, Party, PkiFiles, Role
from trust.statements import Signer
from workflows.seals import Sealer, SealVerifier


@dataclass
class Kit:
    root: Path
    identities: dict[str, Identity] = field(default_factory=dict)

    @property
    def pki(self) -> PkiFiles:
        return PkiFiles(self.root / "pki")

    def files(self, party_id: str) -> IdentityFiles:
        return IdentityFiles(self.root / "identities" / party_id)

    @property
    def authority_key(self) -> Path:
        return self.root / "authority" / "ca.key"

    def party(self, party_id: str, role: Role) -> Identity:
        if party_id not in self.identities:
            ensure_party(self.pki, self.authority_key, self.files(party_id),
                         Party(party_id, role))
            self.identities[party_id] = Identity.load(self.files(party_id), self.pki)
        return self.identities[party_id]

    def signer(self, party_id: str, role: Role) -> Signer:
        return Signer(self.party(party_id, role))

    def store(self) -> CertificateStore:
        return CertificateStore.load(self.pki)


def new_kit(root: Path) -> Kit:
    kit = Kit(root)
    ensure_authority(kit.pki, kit.authority_key)
    return kit


@lru_cache(maxsize=1)
def session_kit() -> Kit:
    """One platform PKI for the whole test session (a gateway, a worker and an agency),
    in a folder that lives as long as the session."""
    kit = new_kit(Path(tempfile.mkdtemp(prefix="seamless-pki-")))
    kit.party("gateway", Role.GATEWAY)
    kit.party("worker", Role.WORKER)
    kit.party("natural-resources", Role.AGENCY)
    return kit


def gateway_sealer() -> Sealer:
    """Seals commands as the session's gateway, as the real gateway does."""
    return Sealer(session_kit().signer("gateway", Role.GATEWAY))


def worker_seals(max_age: timedelta | None = None) -> SealVerifier:
    """Checks seals as the worker does. Without a maximum age by default: the
    time-skipping server's clock runs ahead of the wall clock a seal is made by."""
    return SealVerifier(session_kit().store(), max_age=max_age)
