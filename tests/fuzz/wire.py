"""Request bytes a valid message cannot give: protobuf put on the wire by hand.

A `Shape` says how a generated message becomes bytes: as it serialises, or broken in one
named way (a string field of invalid UTF-8, a field of the wrong wire type, a field
number nobody declared, a truncated or overlong encoding, a nesting too deep, a body
beyond the 64 KiB bound). The shape is drawn once, with its argument, so the same
message and shape always give the same bytes: a finding is replayed and shrunk by
clearing the message's fields while its shape stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

VARINT, I64, LEN, START_GROUP, END_GROUP, I32 = 0, 1, 2, 3, 4, 5
# Not UTF-8: a lone continuation byte, an overlong NUL, an encoded surrogate, a code
# point past U+10FFFF, a sequence cut short, bytes that never occur.
BAD_UTF8 = (b"\x80", b"abc\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xe4\xb8", b"\xfe\xff", b"ok\xc3")
OVERSIZE = 70 * 1024
DEEP = 10_000
BROKEN = ("bad-utf8", "wrong-wire-type", "unknown-field", "truncated", "garbage",
          "overlong-varint", "length-overflow", "deep-group", "oversize", "wide-varint",
          "empty")


@dataclass(frozen=True)
class Shape:
    """How a message goes on the wire: `name` ("valid", or one of BROKEN, or a JSON or
    form breakage of `tests.fuzz.bodies`), and what it needs: a field number, a count,
    a choice of bytes."""

    name: str = "valid"
    field: int = 0
    arg: int = 0
    data: bytes = b""

    def __str__(self) -> str:
        parts = [self.name] + [f"{k}={v!r}" for k, v in
                               (("field", self.field), ("arg", self.arg), ("data", self.data))
                               if v]
        return " ".join(parts)


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negatives as protobuf encodes them: ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, LEN) + varint(len(payload)) + payload


def _string_paths(descriptor: Descriptor) -> list[tuple[int, ...]]:
    """Field numbers leading to each string field, top level and one message down."""
    paths: list[tuple[int, ...]] = []
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append((field.number,))
        elif field.message_type is not None:
            paths.extend((field.number, inner.number) for inner in
                         field.message_type.fields
                         if inner.type == FieldDescriptor.TYPE_STRING)
    return paths


def shapes(descriptor: Descriptor, broken: bool = True) -> st.SearchStrategy[Shape]:
    """A shape for messages of this type: one breakage with its arguments drawn here
    (without `broken`: valid)."""
    if not broken:
        return st.just(Shape())
    numbers = [f.number for f in descriptor.fields] or [1]
    paths = _string_paths(descriptor)
    breakages: list[st.SearchStrategy[Shape]] = [
        st.builds(Shape, st.just("unknown-field"), st.sampled_from((99, 1000, 536_870_911)),
                  st.sampled_from((VARINT, I64, LEN, I32))),
        st.builds(Shape, st.just("wrong-wire-type"), st.sampled_from(numbers),
                  st.sampled_from((VARINT, I64, LEN, I32, START_GROUP, END_GROUP, 6, 7))),
        st.builds(Shape, st.just("truncated"), arg=st.integers(1, 8)),
        st.builds(Shape, st.just("garbage"), data=st.binary(min_size=1, max_size=64)),
        st.builds(Shape, st.just("overlong-varint"), st.sampled_from(numbers)),
        st.builds(Shape, st.just("length-overflow"), st.sampled_from(numbers),
                  st.sampled_from((2**31 - 1, 2**32 + 5, 2**63, 1000))),
        st.builds(Shape, st.just("deep-group"), arg=st.sampled_from((101, DEEP))),
        st.builds(Shape, st.just("oversize"), arg=st.sampled_from((OVERSIZE, 2**20))),
        st.builds(Shape, st.just("wide-varint"), st.sampled_from(numbers),
                  st.sampled_from((2**31, 2**32, 2**40, 2**63, -1))),
        st.just(Shape("empty")),
    ]
    if paths:
        breakages.append(st.builds(
            lambda path, data: Shape("bad-utf8", _pack(path), data=data),
            st.sampled_from(paths), st.sampled_from(BAD_UTF8)))
    return st.one_of(breakages)


def _pack(path: tuple[int, ...]) -> int:
    """A field path as one int (outer * 2**16 + inner), to keep Shape flat."""
    return path[0] if len(path) == 1 else path[0] * 65_536 + path[1]


def encode(message: Message, shape: Shape) -> bytes:
    """The bytes of `message` in `shape` (for "valid": as it serialises)."""
    body: bytes = message.SerializeToString()
    name, number = shape.name, shape.field
    if name == "bad-utf8":
        outer, inner = divmod(number, 65_536)
        field = length_delimited(inner, shape.data)
        return body + (length_delimited(outer, field) if outer else field)
    if name == "unknown-field":
        payload = {VARINT: varint(2**35), I64: b"\x01" * 8, LEN: varint(3) + b"\xff\x00x",
                   I32: b"\x01" * 4}.get(shape.arg, b"")
        return body + tag(number, shape.arg) + payload
    if name == "wrong-wire-type":
        payload = {VARINT: varint(7), I64: b"\x00" * 8, LEN: varint(1) + b"\x01",
                   I32: b"\x00" * 4}.get(shape.arg, b"")
        return body + tag(number, shape.arg) + payload
    if name == "truncated":
        cut = body + length_delimited(1, b"abcdefgh")  # something to cut into
        return cut[:max(0, len(cut) - shape.arg)]
    if name == "garbage":
        return shape.data
    if name == "overlong-varint":
        return body + tag(number, VARINT) + b"\xff" * 10 + b"\x01"
    if name == "length-overflow":
        return body + tag(number, LEN) + varint(shape.arg) + b"abc"
    if name == "deep-group":
        return body + tag(1000, START_GROUP) * shape.arg
    if name == "oversize":
        return body + length_delimited(1000, b"x" * shape.arg)
    if name == "wide-varint":
        return body + tag(number, VARINT) + varint(shape.arg)
    if name == "empty":
        return b""
    return body


def envelope(payload: bytes, flags: int = 0, length: int | None = None) -> bytes:
    """A Connect streaming envelope: flags, the length big-endian, the message."""
    size = len(payload) if length is None else length
    return bytes([flags & 0xFF]) + (size & 0xFFFFFFFF).to_bytes(4, "big") + payload
