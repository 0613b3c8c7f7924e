"""Each end-to-end module gets a platform of its own, as real processes (in the order
tests/e2e/order.py gives them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.platform import Platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("seamless"))
    running.start_all()
    yield running
    running.stop_all()
