"""Connecting to Temporal from a long-running process that may start before it.

The same code reaches the embedded dev server and a production cluster: a self-hosted
one with mutual TLS, or Temporal Cloud with mutual TLS or an API key. Which one is
settings alone (`TemporalSettings`, read by the worker and the gateway); keys and API
keys are read from files, never carried in a variable's value.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.service import RPCError, TLSConfig

from observability import telemetry
from trust.engine_keys import EngineKeys
from trust.files import read_secret
from workflows import envelopes, type_hints

log = logging.getLogger(__name__)


class TemporalSettings(BaseSettings):
    """Where the Temporal cluster is and how to prove who we are to it (SEAMLESS_…)."""

    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # TLS to the cluster: the CA that signed its certificate (absent: the system's),
    # and the name to expect on it when the address does not carry it.
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_server_name: str | None = None
    # Mutual TLS: our client certificate and key (a self-hosted cluster, Temporal Cloud).
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    # Or an API key (Temporal Cloud), read from this file; TLS is implied.
    temporal_api_key_file: Path | None = None
    # The keys that seal every payload handed to the engine (`workflows.envelopes`);
    # `seamless up` and compose always give them. Absent: payloads travel in plaintext,
    # which only tests of the rules alone do.
    engine_keys_file: Path | None = None

    @model_validator(mode="after")
    def _pairs(self) -> TemporalSettings:
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError("SEAMLESS_TEMPORAL_TLS_CERT_FILE and SEAMLESS_TEMPORAL_TLS_KEY_FILE "
                             "go together: a client certificate needs its key")
        return self

    def tls(self) -> TLSConfig | bool:
        wanted = (self.temporal_tls or self.temporal_tls_ca_file is not None
                  or self.temporal_tls_cert_file is not None
                  or self.temporal_api_key_file is not None)
        if not wanted:
            return False
        return TLSConfig(
            server_root_ca_cert=_read(self.temporal_tls_ca_file),
            domain=self.temporal_tls_server_name,
            client_cert=_read(self.temporal_tls_cert_file),
            client_private_key=_read(self.temporal_tls_key_file))

    def data_converter(self) -> DataConverter:
        if self.engine_keys_file is None:
            return DataConverter.default
        return envelopes.data_converter(EngineKeys.load(self.engine_keys_file))

    def api_key(self) -> str | None:
        if self.temporal_api_key_file is None:
            return None
        return read_secret(self.temporal_api_key_file, "API key")


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect(settings: TemporalSettings, *, interceptors: Sequence[Interceptor] = (),
                  wait_seconds: float = 120.0) -> Client:
    """A traced client for the cluster `settings` name, retrying while it still starts.

    Its tracing interceptor also applies to workers built on it: trace context travels
    in Temporal headers from the gateway into the workflow and its activities.
    `interceptors` come after it (the gateway's seal on its commands)."""
    type_hints.cache_converter_type_hints()
    address = settings.temporal_address
    tls, api_key = settings.tls(), settings.api_key()
    converter = settings.data_converter()
    give_up = time.monotonic() + wait_seconds
    while True:
        try:
            return await Client.connect(address, namespace=settings.temporal_namespace,
                                        tls=tls, api_key=api_key,
                                        data_converter=converter,
                                        interceptors=[telemetry.temporal_interceptor(),
                                                      *interceptors])
        except (RPCError, RuntimeError, OSError) as err:
            if time.monotonic() > give_up:
                raise RuntimeError(f"Temporal at {address} did not answer within "
                                   f"{wait_seconds:.0f} s: {err}") from err
            log.info("waiting for Temporal at %s: %s", address, err)
            await asyncio.sleep(1.0)
