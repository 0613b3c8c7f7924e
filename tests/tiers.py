"""The test tiers, declared here alone (`TIERS`: what each holds), and the one rule that
gives each test its tiers (`tiers_of`).

`make test-fast` runs what is in none of them (under a minute, without root); `make
test` runs everything, the e2e tier apart and last.
"""

from __future__ import annotations

import pytest

TIERS = {
    "e2e": "the whole platform as real processes (left out of `make test-fast`)",
    "browser": "the console in Chromium (also e2e)",
    "service": "a gateway in front of a worker and agencies, or an agency's own service, "
               "over real gRPC, HTTP and TLS in the test's process (left out of `make "
               "test-fast`)",
    "thorough": "a derived store proved equal to its source on both databases, a "
                "database's own refusals, races of many threads, memory bounds measured "
                "on large inputs, or workflows left to run for seconds of real time "
                "(left out of `make test-fast`)",
}
E2E_FOLDER = "tests/e2e/"
BROWSER_MODULES = {"tests/e2e/test_console_browser.py"}
SERVICE_FIXTURES = {"gw", "own_gw"}
# Modules that serve a door of their own (Open311), or start agencies' services
# themselves (the worker's deliveries to real agencies over mutual TLS).
SERVICE_MODULES = {"tests/gateway/test_open311.py", "tests/workflows/test_agency_activities.py"}
THOROUGH_MODULES = {
    "tests/fuzz/test_oracle.py",
    "tests/gateway/test_numbering_races.py",
    "tests/gateway/test_read_only_records.py",
    "tests/observability/test_ground_truth.py",
    "tests/observability/test_score_store.py",
    "tests/workflows/test_long_case.py",
    "tests/workflows/test_projection.py",
}


def declare(config: pytest.Config) -> None:
    for name, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def tiers_of(item: pytest.Item, module_path: str) -> list[str]:
    found = []
    if module_path.startswith(E2E_FOLDER):
        found.append("e2e")
    if module_path in BROWSER_MODULES:
        found.append("browser")
    module = getattr(item, "module", None)
    if (SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or module_path in SERVICE_MODULES
            or getattr(module, "running_agency", None) is not None):
        found.append("service")
    if module_path in THOROUGH_MODULES:
        found.append("thorough")
    return found


def mark(items: list[pytest.Item], root: str) -> None:
    for item in items:
        path = item.path.as_posix().removeprefix(root.rstrip("/") + "/")
        for tier in tiers_of(item, path):
            item.add_marker(getattr(pytest.mark, tier))
