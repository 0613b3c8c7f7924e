"""The fuzzer's own verifiers, attacked: the oracle must name each way a refused request
can change state (and let accepted ones and clocks be), and each broken wire shape must
really be broken (and the valid one not)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as rp
from tests.fuzz.answers import Answer
from tests.fuzz.oracle import Snapshot, World, WorldCase, judge
from tests.fuzz.probes import Probe, Transport
from tests.fuzz.strategies import Pool, Strategies
from tests.fuzz.wire import BROKEN, I32, I64, LEN, VARINT, Shape, encode, shapes

# Run by `make test` beside the fuzzing it checks; `make test-fast` leaves it out.

A, B = "case:illegal-mining:a@run", "case:illegal-mining:b@run"
WORLD = World([WorldCase(A, (A, "20261201-0001")), WorldCase(B, (B, "20261201-0002"))],
              ["R20261201-0001"])
SIGN = Probe(Transport.GRPC, "CaseService/SignTask", "duty-officer@natural-resources",
             message=cs.SignTaskRequest(case_id="20261201-0001", task_id="T1"))
REFUSED = Answer("PERMISSION_DENIED", "not the assignee", trace_id="a" * 32)
ACCEPTED = Answer("OK", trace_id="b" * 32, cases=(A,))


def _snapshot(**changes: object) -> Snapshot:
    base = Snapshot(cases={A: b"a", B: b"b"}, history={A: 10, B: 12}, pending=0,
                    last_event=100, inboxes={"queue x": {(A, 1), (B, 1)}}, reports=1)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_nothing_changed_nothing_found() -> None:
    verdict = judge(WORLD, _snapshot(), _snapshot(), [(SIGN, REFUSED)], [])
    assert verdict.violations == [] and sorted(verdict.checked) == [A, B]


def test_a_refused_requests_event_is_named() -> None:
    events = [(101, A, "TASK_SIGNED", REFUSED.trace_id)]
    verdict = judge(WORLD, _snapshot(), _snapshot(), [(SIGN, REFUSED)], events)
    assert len(verdict.violations) == 1
    assert "SignTask was refused (PERMISSION_DENIED" in verdict.violations[0]


def test_an_accepted_request_may_change_its_case_and_only_its_case() -> None:
    events = [(101, A, "TASK_SIGNED", ACCEPTED.trace_id)]
    after = _snapshot(cases={A: b"a2", B: b"b"}, history={A: 14, B: 12})
    verdict = judge(WORLD, _snapshot(), after, [(SIGN, ACCEPTED)], events)
    assert verdict.violations == [] and verdict.checked == [B] and A in verdict.touched
    changed = _snapshot(cases={A: b"a2", B: b"b2"}, history={A: 14, B: 13})
    verdict = judge(WORLD, _snapshot(), changed, [(SIGN, ACCEPTED)], events)
    assert [v for v in verdict.violations if B in v and "history 12 -> 13" in v]


@pytest.mark.parametrize("change", [{"cases": {A: b"a", B: b"b2"}},
                                    {"history": {A: 10, B: 13}},
                                    {"inboxes": {"queue x": {(A, 1), (B, 2)}}}])
def test_a_change_no_ledger_event_shows_is_still_seen(change: dict[str, object]) -> None:
    verdict = judge(WORLD, _snapshot(), _snapshot(**change), [(SIGN, REFUSED)], [])
    assert verdict.violations, change


def test_clocks_may_tick_but_a_delivery_needs_a_request() -> None:
    clock = [(101, B, "LINE_MISSED", ""), (102, B, "NOTICE", "")]
    verdict = judge(WORLD, _snapshot(), _snapshot(history={A: 10, B: 15}),
                    [(SIGN, REFUSED)], clock)
    assert verdict.violations == [] and "clocks" in verdict.touched[B]
    delivery = [(101, B, "TASK_DELIVERED", "")]
    assert judge(WORLD, _snapshot(), _snapshot(), [(SIGN, REFUSED)], delivery).violations


def test_events_of_unknown_traces_need_an_accepted_untraced_request() -> None:
    events = [(101, "case:other@run", "OPENED", "c" * 32)]
    assert judge(WORLD, _snapshot(), _snapshot(), [(SIGN, REFUSED)], events).violations
    form = Probe(Transport.CONSOLE, "POST /act/OpenCase", "x@y", method="POST")
    accepted = Answer("HTTP 303", http=303, trace_id="d" * 32)
    assert not judge(WORLD, _snapshot(), _snapshot(), [(form, accepted)], events).violations
    on_world = [(101, A, "TASK_SIGNED", "c" * 32)]
    assert judge(WORLD, _snapshot(), _snapshot(), [(form, accepted)], on_world).violations


def test_a_roster_changes_only_by_an_accepted_roster_request() -> None:
    before = _snapshot(rosters={"nr": {("officer", "ann", "officer", "h1", False),
                                       ("session", "s1", False)}})
    disabled = _snapshot(rosters={"nr": {("officer", "ann", "officer", "h1", True),
                                         ("session", "s1", True)}})
    disable = Probe(Transport.DESK, "RosterService/DisableOfficer", "duty-officer@nr",
                    message=cs.GetCaseRequest())
    assert judge(WORLD, before, disabled, [(disable, REFUSED)], []).violations
    assert not judge(WORLD, before, disabled, [(disable, ACCEPTED)], []).violations


def test_more_reports_than_accepted_submissions_is_a_violation() -> None:
    submit = Probe(Transport.GRPC, "ReportService/SubmitReport", "x@y",
                   message=rp.SubmitReportRequest())
    verdict = judge(WORLD, _snapshot(), _snapshot(reports=2),
                    [(submit, replace(REFUSED, trace_id="e" * 32))], [])
    assert any("new reports" in v for v in verdict.violations)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_broken_shape_breaks_and_the_valid_one_round_trips(data: st.DataObject
                                                                 ) -> None:
    descriptor = cs.DESCRIPTOR.message_types_by_name["CompleteTaskRequest"]
    message = data.draw(Strategies(Pool()).message(descriptor))
    assert cs.CompleteTaskRequest.FromString(encode(message, Shape())) == message
    shape = data.draw(shapes(descriptor))
    assert shape.name in BROKEN
    raw = encode(message, shape)
    # These parse, as they should (a field of another wire type is kept as unknown):
    # the gateway is to judge what they say, not the parser.
    if shape.name in ("unknown-field", "wide-varint", "empty", "oversize") or (
            shape.name == "wrong-wire-type" and shape.arg in (VARINT, I64, LEN, I32)):
        return
    if shape.name == "garbage":  # random bytes are now and then a message after all
        try:
            cs.CompleteTaskRequest.FromString(raw)
        except DecodeError:
            pass
        return
    with pytest.raises(DecodeError):
        cs.CompleteTaskRequest.FromString(raw)
