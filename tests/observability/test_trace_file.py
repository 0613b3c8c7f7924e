"""The traces file of a process without a collector: OTLP-JSON lines, rotated so that
it never fills a disk."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from observability.otlp_file import OtlpJsonLinesExporter


def test_the_file_is_rotated_past_its_size_and_keeps_a_bounded_history(
        tmp_path: Path) -> None:
    path = tmp_path / "traces" / "gateway.otlp.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(
        OtlpJsonLinesExporter(path, max_bytes=4096, keep=2)))
    tracer = provider.get_tracer("test")
    for n in range(200):  # a flood: far past what the files may hold together
        with tracer.start_as_current_span(f"POST /auth/sign-in {n}"):
            pass
    provider.shutdown()
    kept = sorted(p.name for p in path.parent.iterdir())
    assert kept == ["gateway.otlp.jsonl", "gateway.otlp.jsonl.1", "gateway.otlp.jsonl.2"]
    assert all(p.stat().st_size < 4096 + 2048 for p in path.parent.iterdir())
    # Every line of every file is a whole OTLP export; the newest span is in the live file.
    names = [span["name"]
             for file in (path.with_name(f"{path.name}.2"), path.with_name(f"{path.name}.1"),
                          path)
             for line in file.read_text(encoding="utf-8").splitlines()
             for resource in json.loads(line)["resourceSpans"]
             for scope in resource["scopeSpans"] for span in scope["spans"]]
    assert names[-1] == "POST /auth/sign-in 199"
    assert names == sorted(names, key=lambda name: int(name.rpartition(" ")[2]))
