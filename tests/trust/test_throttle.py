"""The sign-in throttle: an address that failed too often in a window waits."""

from __future__ import annotations

import pytest

from trust.throttle import Throttle


def test_an_address_waits_once_it_failed_too_often() -> None:
    throttle = Throttle(failures=3, window=60)
    for moment in (0, 1, 2):
        assert throttle.wait("a", now=moment) == 0
        throttle.failed("a", now=moment)
    assert throttle.wait("a", now=10) == pytest.approx(50)
    assert throttle.wait("b", now=10) == 0  # another address is not held up
    assert throttle.wait("a", now=60.5) == 0  # the first failure has left the window


def test_it_remembers_a_bounded_number_of_addresses() -> None:
    throttle = Throttle(failures=1, window=60, max_keys=2)
    for address in ("a", "b", "c"):
        throttle.failed(address, now=0)
    assert throttle.wait("a", now=1) == 0  # forgotten, the oldest
    assert throttle.wait("c", now=1) > 0
