"""Which Temporal cluster the worker and the gateway reach, and how they prove who they
are to it, is settings alone."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict
from temporalio.service import TLSConfig

from workflows.connect import TemporalSettings


class Settings(TemporalSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in TemporalSettings.model_fields:
        monkeypatch.delenv(f"SEAMLESS_{field.upper()}", raising=False)


def test_the_embedded_dev_server_needs_nothing() -> None:
    settings = Settings()
    assert (settings.temporal_address, settings.temporal_namespace) == ("127.0.0.1:7233",
                                                                       "default")
    assert settings.tls() is False and settings.api_key() is None


def test_a_self_hosted_cluster_with_mutual_tls(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    for name, content in (("ca.pem", b"CA"), ("client.pem", b"CERT"), ("client.key", b"KEY")):
        (tmp_path / name).write_bytes(content)
    monkeypatch.setenv("SEAMLESS_TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_NAMESPACE", "enforcement")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_TLS_CA_FILE", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SEAMLESS_TEMPORAL_TLS_CERT_FILE", str(tmp_path / "client.pem"))
    monkeypatch.setenv("SEAMLESS_TEMPORAL_TLS_KEY_FILE", str(tmp_path / "client.key"))
    monkeypatch.setenv("SEAMLESS_TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    settings = Settings()
    assert settings.temporal_namespace == "enforcement"
    assert settings.tls() == TLSConfig(server_root_ca_cert=b"CA", domain="temporal.internal",
                                       client_cert=b"CERT", client_private_key=b"KEY")


def test_temporal_cloud_with_an_api_key_read_from_a_file(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    (tmp_path / "api-key").write_text("secret-key\n")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_ADDRESS", "eu-west-1.aws.api.temporal.io:7233")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_API_KEY_FILE", str(tmp_path / "api-key"))
    settings = Settings()
    assert settings.api_key() == "secret-key"
    assert settings.tls() == TLSConfig()  # TLS with the system's roots


def test_a_client_certificate_without_its_key_is_refused_at_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEAMLESS_TEMPORAL_TLS_CERT_FILE", str(tmp_path / "client.pem"))
    with pytest.raises(ValidationError, match="a client certificate needs its key"):
        Settings()


def test_an_empty_api_key_file_is_refused(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    (tmp_path / "api-key").write_text("\n")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_API_KEY_FILE", str(tmp_path / "api-key"))
    with pytest.raises(ValueError, match="is empty"):
        Settings().api_key()


def test_the_worker_s_health_check_reaches_the_cluster_as_the_worker_does(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A cluster that wants TLS and an API key gets them from the health check too (a
    plaintext check of such a cluster would call every worker unhealthy)."""
    from cli import health

    opened: list[str] = []
    monkeypatch.setattr(grpc, "secure_channel",
                        lambda address, *_args: opened.append(f"tls {address}"))
    monkeypatch.setattr(grpc, "insecure_channel",
                        lambda address, *_args: opened.append(f"plain {address}"))
    (tmp_path / "api-key").write_text("secret-key\n")
    monkeypatch.setenv("SEAMLESS_TEMPORAL_API_KEY_FILE", str(tmp_path / "api-key"))
    _channel, metadata = health._temporal_channel(TemporalSettings(
        temporal_address="eu-west-1.aws.api.temporal.io:7233",
        temporal_namespace="enforcement.acct"))
    assert opened == ["tls eu-west-1.aws.api.temporal.io:7233"]
    assert ("authorization", "Bearer secret-key") in metadata
    assert ("temporal-namespace", "enforcement.acct") in metadata
    monkeypatch.delenv("SEAMLESS_TEMPORAL_API_KEY_FILE")
    health._temporal_channel(TemporalSettings(temporal_address="127.0.0.1:7233"))
    assert opened[-1] == "plain 127.0.0.1:7233"  # the dev server
