"""Each end-to-end module gets a platform of its own, as real processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.platform import Platform

# The modules, the longest first (measured on a 2-core machine, two at a time): `make
# test` hands them out in this order (`--dist loadfile --no-loadscope-reorder`), so the
# long ones start at once and the short ones fill in at the end, instead of the longest
# starting last and running alone. A module not named here runs first.
LONGEST_FIRST = ["test_console_browser", "test_crash_recovery", "test_compose_topology",
                 "test_platform", "test_quick_start", "test_trust_platform",
                 "test_oversight_platform", "test_postgres_platform", "test_officers_day"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if "/e2e/" not in item.path.as_posix():
            return -1
        name = item.path.stem
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else -1
    items.sort(key=rank)  # stable: each module's tests keep their order


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("seamless"))
    running.start_all()
    yield running
    running.stop_all()
