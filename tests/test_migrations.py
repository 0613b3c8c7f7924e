"""Every database the project owns is migrated at start: a new one gets the schema the
code expects, processes starting together migrate it once, and a data directory written
by the release before migrations keeps everything it held."""

from __future__ import annotations

import sqlite3
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, inspect
from sqlmodel import Session, SQLModel

from agencies import models as agency_models
from agencies.server import SCHEMA as AGENCY
from agencies.server import open_database as open_agency
from gateway.case_numbers import SCHEMA as GATEWAY
from gateway.case_numbers import CaseNumber, open_case_numbers
from gateway.open311.keys import Open311Key
from gateway.reports.photos import ReportPhoto
from gateway.reports.store import Report
from observability import audit, gap_store, ledger, score_store, witness
from observability.ledger import SCHEMA as LEDGER
from observability.score_store import SCHEMA as SCORES
from observability.witness import SCHEMA as WITNESS
from records import database
from trust.pki import CertificateStore, PkiFiles

# A data directory as the release of 2026-11-30 left it after `seamless demo day`: each
# agency's database, the ledger (with its gap store), the witness, the gateway's case
# numbers and the platform's public certificates (no key).
RELEASED = Path(__file__).parent / "fixtures" / "released-2026-11-30.tar.gz"


def _tables(*models: type[SQLModel]) -> list[Table]:
    return [model.__table__ for model in models]  # type: ignore[attr-defined]


def open_scores(url: str) -> Engine:
    """The ledger's database with the score store beside it, as the worker opens it."""
    engine = ledger.open_ledger(url)
    score_store.ready(engine)
    return engine


Opener = Callable[..., Engine]
LEDGER_TABLES = _tables(ledger.LedgerEntry, ledger.LedgerHead, gap_store.CaseGap,
                        gap_store.CaseParticipant)
SCHEMAS: dict[str, tuple[database.Schema, Opener, list[Table]]] = {
    "agency": (AGENCY, open_agency, _tables(
        agency_models.InboxItem, agency_models.NoticeRecord, agency_models.Finding,
        agency_models.Officer, agency_models.OfficerSession, agency_models.EvidenceFile,
        agency_models.CustodyEntry, agency_models.Subscription, agency_models.DutyShift,
        agency_models.OutboxEntry)),
    "ledger": (LEDGER, ledger.open_ledger, LEDGER_TABLES),
    # A schema of its own in the ledger's database.
    "scores": (SCORES, open_scores, [*LEDGER_TABLES, *score_store.TABLES]),
    "witness": (WITNESS, witness.open_witness, _tables(witness.Checkpoint)),
    "gateway": (GATEWAY, open_case_numbers, _tables(CaseNumber, Report, Open311Key,
                                                             ReportPhoto)),
}


def head_of(schema: database.Schema) -> str | None:
    return ScriptDirectory.from_config(database.alembic_config(schema)).get_current_head()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_new_database_gets_exactly_the_schema_the_code_expects(name: str,
                                                                database_url: str) -> None:
    schema, open_engine, tables = SCHEMAS[name]
    assert schema.head == head_of(schema), "Schema.head names the folder's latest revision"
    engine = open_engine(database_url)
    assert database.recorded_revision(engine, schema) == head_of(schema)
    assert _differences(engine, tables) == []
    engine.dispose()


def _differences(engine: Engine, tables: list[Table]) -> list[object]:
    """How the database's tables differ from `tables` (the models): (table, column) for
    a column's type, the difference itself otherwise; Alembic's own table left out."""
    expected = MetaData()
    for table in tables:
        table.to_metadata(expected)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), expected)
    differences: list[object] = []
    for difference in found:
        change = difference[0] if isinstance(difference, list) else difference
        if change[0] == "remove_table" and str(change[1].name).startswith("alembic_version"):
            continue
        differences.append((change[2], change[3]) if change[0] == "modify_type" else change)
    return sorted(differences, key=repr)


FAILING_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "broken_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    raise RuntimeError("this migration fails halfway")
'''


def test_a_migration_that_fails_halfway_leaves_nothing_behind(database_url: str,
                                                              tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "broken_0001.py").write_text(FAILING_REVISION)
    schema = database.Schema("broken", versions, "broken_0001")
    with pytest.raises(RuntimeError, match="fails halfway"):
        database.open_database(database_url, schema)
    engine = database.connect(database_url)
    assert not inspect(engine).has_table("half_done")
    assert database.recorded_revision(engine, schema) is None
    engine.dispose()


def test_processes_starting_together_migrate_the_database_once(database_url: str) -> None:
    """The worker and the gateway open the ledger at the same moment at every start."""
    start = threading.Barrier(6)
    engines: list[Engine] = []
    failures: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            engines.append(ledger.open_ledger(database_url))
        except BaseException as err:  # noqa: BLE001 - asserted below
            failures.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert database.recorded_revision(engines[0], LEDGER) == head_of(LEDGER)
    for engine in engines:
        engine.dispose()


def _counts(path: Path, *tables: str) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in tables}


AGENCY_TABLES = ("inbox_item", "notice", "finding", "officer", "officer_session")


def test_a_released_data_directory_is_upgraded_and_loses_nothing(tmp_path: Path) -> None:
    with tarfile.open(RELEASED) as archive:
        archive.extractall(tmp_path, filter="data")
    agency_dbs = sorted(tmp_path.glob("agencies/*/agency.db"))
    databases = {
        tmp_path / "ledger" / "ledger.db": ("ledger_entry", "ledger_head", "case_gap",
                                            "case_participant"),
        tmp_path / "witness" / "witness.db": ("ledger_checkpoint",),
        tmp_path / "gateway" / "gateway.db": ("case_number",),
        **{path: AGENCY_TABLES for path in agency_dbs}}
    before = {path: _counts(path, *tables) for path, tables in databases.items()}
    # What the release held: the demo's work, not empty tables.
    assert before[tmp_path / "ledger" / "ledger.db"]["ledger_entry"] > 20
    assert sum(before[p]["inbox_item"] for p in agency_dbs) > 5
    assert sum(before[p]["finding"] for p in agency_dbs) > 3

    engines = {"ledger": ledger.open_ledger(f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}"),
               "witness": witness.open_witness(
                   f"sqlite:///{tmp_path / 'witness' / 'witness.db'}"),
               "gateway": open_case_numbers(f"sqlite:///{tmp_path / 'gateway' / 'gateway.db'}")}
    for path in agency_dbs:
        open_agency(f"sqlite:///{path}").dispose()
        assert database.recorded_revision(
            database.connect(f"sqlite:///{path}"), AGENCY) == head_of(AGENCY)
    for name, engine in engines.items():
        assert database.recorded_revision(engine, SCHEMAS[name][0]) == head_of(SCHEMAS[name][0])

    after = {path: _counts(path, *tables) for path, tables in databases.items()}
    assert after == before
    # The adopted schema is the one the code expects, but for the gap store's times:
    # INTEGER where a new database has BIGINT, the same 64-bit integer on SQLite.
    assert _differences(engines["ledger"], SCHEMAS["ledger"][2]) == [
        ("case_gap", column) for column in ("deadline_us", "end_us", "start_us")]
    for path in agency_dbs[:2]:
        assert _differences(database.connect(f"sqlite:///{path}"), SCHEMAS["agency"][2]) == []
    # And the record still proves itself: chains, the worker's checkpoints, signatures.
    store = CertificateStore.load(PkiFiles(tmp_path / "pki"))
    reading = witness.read(engines["witness"], store)
    with Session(engines["ledger"]) as session:
        found = audit.audit(session, store, reading,
                            cases=ledger.case_ids(session=session), include_missing=True)
    assert [(v.case_id, v.problem) for v in found.verdicts if not v.intact] == []
    assert reading.problems == [] and reading.checkpoints >= 1
    assert len(found.verdicts) == before[tmp_path / "ledger" / "ledger.db"]["ledger_head"]
    for engine in engines.values():
        engine.dispose()
