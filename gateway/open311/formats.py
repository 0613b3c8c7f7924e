"""One document, two formats: a GeoReport v2 answer as XML or JSON.

A document is built once from plain values (`Record`, `Many`) and written in the format
the resource's suffix asks for. JSON follows the spec's "Spark convention": a container
of repeated elements (`<services><service>…`) is a JSON array, an empty element is null.
XML is written with `xml.etree.ElementTree`, which escapes text; characters XML 1.0
cannot carry (most control characters) are replaced, so every answer parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from starlette.responses import Response

from gateway.open311.fields import CONTENT_TYPES, ERROR, Format

Scalar: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True)
class Many:
    """A container of repeated elements: `<item>` children in XML, an array in JSON."""

    item: str
    items: Sequence[Value]


Value: TypeAlias = Scalar | Mapping[str, "Value"] | Many


def record(fields: Sequence[str], **values: Value) -> dict[str, Value]:
    """A record with exactly the spec's `fields`, in their order: a field left out or
    one the spec does not have is a bug, caught here rather than by a client."""
    if set(values) != set(fields):
        missing, extra = set(fields) - set(values), set(values) - set(fields)
        raise ValueError(f"record fields differ from the spec: missing {sorted(missing)}, "
                         f"extra {sorted(extra)}")
    return {name: values[name] for name in fields}


# ----- JSON ---------------------------------------------------------------------------

def _plain(value: Value) -> object:
    if isinstance(value, Many):
        return [_plain(item) for item in value.items]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, str) and not value:
        return None  # Spark: an empty element is null
    return value


def to_json(value: Value) -> bytes:
    return json.dumps(_plain(value), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


# ----- XML ----------------------------------------------------------------------------

# XML 1.0 allows tab, newline and carriage return of the C0 controls; no surrogates,
# nor U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: Scalar) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _NOT_XML.sub("\ufffd", value)


def _fill(element: ET.Element, value: Value) -> None:
    if isinstance(value, Many):
        for item in value.items:
            _fill(ET.SubElement(element, value.item), item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return _DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")


# ----- answers ------------------------------------------------------------------------

# Every answer: never sniffed as HTML, never cached (a request's status changes).
_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def answer(root: str, value: Value, fmt: Format, *, status: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:
    """`value` as the document `<root>` (XML) or as its JSON mapping."""
    body = to_json(value) if fmt == "json" else to_xml(root, value)
    return Response(body, status_code=status, headers={**_HEADERS, **(headers or {})},
                    media_type=CONTENT_TYPES[fmt])


def errors(status: int, description: str, fmt: Format, *,
           headers: Mapping[str, str] | None = None) -> Response:
    """The spec's error document: `[{"code": …, "description": …}]`, the code being the
    HTTP status."""
    return answer("errors", Many("error", [record(ERROR, code=status,
                                                  description=description)]),
                  fmt, status=status, headers=headers)
