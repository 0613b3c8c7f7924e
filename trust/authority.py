"""Issuing: the authority and each party's key and certificate, made into folders.

`seamless up` calls this on every start: what exists is kept (a restart changes no
identity), what is missing is made, and a certificate near its end or missing a host
name it must serve is replaced by a new one (the old stays in the public folder, so
signatures made with it can still be checked). In production the operator's own
authority issues the same files.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from trust.files import private_dir, write_private
from trust.pki import (
    RENEW_BEFORE,
    IdentityFiles,
    Party,
    PkiFiles,
    certificate_pem,
    create_authority,
    issue,
    key_pem,
    load_key,
    new_key,
    record_retired,
    service_name,
)


def ensure_authority(pki: PkiFiles, authority_key: Path) -> None:
    """The authority: its certificate in the public folder, its key at `authority_key`,
    a place no service is given."""
    if pki.authority.exists() and authority_key.exists():
        return
    key, certificate = create_authority()
    private_dir(pki.certificates)
    write_private(authority_key, key_pem(key))
    write_private(pki.authority, certificate_pem(certificate))


def ensure_party(pki: PkiFiles, authority_key: Path, own: IdentityFiles, party: Party, *,
                 hosts: Iterable[str] = (), now: datetime | None = None) -> None:
    """Make sure `party` has a key and a current certificate from the authority."""
    now = now or datetime.now(UTC)
    hosts = (service_name(party.role, party.id), *hosts)
    if own.key.exists() and own.certificate.exists():
        current = x509.load_pem_x509_certificate(own.certificate.read_bytes())
        if current.not_valid_after_utc - now > RENEW_BEFORE and _serves(current, hosts):
            _publish(pki, current)
            return
        key = load_key(own.key.read_bytes())
    else:
        key = new_key()
        write_private(own.key, key_pem(key))
    authority = x509.load_pem_x509_certificate(pki.authority.read_bytes())
    certificate = issue(load_key(authority_key.read_bytes()), authority, party,
                        key.public_key(), hosts=hosts, now=now)
    write_private(own.certificate, certificate_pem(certificate))
    _publish(pki, certificate)


def retire_key(pki: PkiFiles, authority_key: Path, own: IdentityFiles, party: Party, *,
               hosts: Iterable[str] = (), now: datetime | None = None) -> str:
    """Retire `party`'s key (lost, or held by someone who should not): its certificate's
    fingerprint joins the retired list every party checks its peers and every signature
    against, and the party gets a new key and certificate. What the old key signed
    before `now` still holds (the ledger's proofs); nothing it signs after. Returns the
    retired fingerprint."""
    now = now or datetime.now(UTC)
    kid = record_retired(pki, x509.load_pem_x509_certificate(own.certificate.read_bytes()),
                         now)
    own.key.unlink()
    own.certificate.unlink()
    ensure_party(pki, authority_key, own, party, hosts=hosts, now=now)
    return kid


def _publish(pki: PkiFiles, certificate: x509.Certificate) -> None:
    path = pki.certificate_path(certificate)
    if not path.exists():
        write_private(path, certificate_pem(certificate))


def _serves(certificate: x509.Certificate, hosts: tuple[str, ...]) -> bool:
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(names.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    for host in hosts:
        try:
            if str(ipaddress.ip_address(host)) not in ips:
                return False
        except ValueError:
            if host not in dns:
                return False
    return True
