"""gRPC over TLS: mutual TLS between parties, server TLS for people.

A service that parties call listens with `mutual_tls_server`: gRPC refuses, during the
handshake, a caller without a certificate from the platform's authority, and the handler
reads who called from the certificate (`peer_party`), never from the request. A door for
people (the gateway's, an agency's officers' desk) listens with `server_tls`: the
connection is encrypted and the server proven; the person proves who they are with a
signed session.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import grpc
from cryptography import x509

from trust.pki import (
    CertificateStore,
    Identity,
    Party,
    Role,
    fingerprint,
    party_of,
    service_name,
)

log = logging.getLogger(__name__)

# gRPC's name for the PEM of the certificate the peer presented in the handshake.
_PEER_CERTIFICATE = "x509_pem_cert"

# Options for every server of ours: a port is one server's. gRPC shares a port between
# servers by default (SO_REUSEPORT); a second server started on an agency's port would
# then take half its connections and answer them with the wrong certificate, and callers
# would see an agency that is "not answering" now and then. Unshared, the second server
# fails to start, and says so.
EXCLUSIVE_PORT: tuple[str, int] = ("grpc.so_reuseport", 0)


def mutual_tls_server(identity: Identity) -> grpc.ServerCredentials:
    """Only callers with a certificate from the platform's authority get through."""
    return grpc.ssl_server_credentials([(identity.key_pem, identity.certificate_pem)],
                                       root_certificates=identity.authority_pem,
                                       require_client_auth=True)


def server_tls(identity: Identity) -> grpc.ServerCredentials:
    """Encrypted and the server proven; the caller shows no certificate."""
    return grpc.ssl_server_credentials([(identity.key_pem, identity.certificate_pem)])


def mutual_tls_channel(identity: Identity) -> grpc.ChannelCredentials:
    """A party calling another: it checks the server and shows its own certificate."""
    return grpc.ssl_channel_credentials(root_certificates=identity.authority_pem,
                                        private_key=identity.key_pem,
                                        certificate_chain=identity.certificate_pem)


def server_only_channel(authority_pem: bytes) -> grpc.ChannelCredentials:
    """A person's tool calling a door: it checks the server against the authority."""
    return grpc.ssl_channel_credentials(root_certificates=authority_pem)


def expecting(role: Role, party_id: str = "") -> list[tuple[str, str]]:
    """Channel options under which the TLS handshake succeeds only with the party named:
    the server's certificate must carry that party's service name, which no other
    party's does (every certificate names localhost, so the address proves nothing)."""
    return [("grpc.ssl_target_name_override", service_name(role, party_id))]


def peer_party(context: Any, store: CertificateStore) -> Party | None:
    """The party whose certificate the caller presented (gRPC has checked it against the
    authority in the handshake); None on a connection without one, or with one whose key
    was retired (the handshake cannot know: the list is the platform's, `store`'s)."""
    pems: list[bytes] = context.auth_context().get(_PEER_CERTIFICATE) or []
    if len(pems) != 1:
        return None
    found = _party_of_pem(pems[0])
    if found is None:
        return None
    party, kid = found
    if store.retired(kid):
        log.warning("refused the %s: its certificate %s was retired", party, kid[:16])
        return None
    return party


@lru_cache(maxsize=256)
def _party_of_pem(pem: bytes) -> tuple[Party, str] | None:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
        return party_of(certificate), fingerprint(certificate)
    except ValueError:
        return None
