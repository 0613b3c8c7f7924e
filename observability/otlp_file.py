"""An exporter that appends spans to a file as OTLP-JSON lines, one export per line.

Each line is an `ExportTraceServiceRequest` in the OTLP/JSON encoding (trace and span ids
in hex, as the specification asks), so traces can be read, or replayed into any
collector, without one running.

The file is rotated once it passes `max_bytes` (`<file>.1` the newest of the kept ones,
`<file>.<keep>` the oldest; older ones are deleted), so a platform that runs for months,
or a flood of requests, fills no disk: at most (keep + 1) × max_bytes per process.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> None:
    # protobuf's JSON mapping writes bytes as base64; OTLP/JSON wants ids in hex.
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def to_otlp_json(spans: Sequence[ReadableSpan]) -> str:
    document = json_format.MessageToDict(encode_spans(spans))
    _hex_ids(document)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


MAX_BYTES = 64 * 1024 * 1024
KEEP = 3


class OtlpJsonLinesExporter(SpanExporter):
    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._keep = keep
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = (to_otlp_json(spans) + "\n").encode("utf-8")
        with self._lock:
            with self._path.open("ab") as out:
                out.write(line)
                full = out.tell() >= self._max_bytes
            if full:
                self._rotate()
        return SpanExportResult.SUCCESS

    def _rotate(self) -> None:
        """file → file.1 → … → file.<keep>, the oldest dropped."""
        self._path.with_name(f"{self._path.name}.{self._keep}").unlink(missing_ok=True)
        for n in range(self._keep - 1, 0, -1):
            older = self._path.with_name(f"{self._path.name}.{n}")
            if older.exists():
                older.rename(self._path.with_name(f"{self._path.name}.{n + 1}"))
        self._path.rename(self._path.with_name(f"{self._path.name}.1"))

    def shutdown(self) -> None:
        pass
