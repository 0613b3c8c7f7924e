"""An agency's tests run its service over real gRPC and TLS in the test's process
(`tests.agencies.harness`): the service tier (`make test`), as the gateway's are."""

from __future__ import annotations

import pytest

from tests.agencies.harness import running_agency


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test of a module that starts the agency's service is of the service tier (left
    out of `make test-fast`)."""
    for item in items:
        module = getattr(item, "module", None)
        if getattr(module, "running_agency", None) is running_agency:
            item.add_marker(pytest.mark.service)
