"""The platform's public-key infrastructure: an authority, parties, their certificates.

A *party* is a process that acts on its own account: the gateway, the worker, each
agency's service and the oversight body's. Its certificate, issued by the platform's
authority (made by `seamless up`; the operator's in production), names it: the common
name is its id (the agency id, say) and the organisational unit its role, so an agency
called "worker" in some directory still could not pass for the worker. Keys are ECDSA
P-256, which every TLS stack and browser takes.

The authority's key is kept apart from everything a service is given; only the issuer
reads it. Two folders hold what a process needs (see `PkiFiles`, `IdentityFiles`):
* the public one: the authority's certificate and every certificate it issued, by
  fingerprint (signatures name their signer's certificate by it; old ones stay, so an
  old signature can still be checked after a key is replaced);
* its own: its key (0600, read by this process alone) and its certificate.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.files import write_private

ORGANIZATION = "Seamless platform"
AUTHORITY_DAYS = 3650
# Browsers refuse server certificates valid for longer than 398 days.
PARTY_DAYS = 397
# Within this of its end, `seamless up` replaces a party's certificate.
RENEW_BEFORE = timedelta(days=30)


class Role(StrEnum):
    """What a party is, written in its certificate."""

    # An agency's service: signs its officers' sessions and acts, and receipts.
    AGENCY = "agency"
    # The oversight body's service (督查): signs its staff's sessions.
    OVERSIGHT = "oversight"
    # Seals every command it sends to a case.
    GATEWAY = "gateway"
    # Delivers tasks and notices; signs the ledger's checkpoints.
    WORKER = "worker"


@dataclass(frozen=True)
class Party:
    id: str
    role: Role

    def __str__(self) -> str:
        return f"{self.role.value} {self.id}"


def service_name(role: Role, party_id: str = "") -> str:
    """The name a party serves under, written in its certificate and asked for by those
    who call it: the one name no other party's certificate carries. Each agency (and the
    oversight body) has its own; any gateway serves as the gateway."""
    if role in (Role.AGENCY, Role.OVERSIGHT):
        return f"{party_id}.{role.value}.seamless"
    return f"{role.value}.seamless"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint in hex: the key id signatures carry."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def party_of(certificate: x509.Certificate) -> Party:
    """The party a certificate names; ValueError when it names none."""
    subject = certificate.subject

    def only(oid: x509.ObjectIdentifier, what: str) -> str:
        values = subject.get_attributes_for_oid(oid)
        if len(values) != 1 or not isinstance(values[0].value, str) or not values[0].value:
            raise ValueError(f"the certificate names no {what}")
        return values[0].value

    party_id = only(NameOID.COMMON_NAME, "party (common name)")
    role = only(NameOID.ORGANIZATIONAL_UNIT_NAME, "role (organisational unit)")
    try:
        return Party(party_id, Role(role))
    except ValueError:
        raise ValueError(f"the certificate's role {role!r} is not a role of the platform") \
            from None


def create_authority(*, now: datetime | None = None, name: str = "Seamless platform CA"
                     ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    now = now or datetime.now(UTC)
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=AUTHORITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256()))
    return key, certificate


def _alternative_names(party: Party, hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys([service_name(party.role, party.id), party.id, "localhost",
                               "127.0.0.1", "::1", *hosts]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def issue(authority_key: ec.EllipticCurvePrivateKey, authority: x509.Certificate,
          party: Party, public_key: ec.EllipticCurvePublicKey, *,
          hosts: Iterable[str] = (), now: datetime | None = None,
          valid_days: int = PARTY_DAYS) -> x509.Certificate:
    """A certificate for `party`, good for serving (its service name, its id, localhost
    and `hosts` as names) and for calling others."""
    now = now or datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, party.id),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                            party.role.value),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(authority.subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(_alternative_names(party, hosts)),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            authority.public_key()), critical=False)  # type: ignore[arg-type]
        .sign(authority_key, hashes.SHA256()))


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the key is not an ECDSA key")
    return key


@dataclass(frozen=True)
class Known:
    """A certificate the authority issued, as signature checks need it."""

    party: Party
    kid: str
    public_key: ec.EllipticCurvePublicKey
    not_before: datetime
    not_after: datetime
    # When the key was retired (`seamless provision --retire-key`): what it signed
    # before still holds; nothing it signs from then on does.
    retired_at: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after and (
            self.retired_at is None or moment < self.retired_at)


class CertificateStore:
    """The certificates the platform's authority issued, looked up by fingerprint.

    Each is checked against the authority as it is added; one the authority did not
    sign, or that names no party, is refused.
    """

    def __init__(self, authority: x509.Certificate,
                 certificates: Iterable[x509.Certificate] = (),
                 retired: Mapping[str, datetime] | None = None) -> None:
        self.authority = authority
        self._retired = dict(retired or {})
        self._known: dict[str, Known] = {}
        for certificate in certificates:
            self.add(certificate)

    def add(self, certificate: x509.Certificate) -> Known:
        try:
            certificate.verify_directly_issued_by(self.authority)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{certificate.subject.rfc4514_string()} was not issued by "
                             f"the platform's authority: {err}") from None
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError(f"{certificate.subject.rfc4514_string()}: not an ECDSA key")
        kid = fingerprint(certificate)
        known = Known(party_of(certificate), kid, key, certificate.not_valid_before_utc,
                      certificate.not_valid_after_utc, self._retired.get(kid))
        self._known[known.kid] = known
        return known

    def get(self, kid: str) -> Known | None:
        return self._known.get(kid)

    def retired(self, kid: str) -> bool:
        """Whether the key of this certificate was retired (a handshake with it, or a
        statement it signs now, is refused)."""
        return kid in self._retired

    def __iter__(self) -> Iterator[Known]:
        return iter(list(self._known.values()))

    def __len__(self) -> int:
        return len(self._known)

    @classmethod
    def load(cls, files: PkiFiles) -> CertificateStore:
        authority = x509.load_pem_x509_certificate(files.authority.read_bytes())
        return cls(authority, (x509.load_pem_x509_certificate(path.read_bytes())
                               for path in sorted(files.certificates.glob("*.crt"))),
                   read_retired(files))


@dataclass(frozen=True)
class PkiFiles:
    """The public folder: the authority's certificate and every certificate it issued."""

    root: Path

    @property
    def authority(self) -> Path:
        return self.root / "ca.crt"

    @property
    def certificates(self) -> Path:
        return self.root / "certs"

    @property
    def retired(self) -> Path:
        """The retired keys: {fingerprint: {"party", "retired_at"}} (public, like the
        certificates: every party checks its peers against it)."""
        return self.root / "retired.json"

    def certificate_path(self, certificate: x509.Certificate) -> Path:
        party, kid = party_of(certificate), fingerprint(certificate)
        return self.certificates / f"{party.role.value}-{party.id}-{kid[:16]}.crt"


def read_retired(files: PkiFiles) -> dict[str, datetime]:
    """The retired keys' fingerprints and when each was retired."""
    return {str(kid): datetime.fromisoformat(str(entry["retired_at"]))
            for kid, entry in _retired_entries(files).items()}


def record_retired(files: PkiFiles, certificate: x509.Certificate, at: datetime) -> str:
    """Add the certificate's key to the retired list; its fingerprint."""
    kid = fingerprint(certificate)
    entries = _retired_entries(files)
    entries[kid] = {"party": str(party_of(certificate)), "retired_at": at.isoformat()}
    write_private(files.retired, json.dumps(entries, indent=1, sort_keys=True))
    return kid


def _retired_entries(files: PkiFiles) -> dict[str, dict[str, str]]:
    if not files.retired.exists():
        return {}
    stored: dict[str, dict[str, str]] = json.loads(files.retired.read_text(encoding="utf-8"))
    return stored


@dataclass(frozen=True)
class IdentityFiles:
    """A party's own folder: its key (0600) and its certificate."""

    root: Path

    @property
    def key(self) -> Path:
        return self.root / "key.pem"

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"


@dataclass(frozen=True)
class Identity:
    """What one process holds to prove who it is: its key, its certificate, and the
    authority's certificate to check its peers'."""

    party: Party
    key: ec.EllipticCurvePrivateKey
    key_pem: bytes
    certificate: x509.Certificate
    certificate_pem: bytes
    authority_pem: bytes

    @property
    def kid(self) -> str:
        return fingerprint(self.certificate)

    @classmethod
    def load(cls, own: IdentityFiles, pki: PkiFiles, *, expect: Role | None = None
             ) -> Identity:
        """This process's identity; fails fast when a file is missing, the certificate
        is not the authority's, or it names another role than `expect`."""
        key_bytes = own.key.read_bytes()
        cert_bytes = own.certificate.read_bytes()
        authority_pem = pki.authority.read_bytes()
        certificate = x509.load_pem_x509_certificate(cert_bytes)
        authority = x509.load_pem_x509_certificate(authority_pem)
        CertificateStore(authority, [certificate])  # refuses one the authority did not sign
        key = load_key(key_bytes)
        public = certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or \
                key.public_key().public_numbers() != public.public_numbers():
            raise ValueError(f"{own.key} does not belong to the certificate {own.certificate}")
        party = party_of(certificate)
        if expect is not None and party.role is not expect:
            raise ValueError(f"{own.certificate} is the certificate of a {party.role.value}, "
                             f"not of a {expect.value}")
        return cls(party, key, key_bytes, certificate, cert_bytes, authority_pem)
