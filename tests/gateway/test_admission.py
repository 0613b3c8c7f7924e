"""Admission's bounds, on a clock of the test's own: what one identity may use, and that
another identity never pays for it (OWASP API4, unrestricted resource consumption)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from gateway.admission import HEAVY_METHODS, Admission, AdmissionLimits, Share
from gateway.callers import Caller, CallerKind
from gateway.errors import GatewayError

SIGN = "/seamless.v1.CaseService/SignTask"
SCORECARDS = "/seamless.v1.OversightService/GetScorecards"
EXPORT = "/seamless.v1.OversightService/ExportEventLog"
SMALL = AdmissionLimits(person=Share(rate=2.0, burst=3, in_flight=2),
               agency_service=Share(rate=10.0, burst=10, in_flight=5),
               heavy_per_agency=1, heavy_at_once=2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def person(agency: str = "natural-resources", officer: str = "duty") -> Caller:
    return Caller(CallerKind.OFFICER, agency, officer)


def exhausted(admission: Admission, method: str, who: Caller) -> GatewayError:
    with pytest.raises(GatewayError) as refused:
        admission.admit(method, who)
    assert refused.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    assert refused.value.metadata["retry_after_seconds"]
    return refused.value


def paced(admission: Admission, who: Caller) -> GatewayError:
    with pytest.raises(GatewayError) as refused:
        admission.pace(who.kind, who.agency, who.officer)
    assert refused.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    assert refused.value.reason == "RATE_LIMITED"
    return refused.value


def test_api4_a_burst_then_the_pace_and_the_wait_is_told() -> None:
    clock = Clock()
    admission = Admission(SMALL, clock)
    for _ in range(3):
        admission.pace(CallerKind.OFFICER, "natural-resources", "duty")
    assert paced(admission, person()).retry_after == pytest.approx(0.5)
    clock.now += 0.5
    admission.pace(CallerKind.OFFICER, "natural-resources", "duty")


def test_api4_one_identity_over_its_share_costs_another_nothing() -> None:
    admission = Admission(SMALL, Clock())
    for _ in range(3):
        admission.pace(CallerKind.OFFICER, "natural-resources", "duty")
    paced(admission, person())
    admission.pace(CallerKind.OFFICER, "natural-resources", "another")
    admission.pace(CallerKind.OFFICER, "public-security", "duty")
    # An agency's service is an identity of its own, with the larger share.
    for _ in range(10):
        admission.pace(CallerKind.AGENCY, "natural-resources")
    paced(admission, Caller(CallerKind.AGENCY, "natural-resources"))


def test_api4_calls_in_flight_are_bounded_and_counted_out_when_they_end() -> None:
    clock = Clock()
    admission = Admission(SMALL, clock)
    first = admission.admit(SIGN, person())
    admission.admit(SIGN, person())
    assert exhausted(admission, SIGN, person()).reason == "TOO_MANY_IN_FLIGHT"
    first()
    clock.now += 10
    admission.admit(SIGN, person())


def test_api4_one_whole_ledger_job_per_agency_and_few_on_the_gateway() -> None:
    clock = Clock()
    admission = Admission(SMALL, clock)
    assert SCORECARDS in HEAVY_METHODS and EXPORT in HEAVY_METHODS
    running = admission.admit(SCORECARDS, person("oversight", "a"))
    # Another officer of the same body waits too: the bound is the agency's.
    assert exhausted(admission, EXPORT, person("oversight", "b")).reason == \
        "HEAVY_JOB_RUNNING"
    admission.admit(SCORECARDS, person("natural-resources"))
    assert exhausted(admission, EXPORT, person("public-security")).reason == \
        "HEAVY_JOBS_BUSY"
    # Light calls go on meanwhile.
    admission.admit(SIGN, person("public-security"))()
    running()
    admission.admit(EXPORT, person("oversight", "b"))


def test_api4_a_refused_call_takes_no_slot() -> None:
    clock = Clock()
    admission = Admission(SMALL, clock)
    held = admission.admit(SCORECARDS, person())
    for _ in range(2):
        clock.now += 10
        exhausted(admission, SCORECARDS, person())
    held()
    clock.now += 10
    admission.admit(SCORECARDS, person())


class Aborted(Exception):
    pass


class FakeContext:
    """The one word of a servicer context admission speaks: abort."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str, bytes] | None = None

    async def abort(self, code: grpc.StatusCode, details: str = "",
                    trailing_metadata: tuple[tuple[str, bytes], ...] = ()) -> None:
        self.aborted = (code, details, dict(trailing_metadata)["grpc-status-details-bin"])
        raise Aborted


async def test_api8_an_unforeseen_failure_is_told_generically_with_a_correlation_id(
        caplog: pytest.LogCaptureFixture) -> None:
    admission = Admission(SMALL, Clock())
    context = FakeContext()
    with pytest.raises(Aborted):
        async with admission.serving(SIGN, person(), context):
            raise KeyError("workflow case:illegal-mining:secret@run-id internals")
    assert context.aborted is not None
    code, message, details = context.aborted
    assert code is grpc.StatusCode.INTERNAL
    assert "secret" not in message and "KeyError" not in message
    status = status_pb2.Status.FromString(details)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    correlation = info.metadata["correlation_id"]
    assert correlation in message
    # The operators find the whole story under the same id.
    logged = [r for r in caplog.records if correlation in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    # And the call was counted out.
    for _ in range(2):
        admission.admit(SIGN, person())


async def test_api4_a_refusal_carries_retry_info() -> None:
    admission = Admission(SMALL, Clock())
    held = [admission.admit(SIGN, person()) for _ in range(2)]
    context = FakeContext()
    with pytest.raises(Aborted):
        async with admission.serving(SIGN, person(), context):
            raise AssertionError("the handler must not run")
    assert context.aborted is not None
    code, _, details = context.aborted
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    retry = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(details).details[1].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 1000
    for release in held:
        release()
