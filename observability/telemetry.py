"""One OpenTelemetry setup for every process: the gateway, the worker and each agency.

* `service.name` is the process kind (gateway, worker) or the agency id; the standard
  OTEL_* variables do the rest (OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, and
  OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT to export over OTLP; OTEL_SDK_DISABLED=true turns
  tracing off).
* SEAMLESS_TRACES_FILE appends spans as OTLP-JSON lines; `seamless up` points it into
  the data directory, so traces can be read without a collector.
* W3C context crosses gRPC through the instrumentation's interceptors (`grpc_server_…`,
  `grpc_client_…`) and Temporal through temporalio's TracingInterceptor.

The accountability spans are not timed by a tracer: they are built from the ledger with
explicit times and ids, and handed to the same processors by `Telemetry.export_finished`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.contrib.opentelemetry import TracingInterceptor

from observability.otlp_file import OtlpJsonLinesExporter


class TelemetrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="")

    otel_sdk_disabled: bool = False
    otel_traces_exporter: str = ""
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""
    seamless_traces_file: Path | None = None


@dataclass
class Telemetry:
    provider: TracerProvider
    processors: list[SpanProcessor] = field(default_factory=list)

    def export_finished(self, spans: Sequence[ReadableSpan]) -> None:
        """Hand spans built elsewhere (with their own times and ids) to the exporters."""
        for span in spans:
            for processor in self.processors:
                processor.on_end(span)

    def flush(self) -> None:
        self.provider.force_flush()

    def shutdown(self) -> None:
        self.provider.shutdown()


_active: Telemetry | None = None


def setup_tracing(service_name: str, *, exporters: Sequence[SpanExporter] = (),
                  settings: TelemetrySettings | None = None) -> Telemetry | None:
    """Install this process's tracer provider. `exporters` (tests) export synchronously."""
    global _active
    settings = settings or TelemetrySettings()
    if settings.otel_sdk_disabled:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    telemetry = Telemetry(provider)
    chosen: list[SpanProcessor] = [SimpleSpanProcessor(e) for e in exporters]
    if settings.otel_exporter_otlp_endpoint or settings.otel_exporter_otlp_traces_endpoint:
        chosen.append(BatchSpanProcessor(OTLPSpanExporter()))
    if settings.seamless_traces_file is not None:
        chosen.append(BatchSpanProcessor(OtlpJsonLinesExporter(settings.seamless_traces_file)))
    if "console" in settings.otel_traces_exporter.split(","):
        chosen.append(BatchSpanProcessor(ConsoleSpanExporter()))
    for processor in chosen:
        provider.add_span_processor(processor)
        telemetry.processors.append(processor)
    trace.set_tracer_provider(provider)
    _active = telemetry
    return telemetry


def active() -> Telemetry | None:
    return _active


def grpc_server_interceptors() -> list[Any]:
    """Server spans for every RPC, continuing the caller's trace from the metadata."""
    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def grpc_client_interceptors() -> list[Any]:
    """Client spans that put the current trace context into the call's metadata."""
    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


def temporal_interceptor() -> TracingInterceptor:
    """Client and worker side: trace context in Temporal headers, spans for workflow,
    update and activity handling."""
    return TracingInterceptor()


def flush() -> None:
    """Export what is buffered: call before a process ends with os._exit, which skips the
    exit handlers that would."""
    if _active is not None:
        _active.flush()
