"""Each module of the gateway's tests gets a gateway of its own (a fresh platform in a
folder of its own), in front of a real worker and real agency services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.gateway.harness import Gateway, running_gateway
from workflows.catalog_loader import Catalog


@pytest.fixture(scope="module")
async def gw(dev_env: WorkflowEnvironment, catalog: Catalog,
             tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(dev_env.client, catalog,
                               tmp_path_factory.mktemp("gateway")) as gateway:
        yield gateway
