"""Every RPC on every door, fuzzed (OWASP API Top 10: a sample here, ten thousand and more
with `python -m bench.fuzz`): requests generated from the proto descriptors, broken on
the wire, in JSON, in forms and in headers, sent to a gateway with its worker and
agencies (`tests.fuzz`). No answer may be INTERNAL or UNKNOWN (or a 5xx), every part must
still answer afterwards, and no refused request may change a case, an inbox or the
ledger."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.fuzz import campaign, findings
from tests.fuzz.probes import Transport
from tests.fuzz.target import RecordTap, from_harness
from tests.gateway.harness import Gateway

# About three requests for each (transport, RPC or route): all of them, in under a
# minute on two busy cores. The benchmark draws from the same strategies at scale.
SAMPLE = 450
SEED = 20261201


@pytest.fixture(scope="module")
async def tap() -> AsyncIterator[RecordTap]:
    """The platform's log records while it is fuzzed: a finding's traceback."""
    handler = RecordTap()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


async def test_fuzzed_requests_are_answered_and_refusals_change_nothing(
        own_gw: Gateway, tap: RecordTap) -> None:
    target = from_harness(own_gw, tap)
    result = await campaign.run(target, count=SAMPLE, seed_value=SEED, concurrency=4,
                                shrink_budget=8)
    doors = {p.transport for p, _a in result.sent}
    assert doors == set(Transport), f"doors never fuzzed: {set(Transport) - doors}"
    assert result.verdict.checked, "every world case was touched: nothing left to compare"
    problems = [*(f"down afterwards: {part}" for part in result.down),
                *result.verdict.violations,
                *(findings.finding_text(f) for f in result.findings)]
    assert not problems, "\n".join([findings.summary(result), *problems])
