"""The engine's own authority: mutual TLS between a Temporal cluster and its few clients.

Temporal's frontend has no sign-in of its own: whoever reaches it can read and write
every case's history. In production (docker-compose.yml) the cluster therefore takes
calls only from clients holding a certificate of this authority, issued to the gateway,
the worker, the admin tools' one-shot jobs and the UI, and to nobody else. It is an
authority apart from the platform's: the agencies' certificates, issued by the
platform's authority for mutual TLS with the gateway and the worker, open nothing here.

Its folder holds the authority's key (given to no service) and a folder per holder
with its key, its certificate and the authority's certificate (each mounted by its
holder alone). The cluster's certificate names the host its clients call it by, and
serves its own services calling one another as well (Temporal's internode TLS).

The embedded default (`seamless up`) runs the dev server, which has no TLS: none of
this is used there (docs/security.md says what a local user can still do).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.files import write_private
from trust.pki import (
    ORGANIZATION,
    PARTY_DAYS,
    RENEW_BEFORE,
    certificate_pem,
    create_authority,
    key_pem,
    load_key,
    new_key,
)

AUTHORITY_NAME = "Seamless engine CA"
# The cluster, and the clients it takes calls from.
SERVER = "temporal"
CLIENTS = ("gateway", "worker", "admin", "ui")


@dataclass(frozen=True)
class HolderFiles:
    """One holder's folder: what it mounts, and all it mounts."""

    folder: Path

    @property
    def authority(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def certificate(self) -> Path:
        return self.folder / "cert.pem"

    @property
    def key(self) -> Path:
        return self.folder / "key.pem"


def holder(folder: Path, name: str) -> HolderFiles:
    return HolderFiles(folder / name)


def ensure(folder: Path, server_names: Iterable[str], *, now: datetime | None = None
           ) -> None:
    """The authority, the cluster's certificate (naming `server_names`) and each
    client's, keeping what exists; a certificate near its end, or one no longer naming
    every server name, is issued again (on the same key)."""
    now = now or datetime.now(UTC)
    names = tuple(dict.fromkeys(server_names))
    authority_key, authority = _authority(folder)
    _ensure_holder(holder(folder, SERVER), authority_key, authority, SERVER,
                   server_names=names, now=now)
    for client in CLIENTS:
        _ensure_holder(holder(folder, client), authority_key, authority, client,
                       server_names=(), now=now)


def _authority(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, certificate_path = folder / "authority" / "key.pem", folder / "ca.pem"
    if key_path.exists() and certificate_path.exists():
        return (load_key(key_path.read_bytes()),
                x509.load_pem_x509_certificate(certificate_path.read_bytes()))
    key, certificate = create_authority(name=AUTHORITY_NAME)
    write_private(key_path, key_pem(key))
    write_private(certificate_path, certificate_pem(certificate))
    return key, certificate


def _ensure_holder(files: HolderFiles, authority_key: ec.EllipticCurvePrivateKey,
                   authority: x509.Certificate, name: str, *,
                   server_names: tuple[str, ...], now: datetime) -> None:
    write_private(files.authority, certificate_pem(authority))
    if files.key.exists() and files.certificate.exists():
        current = x509.load_pem_x509_certificate(files.certificate.read_bytes())
        if (current.issuer == authority.subject
                and current.not_valid_after_utc - now > RENEW_BEFORE
                and set(server_names) <= set(_dns_names(current))):
            return
        key = load_key(files.key.read_bytes())
    else:
        key = new_key()
        write_private(files.key, key_pem(key))
    write_private(files.certificate, certificate_pem(
        _issue(authority_key, authority, name, key.public_key(), server_names, now)))


def _issue(authority_key: ec.EllipticCurvePrivateKey, authority: x509.Certificate,
           name: str, public_key: ec.EllipticCurvePublicKey,
           server_names: tuple[str, ...], now: datetime) -> x509.Certificate:
    """A client certificate; with `server_names`, the cluster's (serving those names,
    and calling its own services)."""
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                    ORGANIZATION)]))
        .issuer_name(authority.subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=PARTY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            authority.public_key()), critical=False))  # type: ignore[arg-type]
    if server_names:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(host) for host in server_names]), critical=False)
    return (builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .sign(authority_key, hashes.SHA256()))


def _dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return names.value.get_values_for_type(x509.DNSName)
