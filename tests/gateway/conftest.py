"""The gateway's tests share one gateway per test process (a fresh platform in a folder
of its own), in front of a real worker and real agency services: starting one takes a
few seconds, and each test makes cases of its own, so they need no more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.gateway.harness import Gateway, running_gateway
from workflows.catalog_loader import Catalog


@pytest.fixture(scope="session")
async def gw(dev_env: WorkflowEnvironment, catalog: Catalog,
             tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(dev_env.client, catalog,
                               tmp_path_factory.mktemp("gateway")) as gateway:
        yield gateway


@pytest.fixture(scope="module")
async def own_gw(dev_env: WorkflowEnvironment, catalog: Catalog,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """A gateway for one module alone: for tests that count everything a platform
    holds (figures across cases, pages of them)."""
    async with running_gateway(dev_env.client, catalog,
                               tmp_path_factory.mktemp("gateway")) as gateway:
        yield gateway
