"""HTTP bodies of generated requests: proto3 JSON for Connect (also for timestamps the
JSON mapping cannot hold), form pairs for the console, and the ways to break either
(malformed or deeply nested JSON, wrong types, unknown enum names, bad UTF-8, escaped
lone surrogates, a byte-order mark, UTF-16, duplicate keys, bodies past the bound)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from tests.fuzz.wire import BAD_UTF8, OVERSIZE, Shape

F = FieldDescriptor
_INT64 = (F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_SINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64)
# What a field must not hold: each index is a Shape.arg of "wrong-type".
WRONG_VALUES: tuple[Any, ...] = ([], {}, True, 1.5, "text", 2**70, -2**70, "1e400",
                                 [1, 2], {"seconds": 1}, "0x10", "", "NaN", None)
# JSON that is not (or is barely) JSON: each index is a Shape.arg of "malformed".
MALFORMED = ("cut", "trailing-comma", "single-quotes", "nan", "comment", "open-string",
             "array", "null", "empty", "spaces", "trailing-garbage", "number", "string")
JSON_BROKEN = ("unknown-field", "wrong-type", "enum-name", "malformed", "deep-nesting",
               "bad-utf8", "surrogate-escape", "duplicate-keys", "bom", "utf16",
               "oversize", "both-names")


def json_value(field: FieldDescriptor, value: Any) -> Any:
    """One field's value in proto3 JSON, or as near as its value allows (a timestamp
    outside the mapping's years stays a timestamp-looking string)."""
    if field.is_repeated:
        return [_scalar(field, v) for v in value]
    return _scalar(field, value)


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type == F.TYPE_MESSAGE:
        assert field.message_type is not None
        name = field.message_type.full_name
        if name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            try:
                text: str = value.ToJsonString()
                return text
            except ValueError:
                return f"{value.seconds}.{value.nanos}" + ("s" if "Duration" in name else "Z")
        return to_json(value)
    if field.type == F.TYPE_ENUM:
        assert field.enum_type is not None
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else value
    if field.type == F.TYPE_BYTES:
        return base64.b64encode(value).decode()
    if field.type in _INT64:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def to_json(message: Message) -> dict[str, Any]:
    return {f.json_name: json_value(f, v) for f, v in message.ListFields()}


def json_shapes(descriptor: Descriptor, broken: bool = True) -> st.SearchStrategy[Shape]:
    if not broken:
        return st.just(Shape())
    numbers = [f.number for f in descriptor.fields] or [0]
    enums = [f.number for f in descriptor.fields if f.type == F.TYPE_ENUM]
    breakages = st.builds(Shape, st.sampled_from(JSON_BROKEN), st.sampled_from(numbers),
                          st.integers(0, 15), st.sampled_from(BAD_UTF8))
    if enums:
        breakages = st.one_of(breakages, st.builds(Shape, st.just("enum-name"),
                                                   st.sampled_from(enums)))
    return breakages


def json_body(message: Message, shape: Shape) -> tuple[bytes, str]:
    """The body and its content type (`application/json` unless the shape says)."""
    kind = "application/json"
    fields = message.DESCRIPTOR.fields_by_number
    field = fields.get(shape.field)
    key = field.json_name if field is not None else "caseId"
    document = to_json(message)
    name = shape.name
    if name == "unknown-field":
        document["zzUnknownField"] = WRONG_VALUES[shape.arg % len(WRONG_VALUES)]
    elif name == "wrong-type":
        document[key] = WRONG_VALUES[shape.arg % len(WRONG_VALUES)]
    elif name == "enum-name":
        document[key] = "NOT_A_VALUE" if shape.arg % 2 else 2**40
    elif name == "oversize":
        document["zzPadding"] = "x" * OVERSIZE
    elif name == "both-names" and field is not None:
        document[field.name] = document[key] = "" if field.type == F.TYPE_STRING else 0
    text = json.dumps(document, ensure_ascii=False)
    if name == "malformed":
        return _malformed(text, MALFORMED[shape.arg % len(MALFORMED)]).encode(), kind
    if name == "deep-nesting":
        depth = 30_000 if shape.arg % 2 else 1_000
        return ("[" * depth + "]" * depth).encode() if shape.arg % 3 else \
            ('{"a":' * depth + "1" + "}" * depth).encode(), kind
    if name == "bad-utf8":
        return json.dumps({**document, key: "§"}, ensure_ascii=False).encode().replace(
            "§".encode(), shape.data), kind
    if name == "surrogate-escape":
        return json.dumps({**document, key: "§"}).replace("\\u00a7", "\\ud800").encode(), kind
    if name == "duplicate-keys":
        inner = text[1:-1]
        return (f'{{"{key}": "first", ' + inner + "}" if inner else
                f'{{"{key}": 1, "{key}": "2"}}').encode(), kind
    if name == "bom":
        return b"\xef\xbb\xbf" + text.encode(), kind
    if name == "utf16":
        return text.encode("utf-16"), "application/json; charset=utf-16"
    return text.encode(), kind


def _malformed(text: str, how: str) -> str:
    return {"cut": text[:max(1, len(text) // 2)], "trailing-comma": text[:-1] + ",}",
            "single-quotes": text.replace('"', "'"), "nan": '{"pageSize": NaN}',
            "comment": "/* c */" + text, "open-string": '{"caseId": "abc',
            "array": "[" + text + "]", "null": "null", "empty": "", "spaces": "   ",
            "trailing-garbage": text + "}{", "number": "42", "string": '"text"',
            }[how]


def form_pairs(message: Message) -> list[tuple[str, str]]:
    """A command's fields as the console's form posts them: text as given, repeated
    values one a line, enums by name, booleans as "true", times as a local
    date-time (a time no browser sends, when the timestamp is out of range)."""
    pairs: list[tuple[str, str]] = []
    for field, value in message.ListFields():
        if field.is_repeated:
            pairs.append((field.name, "\n".join(str(_scalar(field, v)) for v in value)))
        elif field.type == F.TYPE_MESSAGE:
            stamp = _scalar(field, value)
            pairs.append((field.name, str(stamp)[:16]))
        elif field.type == F.TYPE_BOOL:
            pairs.append((field.name, "true" if value else "false"))
        else:
            pairs.append((field.name, str(_scalar(field, value))))
    return pairs
