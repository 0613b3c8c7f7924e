"""Hypothesis strategies for any request message, derived from its descriptor alone: each
field absent or holding a value of its type, with the boundary values that break things
(empty and over-long text at every input limit, unicode edge cases, unknown enum numbers,
the extremes of each integer type, timestamps outside what a Timestamp may hold, nested
messages, repeated fields with many entries), and with values drawn from a `Pool` of the
platform's real ids, so that some requests get past validation to the deeper code.

Nothing here knows a particular message: a new RPC or field is fuzzed the day it is
added. What the wire cannot carry in a valid message (bad UTF-8, wrong wire types) is
`tests.fuzz.wire`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf import duration_pb2, message_factory, timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

F = FieldDescriptor
# The limits of docs/case-engine.md's "Input limits" (ids, subject, title, case id, evidence,
# reasons, answers, texts): each, and one either side.
LIMITS = (64, 128, 200, 400, 512, 1000, 2000, 4000)
BOUNDARY_LENGTHS = tuple(sorted({n + d for n in LIMITS for d in (-1, 0, 1)}))
# One to four bytes a character in UTF-8: a limit in characters is not one in bytes.
FILLERS = ("x", "é", "界", "😀", " ")
# Beyond the gateway's 64 KiB for a whole request (it refuses before parsing).
HUGE_LENGTHS = (65_537, 100_000)
MAX_DEPTH = 3
# The two well-known types a fuzzed message holds as a moment (seconds and nanos).
_MOMENTS: dict[str, Callable[..., Message]] = {
    "google.protobuf.Timestamp": timestamp_pb2.Timestamp,
    "google.protobuf.Duration": duration_pb2.Duration,
}
EDGE_TEXTS = (
    "", " ", "\t\n\r", "\x00", "abc\x00def", "\x7f", "\x1b[31m", "\u202eevil", "\ufeff",
    "e\u0301", "👩\u200d👩\u200d👧", "\uffff", "\U0010ffff", "ｆｕｌｌ", "İı", "ß", "..",
    "../../etc/passwd", "<script>alert(1)</script>", "' OR '1'='1", "%s%n%x", "{{7*7}}",
    "${jndi:ldap://x}", "null", "NaN", "-1", "0", "1e309", "a@b", "@", "a/b", "\\", "*", "%",
    "%00", "20991231-0001", "00000000-0000", "2026-02-30", "\u0085", "\u2028", "中文案件",
    "T0", "T-1", "T99999999999999999999", "H0", "R", "o311.x.y",
)
# Clock durations as the rules read them ("30m", "3wd"), and what they must refuse.
DURATIONS = ("30m", "2h", "7d", "3wd", "0m", "0s", "-1h", "366d", "367d", "8784h", "8785h",
             "250wd", "251wd", "1e9h", "99999999999999999999d", "h", "m30", "1.5h", " 1h",
             "1H", "PT1H", "1d2h", "nanh", "∞h", "")
# A real id spelt otherwise: what a lookup must not confuse with the real one.
RESPELLINGS: tuple[Callable[[str], str], ...] = (
    lambda v: v, lambda v: v, lambda v: v, str.upper, lambda v: f" {v}", lambda v: f"{v} ",
    lambda v: f"{v}\x00", lambda v: v[:-1], lambda v: f"{v}/x", lambda v: f"{v}@",
    lambda v: f"{v}%", lambda v: f"{v}*", lambda v: v.replace("-", "_"),
)
_AGENCY_FIELDS = frozenset({"assignee", "to_agency", "agency", "lead", "suggested_agency",
                            "redispatch_to", "reassign_to", "reopen_lead", "owner",
                            "from_agency"})
_INT_RANGES: dict[int, tuple[int, int]] = {
    F.TYPE_INT32: (-2**31, 2**31 - 1), F.TYPE_SINT32: (-2**31, 2**31 - 1),
    F.TYPE_SFIXED32: (-2**31, 2**31 - 1), F.TYPE_INT64: (-2**63, 2**63 - 1),
    F.TYPE_SINT64: (-2**63, 2**63 - 1), F.TYPE_SFIXED64: (-2**63, 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}
# Page sizes, priorities and counts the gateway bounds (1-5, 0-100, 0-200, 0-500).
_SMALL_INTS = (0, 1, -1, 2, 3, 5, 6, 20, 50, 99, 100, 101, 199, 200, 201, 499, 500, 501,
               10_000)
# Timestamp's own range is 0001-01-01 to 9999-12-31 (seconds), nanos 0 to 999,999,999.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
_ODD_SECONDS = (_MIN_SECONDS, _MIN_SECONDS - 1, _MAX_SECONDS, _MAX_SECONDS + 1, 0, -1,
                2**62, 2**63 - 1, -2**63)
_NANOS = (0, 0, 0, 1, 999_999_999, 1_000_000_000, -1, 2**31 - 1, -2**31)
_DAY = 86_400


@dataclass(frozen=True)
class Pool:
    """Real values on the platform under test, which requests draw from often enough to
    get past validation now and then: case references the caller may see and may not
    (id, number, id without its run), task, hand-off and report ids, the directory's
    agencies, the catalog's case types, task kinds, stages, jurisdictions and
    services."""

    case_refs: tuple[str, ...] = ("20991231-0001",)
    task_ids: tuple[str, ...] = ("T1", "T2", "T3", "T4")
    report_ids: tuple[str, ...] = ("R20991231-0001",)
    handoff_ids: tuple[str, ...] = ("H1", "H2")
    escalation_ids: tuple[str, ...] = ("E1",)
    objection_ids: tuple[str, ...] = ("O1",)
    agencies: tuple[str, ...] = ("command-center",)
    officers: tuple[str, ...] = ("duty-officer", "field-officer", "dispatcher", "nobody")
    case_types: tuple[str, ...] = ("illegal-mining",)
    task_kinds: tuple[str, ...] = ("work-safety",)
    stages: tuple[str, ...] = ("",)
    jurisdictions: tuple[str, ...] = ("jinhaihu",)
    service_codes: tuple[str, ...] = ("night-quarrying",)
    channels: tuple[str, ...] = ("hotline", "open311", "console", "app")
    attribute_codes: tuple[str, ...] = ("site",)

    def named(self, field: str) -> tuple[str, ...]:
        """The real values a string field of this name takes ((): none known)."""
        if field in _AGENCY_FIELDS:
            return self.agencies
        return {"case_id": self.case_refs, "task_id": self.task_ids,
                "report_id": self.report_ids, "handoff_id": self.handoff_ids,
                "escalation_id": self.escalation_ids, "objection_id": self.objection_ids,
                "officer_id": self.officers, "type": self.case_types,
                "kind": self.task_kinds, "stage": self.stages,
                "jurisdiction": self.jurisdictions, "service_code": self.service_codes,
                "channel": self.channels, "code": self.attribute_codes,
                "case_type": self.case_types}.get(field, ())


def _repeat(length: int, filler: str) -> str:
    return filler * length


def texts(*, huge: bool = False) -> st.SearchStrategy[str]:
    """Any text: random, the edge cases, every limit and its neighbours (and, with
    `huge`, beyond the request bound)."""
    choices = [st.text(max_size=40), st.text(max_size=40), st.sampled_from(EDGE_TEXTS),
               st.sampled_from(EDGE_TEXTS),
               st.builds(_repeat, st.sampled_from(BOUNDARY_LENGTHS), st.sampled_from(FILLERS))]
    if huge:
        choices.append(st.builds(_repeat, st.sampled_from(HUGE_LENGTHS), st.just("x")))
    return st.one_of(choices)


def real(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    """One of `values`, as it is or spelt a little otherwise."""
    return st.builds(lambda v, respell: respell(v), st.sampled_from(values),
                     st.sampled_from(RESPELLINGS))


def timestamps(now: float) -> st.SearchStrategy[tuple[int, int]]:
    """(seconds, nanos): near now and at the bounds of what the rules take (366 days),
    and outside what a Timestamp may hold at all."""
    near = (int(now), int(now) - _DAY, int(now) + 60, int(now) + 366 * _DAY,
            int(now) + 367 * _DAY, int(now) - 367 * _DAY)
    return st.tuples(st.one_of(st.sampled_from(near), st.sampled_from(_ODD_SECONDS),
                               st.integers(_MIN_SECONDS, _MAX_SECONDS),
                               st.integers(-2**63, 2**63 - 1)),
                     st.sampled_from(_NANOS))


class Strategies:
    """Request strategies for the messages of the services, over one `Pool`."""

    def __init__(self, pool: Pool, now: float | None = None) -> None:
        self.pool = pool
        self._now = time.time() if now is None else now
        self._messages: dict[tuple[str, int], st.SearchStrategy[Message]] = {}

    def message(self, descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
        """A message of this type: each field absent or holding one of its values."""
        key = (descriptor.full_name, depth)
        if key not in self._messages:
            self._messages[key] = self._build(descriptor, depth)
        return self._messages[key]

    def _build(self, descriptor: Descriptor, depth: int) -> st.SearchStrategy[Message]:
        cls = message_factory.GetMessageClass(descriptor)
        moment = _MOMENTS.get(descriptor.full_name)
        if moment is not None:
            return timestamps(self._now).map(lambda sn: moment(seconds=sn[0], nanos=sn[1]))
        fields = {f.name: self.field(f, depth) for f in descriptor.fields
                  if f.message_type is None or depth < MAX_DEPTH}
        return st.fixed_dictionaries({}, optional=fields).map(lambda v: compose(cls, v))

    def field(self, field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        single = self.value(field, depth)
        if not field.is_repeated:
            return single
        # A few, or as many as a limit allows and one more, or far more (short ones).
        many = st.builds(lambda n, v: [v] * n, st.sampled_from((50, 51, 500, 1001)),
                         self.value(field, depth, short=True))
        return st.one_of(st.lists(single, max_size=4), st.lists(single, max_size=4), many)

    def value(self, field: FieldDescriptor, depth: int, *, short: bool = False
              ) -> st.SearchStrategy[Any]:
        kind = field.type
        if kind == F.TYPE_STRING:
            named = self.pool.named(field.name)
            if field.name.endswith("_within"):
                named = DURATIONS
            anything = st.sampled_from(EDGE_TEXTS) if short else texts()
            return st.one_of(real(named), real(named), real(named), anything) if named \
                else anything
        if kind == F.TYPE_BYTES:
            return st.binary(max_size=64)
        if kind == F.TYPE_BOOL:
            return st.booleans()
        if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            width: Literal[32, 64] = 64 if kind == F.TYPE_DOUBLE else 32
            odd = (0.0, -0.0, 40.17, 117.35, 90.0, 90.0001, -180.0001, 1e308, -1e308,
                   float("nan"), float("inf"), float("-inf"), 5e-324)
            return st.one_of(st.sampled_from(odd), st.floats(width=width))
        if kind == F.TYPE_ENUM:
            assert field.enum_type is not None
            known = [v.number for v in field.enum_type.values]
            unknown = (max(known) + 1, -1, 99, 2**31 - 1, -2**31)
            return st.one_of(st.sampled_from(known), st.sampled_from(known),
                             st.sampled_from(unknown))
        if kind in _INT_RANGES:
            low, high = _INT_RANGES[kind]
            edges = tuple(v for v in (*_SMALL_INTS, low, high, low + 1, high - 1)
                          if low <= v <= high)
            return st.one_of(st.sampled_from(edges), st.sampled_from(edges),
                             st.integers(low, high))
        if kind == F.TYPE_MESSAGE:
            assert field.message_type is not None
            return self.message(field.message_type, depth + 1)
        raise TypeError(f"{field.full_name}: no strategy for field type {kind}")


def compose(cls: type[Message], values: dict[str, Any]) -> Message:
    """A message of `cls` with these field values (repeated: a list; nested: a
    message)."""
    message = cls()
    for name, value in values.items():
        field = cls.DESCRIPTOR.fields_by_name[name]
        if field.is_repeated:
            getattr(message, name).extend(value)
        elif field.message_type is not None:
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message
