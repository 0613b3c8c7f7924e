"""The engine's own authority (trust/engine_tls.py): the cluster serves its name to the
clients it issued, and takes calls from them alone; a real handshake decides, as
Temporal's frontend decides it with `TEMPORAL_TLS_REQUIRE_CLIENT_AUTH`."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.ports import free_port
from tests.tls_front import TlsFront
from tests.trust.kit import new_kit
from trust import engine_tls
from trust.pki import Role

SERVER_NAME = "temporal"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    engine_tls.ensure(tmp_path / "engine-tls", [SERVER_NAME])
    return tmp_path / "engine-tls"


def _certificate(files: engine_tls.HolderFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.certificate.read_bytes())


def _usages(certificate: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_the_cluster_serves_its_name_and_the_clients_only_call(folder: Path) -> None:
    server = _certificate(engine_tls.holder(folder, engine_tls.SERVER))
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [SERVER_NAME]
    assert ExtendedKeyUsageOID.SERVER_AUTH in _usages(server)
    for client in engine_tls.CLIENTS:
        certificate = _certificate(engine_tls.holder(folder, client))
        assert _usages(certificate) == {ExtendedKeyUsageOID.CLIENT_AUTH}, client
        assert certificate.issuer == server.issuer


def test_every_file_is_private_and_a_second_run_changes_nothing(folder: Path) -> None:
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in before)
    engine_tls.ensure(folder, [SERVER_NAME])
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    # The authority's key lies in a folder of its own, which no holder's folder holds.
    assert (folder / "authority" / "key.pem").exists()
    assert not any("PRIVATE" in p.read_text() for p in folder.glob("*/ca.pem"))


def test_a_certificate_near_its_end_or_missing_a_name_is_issued_again(folder: Path) -> None:
    files = engine_tls.holder(folder, engine_tls.SERVER)
    first, key = files.certificate.read_bytes(), files.key.read_bytes()
    engine_tls.ensure(folder, [SERVER_NAME, "temporal-frontend"])
    assert files.certificate.read_bytes() != first and files.key.read_bytes() == key
    renewed = files.certificate.read_bytes()
    engine_tls.ensure(folder, [SERVER_NAME, "temporal-frontend"],
                      now=datetime.now(UTC) + timedelta(days=380))
    assert files.certificate.read_bytes() != renewed


@pytest.fixture
def plain_server() -> Iterator[int]:
    """A plaintext gRPC server (its health service): what the TLS stands in front of."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(None)


@pytest.fixture
def cluster(folder: Path) -> Iterator[int]:
    """A server with the cluster's mutual TLS, as Temporal's frontend is configured by
    docker-compose.yml: its certificate, and client certificates of the engine's
    authority required."""
    files = engine_tls.holder(folder, engine_tls.SERVER)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    credentials = grpc.ssl_server_credentials(
        [(files.key.read_bytes(), files.certificate.read_bytes())],
        root_certificates=files.authority.read_bytes(), require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    yield port
    server.stop(None)


def _ask(port: int, authority: bytes, key: bytes | None = None,
         certificate: bytes | None = None, name: str = SERVER_NAME) -> grpc.StatusCode:
    credentials = grpc.ssl_channel_credentials(authority, key, certificate)
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials,
                             options=[("grpc.ssl_target_name_override", name)]) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                      timeout=5)
        except grpc.RpcError as err:
            return err.code()
    return grpc.StatusCode.OK


def _as(folder: Path, name: str) -> tuple[bytes, bytes, bytes]:
    files = engine_tls.holder(folder, name)
    return files.authority.read_bytes(), files.key.read_bytes(), files.certificate.read_bytes()


def _attacks(folder: Path, tmp_path: Path, port: int) -> None:
    """Who is refused: no certificate, a certificate of the platform's authority (an
    agency's, good for mutual TLS with the gateway), and another engine's."""
    authority = engine_tls.holder(folder, "gateway").authority.read_bytes()
    assert _ask(port, authority) == grpc.StatusCode.UNAVAILABLE
    platform = new_kit(tmp_path / "platform")
    platform.party("natural-resources", Role.AGENCY)
    agency = platform.files("natural-resources")
    assert _ask(port, authority, agency.key.read_bytes(),
                agency.certificate.read_bytes()) == grpc.StatusCode.UNAVAILABLE
    engine_tls.ensure(tmp_path / "other-engine", [SERVER_NAME])
    _, key, certificate = _as(tmp_path / "other-engine", "gateway")
    assert _ask(port, authority, key, certificate) == grpc.StatusCode.UNAVAILABLE


def test_the_cluster_takes_its_clients_and_nobody_else(folder: Path, tmp_path: Path,
                                                       cluster: int) -> None:
    for client in engine_tls.CLIENTS:
        assert _ask(cluster, *_as(folder, client)) == grpc.StatusCode.OK, client
    _attacks(folder, tmp_path, cluster)
    # A client checks it is the cluster it reached: a name the certificate lacks fails.
    assert _ask(cluster, *_as(folder, "worker"), name="gateway") == \
        grpc.StatusCode.UNAVAILABLE


def test_the_tests_tls_front_refuses_as_the_cluster_does(folder: Path, tmp_path: Path,
                                                         plain_server: int) -> None:
    """The front the compose topology's tests put before the dev server (tests/tls_front)
    decides as the cluster does."""
    files = engine_tls.holder(folder, engine_tls.SERVER)
    with TlsFront(free_port(), plain_server, certificate=files.certificate, key=files.key,
                  client_authority=files.authority) as front:
        assert _ask(front.port, *_as(folder, "gateway")) == grpc.StatusCode.OK
        _attacks(folder, tmp_path, front.port)
