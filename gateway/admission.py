"""Admission: what every call on every transport passes once its caller is known.

Three bounds, so that no identity can exhaust the gateway for the others (OWASP API4):

* a **rate** per identity (a token bucket: a burst, then a steady pace), taken as soon
  as the identity is proven (`pace`, asked by `gateway.auth`);
* **calls in flight** per identity;
* **heavy jobs** (whole-ledger oversight work: scorecards, exports, a whole-ledger
  verification) at once per agency, and on the whole gateway.

A call over a bound is refused at once with RESOURCE_EXHAUSTED and the delay after
which trying again makes sense (google.rpc.RetryInfo, and `retry_after_seconds` in the
ErrorInfo), before its handler runs, so it changes nothing and costs next to nothing.

An identity is a person (agency and officer, from the signed session) or an agency's
service (from its certificate), which forwards the acts of all its officers and so gets
a larger share. Never a request field.

Admission also gives the one answer to a failure nobody foresaw: a generic INTERNAL with
a correlation id (`gateway.errors.internal`), never the exception's own words.

Kept in memory, per gateway process: a restart forgets the counts, which costs an
attacker nothing a restart would not cost them anyway.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from connectrpc.errors import ConnectError

from gateway.callers import Caller, CallerKind
from gateway.errors import GatewayError, abort, internal
from seamless.v1 import oversight_pb2

_OVERSIGHT = oversight_pb2.DESCRIPTOR.services_by_name["OversightService"].full_name
# Calls whose work grows with the whole ledger, not with one case.
HEAVY_METHODS = frozenset(f"/{_OVERSIGHT}/{name}" for name in
                          ("GetScorecards", "ExportEventLog", "VerifyLedger"))
# Identities remembered at once; the longest idle are forgotten first.
MAX_IDENTITIES = 10_000
# Suggested wait when calls in flight, not the pace, are the bound.
BUSY_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Share:
    """What one identity may use: `rate` calls a second after a `burst`, and at most
    `in_flight` calls at once."""
    rate: float
    burst: int
    in_flight: int


@dataclass(frozen=True)
class AdmissionLimits:
    # A person: far beyond clicking through the console or a script's steady work (the
    # benchmark's lead keeps sixteen cases of three tasks each going at once).
    person: Share = Share(rate=50.0, burst=100, in_flight=64)
    # An agency's service relays every act of its officers.
    agency_service: Share = Share(rate=500.0, burst=1000, in_flight=256)
    heavy_per_agency: int = 1
    # As many as the gateway has threads set aside for them (gateway.oversight_service).
    heavy_at_once: int = 2


class _Bucket:
    def __init__(self, share: Share, now: float) -> None:
        self.tokens = float(share.burst)
        self.at = now
        self.in_flight = 0

    def take(self, share: Share, now: float) -> float:
        """0 when a call may start now (and takes its token); otherwise seconds to wait."""
        self.tokens = min(float(share.burst), self.tokens + (now - self.at) * share.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / share.rate


def identity(kind: CallerKind, agency: str, officer: str = "") -> str:
    return f"service:{agency}" if kind is CallerKind.AGENCY else f"{agency}/{officer}"


class Admission:
    def __init__(self, limits: AdmissionLimits | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits or AdmissionLimits()
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._heavy_by_agency: dict[str, int] = {}
        self._heavy = 0

    def _share(self, kind: CallerKind) -> Share:
        return self._limits.agency_service if kind is CallerKind.AGENCY else self._limits.person

    def _bucket(self, key: str, share: Share, now: float) -> _Bucket:
        bucket = self._buckets.pop(key, None) or _Bucket(share, now)
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_IDENTITIES:
            # Forget the longest idle, unless it still has calls running.
            for old, candidate in self._buckets.items():
                if candidate.in_flight == 0:
                    del self._buckets[old]
                    break
        return bucket

    def pace(self, kind: CallerKind, agency: str, officer: str = "") -> None:
        """Take one call from the identity's rate, or raise RESOURCE_EXHAUSTED.

        Asked as soon as the identity is proven by a signature or a certificate, and
        before anything dearer (asking the agency whether the session still stands):
        a flood costs the platform a signature check a call, no more."""
        key, share, now = identity(kind, agency, officer), self._share(kind), self._clock()
        wait = self._bucket(key, share, now).take(share, now)
        if wait:
            raise _exhausted(f"{key} is calling faster than {share.rate:g} calls a second",
                             "RATE_LIMITED", wait)

    def admit(self, method: str, who: Caller) -> Callable[[], None]:
        """Count the call in, or raise RESOURCE_EXHAUSTED; returns what counts it out.

        Synchronous on purpose: no await between the checks and the counting, so calls
        arriving together cannot all pass a bound meant for one of them."""
        key, share = identity(who.kind, who.agency, who.officer), self._share(who.kind)
        bucket = self._bucket(key, share, self._clock())
        if bucket.in_flight >= share.in_flight:
            raise _exhausted(f"{key} already has {bucket.in_flight} calls running; wait "
                             "for one to finish", "TOO_MANY_IN_FLIGHT", BUSY_RETRY_SECONDS)
        heavy = method in HEAVY_METHODS
        if heavy:
            running = self._heavy_by_agency.get(who.agency, 0)
            if running >= self._limits.heavy_per_agency:
                raise _exhausted(f"{who.agency} already has {running} whole-ledger job "
                                 "running (scorecards, an export or a verification); "
                                 "wait for it to finish", "HEAVY_JOB_RUNNING",
                                 BUSY_RETRY_SECONDS)
            if self._heavy >= self._limits.heavy_at_once:
                raise _exhausted("the gateway is running as many whole-ledger jobs as it "
                                 "takes at once", "HEAVY_JOBS_BUSY", BUSY_RETRY_SECONDS)
            self._heavy_by_agency[who.agency] = running + 1
            self._heavy += 1
        bucket.in_flight += 1

        def release() -> None:
            bucket.in_flight -= 1
            if heavy:
                self._heavy -= 1
                left = self._heavy_by_agency[who.agency] - 1
                if left:
                    self._heavy_by_agency[who.agency] = left
                else:
                    del self._heavy_by_agency[who.agency]
        return release

    @asynccontextmanager
    async def serving(self, method: str, who: Caller, context: Any) -> AsyncIterator[None]:
        """Around a call's handler, on gRPC (trust.guard) and HTTP (gateway.http_api,
        whose CallContext speaks the gRPC context's `abort`)."""
        try:
            release = self.admit(method, who)
        except GatewayError as err:
            await abort(context, err)
        try:
            yield
        except (grpc.aio.AbortError, ConnectError):
            raise  # an answer already given
        except GatewayError as err:  # a handler that did not turn its refusal into one
            await abort(context, err)
        except Exception as err:
            await abort(context, internal(err, method))
        finally:
            release()


def _exhausted(message: str, reason: str, retry_after: float) -> GatewayError:
    return GatewayError(grpc.StatusCode.RESOURCE_EXHAUSTED, reason,
                        f"{message}; retry in {retry_after:.1f} s", retry_after=retry_after)

