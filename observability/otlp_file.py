"""An exporter that appends spans to a file as OTLP-JSON lines, one export per line.

Each line is an `ExportTraceServiceRequest` in the OTLP/JSON encoding (trace and span ids
in hex, as the specification asks), so traces can be read, or replayed into any
collector, without one running.
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


class OtlpJsonLinesExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = to_otlp_json(spans) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass
