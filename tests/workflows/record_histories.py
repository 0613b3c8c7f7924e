"""Record each playbook scenario's history for the replay test: `make histories`.

Run after a deliberate workflow change, declared as a patch (workflows.versions), once
the histories of the version before are moved aside (see tests/workflows/test_replay.py);
commit the new JSON files.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.trust.kit import gateway_sealer
from tests.workflows.harness import case_worker
from tests.workflows.scenarios import SCENARIOS
from workflows import search
from workflows.catalog_loader import load_catalog
from workflows.client import case_handle

HISTORIES = Path(__file__).parent / "histories"
BIN = Path(sys.executable).parent


async def record() -> None:
    catalog = load_catalog()
    HISTORIES.mkdir(exist_ok=True)
    for name, scenario in SCENARIOS.items():
        async with await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=str(BIN / "temporal-test-server"),
                interceptors=[gateway_sealer()]) as env:
            await search.register(env.client)
            async with case_worker(env.client) as (queue, _, _):
                case_id = await scenario(env, catalog, queue)
                handle = case_handle(env.client, case_id)
                await handle.result()
                history = await handle.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
        print(f"{name}: {len(history.events)} events")  # noqa: T201 - a developer tool


if __name__ == "__main__":
    asyncio.run(record())
