"""The case worker process: `python -m workflows` (started by `seamless up`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from observability import telemetry
from observability.ledger import open_ledger
from observability.witness import CHECKPOINT_PERIOD, Witness, keep_witness, open_witness
from trust.files import private_umask
from trust.pki import CertificateStore, Identity, IdentityFiles, PkiFiles, Role
from trust.statements import Signer, StatementType
from workflows import reconcile
from workflows.agency_activities import AgencyActivities
from workflows.client import TASK_QUEUE
from workflows.connect import TemporalSettings, connect
from workflows.ledger_activities import LedgerActivities
from workflows.seals import SealVerifier
from workflows.worker import PRODUCTION_RUNNER, build_worker


class WorkerSettings(TemporalSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")

    task_queue: str = TASK_QUEUE
    # Where each agency's service listens for parties (mutual TLS), as JSON:
    # {"natural-resources": "host:port"}.
    agency_addresses: dict[str, str]
    ledger_database_url: str
    # The password of a database URL that names a user, read from a file (a secret).
    ledger_database_password_file: Path | None = None
    # The worker's own key and certificate; the platform's public certificates, against
    # which the gateway's seals and the agencies' receipts are checked (loaded once: a
    # new gateway or agency certificate needs a worker restart).
    identity_dir: Path
    pki_dir: Path
    # The ledger's witness: signed checkpoints of its heads, in a database of their own.
    witness_database_url: str
    witness_database_password_file: Path | None = None
    witness_period_seconds: float = CHECKPOINT_PERIOD.total_seconds()


async def serve(settings: WorkerSettings) -> None:
    client = await connect(settings)
    pki = PkiFiles(settings.pki_dir)
    identity = Identity.load(IdentityFiles(settings.identity_dir), pki, expect=Role.WORKER)
    store = CertificateStore.load(pki)
    agencies = AgencyActivities(settings.agency_addresses, identity, store)
    signer = Signer(identity)
    ledger_engine = open_ledger(settings.ledger_database_url,
                                password_file=settings.ledger_database_password_file)
    witness = Witness(open_witness(settings.witness_database_url,
                                   password_file=settings.witness_database_password_file),
                      ledger_engine,
                      lambda claims, at: signer.sign(StatementType.CHECKPOINT, claims, at=at))
    # Whatever the ledger holds that no checkpoint saw (a worker killed before its next
    # checkpoint, say) is witnessed first, at once: a worker killed again and again
    # within a checkpoint's period (the fault suite did) would otherwise never witness
    # what its predecessors appended.
    if await asyncio.to_thread(witness.sweep):
        try:
            await asyncio.to_thread(witness.checkpoint)
        except Exception:  # noqa: BLE001 - kept noted: the periodic checkpoint retries
            logging.exception("the first ledger checkpoint failed; retrying later")
    ledger = LedgerActivities(ledger_engine, witness)
    # The score store brought up to the ledger before any append: the whole ledger once,
    # when this is the first worker to keep it; the chains an older worker appended to.
    caught_up = await asyncio.to_thread(ledger.catch_up)
    if caught_up:
        logging.info("score store: derived %d chains from the ledger", caught_up)
    worker = build_worker(client, task_queue=settings.task_queue, activities=[
        agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
        ledger.record_case_events], seals=SealVerifier(store), runner=PRODUCTION_RUNNER)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with worker:
        logging.info("case worker polling %s on %s", settings.task_queue,
                     settings.temporal_address)
        # What was done to cases past the platform, looked for every few minutes.
        watching = asyncio.create_task(reconcile.watch(client, ledger_engine,
                                                       task_queue=settings.task_queue))
        await keep_witness(witness, stop,
                           timedelta(seconds=settings.witness_period_seconds))
        watching.cancel()
    await asyncio.to_thread(witness.checkpoint)
    await agencies.close()


def main() -> None:
    private_umask()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    telemetry.setup_tracing("worker")
    # Everything loaded so far lives as long as the process: keep the collector from
    # walking it again on every full collection (pauses that showed in latency tails).
    gc.freeze()
    asyncio.run(serve(WorkerSettings()))  # type: ignore[call-arg]  # read from the env
    telemetry.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal client's threads can crash the interpreter at exit (sdk-python #300).
    os._exit(0)


if __name__ == "__main__":
    main()
