"""How every part's database is opened: SQLite (the embedded default) or PostgreSQL
(production), its schema brought to the latest migration before anything else runs.

SQLite runs with write-ahead logging and normal sync: a commit appends to the log instead
of syncing a rollback journal and the database file, and readers (the gateway reading the
ledger) do not block the writer; `synchronous=NORMAL` keeps the database consistent after
a crash, only the last commits before a power cut could be lost, never half of one.

PostgreSQL is reached through psycopg 3. A password never sits in a URL that settings,
logs or a compose file carry: it is read from a file (a container secret) at start.

Every database the project owns has its Alembic migrations next to the code that owns the
tables (`Schema`), and only its owner migrates it: migrating takes a lock first (an
advisory lock on PostgreSQL, the write lock of an SQLite database), as several of an
owner's processes (the workers) may start together.

A process that only reads another's database (the gateway reads the worker's ledger and
checkpoints) opens it with `open_reader`: the database itself refuses that engine's
writes (SQLite opens the file read-only; PostgreSQL starts every transaction READ ONLY),
and the reader waits for the owner to migrate rather than migrating.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, event, inspect, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

from trust.files import read_secret

if TYPE_CHECKING:
    from alembic.config import Config

# Where the migration machinery lives (env.py); each schema's revisions live with it.
_SCRIPTS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Schema:
    """One database's migrations: a folder of Alembic revisions, and the latest of them
    (tests/test_migrations.py holds it to the folder)."""

    name: str
    versions: Path
    head: str


def open_database(url: str, schema: Schema, *, password_file: Path | None = None) -> Engine:
    """An engine for `url` (tuned for its dialect) with `schema` migrated to its head."""
    engine = connect(url, password_file=password_file)
    migrate(engine, schema)
    return engine


def connect(url: str, *, password_file: Path | None = None, read_only: bool = False
            ) -> Engine:
    """An engine for `url`, without touching its schema; with `read_only`, one whose
    writes the database refuses."""
    parsed = make_url(url)
    if password_file is not None:
        parsed = parsed.set(password=read_secret(password_file, "password"))
    if parsed.get_backend_name() == "sqlite":
        if read_only:
            return _sqlite_reader(parsed)
        engine = create_engine(parsed, connect_args={"check_same_thread": False},
                               hide_parameters=True)
        _tune_sqlite(engine)
        return engine
    if read_only:
        parsed = _postgres_reader(parsed)
    # A PostgreSQL restarted under us leaves dead pooled connections: check on checkout.
    # Errors never quote the values they were given: a row can hold personal data (a
    # reporter's contact, an officer's name) and errors reach logs and traces.
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


# How long a reader waits for the owner of a database to migrate it (the gateway, started
# beside a worker that has not migrated the ledger yet).
READER_WAIT_SECONDS = 120.0


class NotMigrated(RuntimeError):
    """A reader gave up waiting for a database's owner to bring its schema to the head."""


def open_reader(url: str, schema: Schema, *, password_file: Path | None = None,
                wait_seconds: float = READER_WAIT_SECONDS) -> Engine:
    """An engine that can only read `url`, once its owner has migrated it to `schema`'s
    head. Never migrates: a reader may not write, and two processes migrating one
    schema is one too many."""
    engine = connect(url, password_file=password_file, read_only=True)
    give_up = time.monotonic() + wait_seconds
    while True:
        try:
            found = recorded_revision(engine, schema)
        except OperationalError:  # no database file yet, or the server not up yet
            found = None
        if found == schema.head:
            return engine
        if time.monotonic() >= give_up:
            engine.dispose()
            raise NotMigrated(
                f"the {schema.name} database ({make_url(url).render_as_string()}) is at "
                f"revision {found or 'none'}, not {schema.head}, after waiting "
                f"{wait_seconds:.0f} s: its owner migrates it (`seamless up` before "
                "starting any process, else the worker at its start)")
        time.sleep(min(1.0, max(0.0, give_up - time.monotonic())))


def _sqlite_reader(url: URL) -> Engine:
    """SQLite opened read-only (`mode=ro`): the file itself is opened for reading, so no
    statement on the connection (not even a PRAGMA) can turn writing back on. It still
    reads a write-ahead-logged database while the writer commits: it shares the -shm
    index beside the file (making it if the writer has closed), never writing the
    database file itself (tests/gateway/test_read_only_records.py)."""
    path = url.database
    if not path or path == ":memory:":
        raise ValueError("a read-only engine reads a database file; an in-memory database "
                         "would be empty")
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"

    def read_only_connection() -> sqlite3.Connection:
        # timeout: the busy timeout, for the moments a reader waits (WAL recovery).
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0)

    # The URL still names the file, so SQLAlchemy pools connections as for any file.
    return create_engine(url, creator=read_only_connection, hide_parameters=True)


def _postgres_reader(url: URL) -> URL:
    """Every transaction of every connection starts READ ONLY: the server refuses its
    writes (and DDL). Kept beside whatever options the URL already gives the server."""
    given = url.query.get("options", "")
    options = " ".join([*(given if isinstance(given, tuple) else [given]),
                        "-c default_transaction_read_only=on"]).strip()
    return url.update_query_dict({"options": options})


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=5000")
        _into_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _into_wal(cursor: Any, tries: int = 100) -> None:
    """Write-ahead logging. Several processes opening a new database at once all ask
    for it, and SQLite answers "database is locked" at once, without waiting out the
    busy timeout, to whichever would otherwise deadlock: that one asks again."""
    for attempt in range(tries):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.05)


# The first key of the two-key advisory locks, one per kind of lock, so a migration's
# lock and a case's (observability.ledger) never collide.
MIGRATION_LOCK = 1
CASE_LOCK = 2
# How long a process waits for another's migration of an SQLite database.
MIGRATION_WAIT_MS = 10 * 60 * 1000


def migrate(engine: Engine, schema: Schema, revision: str = "head") -> None:
    """Upgrade `engine`'s database to `revision` of `schema`, one process at a time, in
    one transaction: a migration that fails leaves the schema as it found it."""
    if revision == "head" and recorded_revision(engine, schema) == schema.head:
        # The usual start: nothing to do, and Alembic (some 11 MiB in every process,
        # eighteen of them under `seamless up`) is not even loaded.
        return
    from alembic import command

    migrating = _transactional(engine)
    try:
        with migrating.begin() as connection:
            if is_postgres(connection):
                # Held until this transaction ends: a second process waits here, then
                # finds the schema at its head.
                connection.execute(text("SELECT pg_advisory_xact_lock(:kind, hashtext(:name))"),
                                   {"kind": MIGRATION_LOCK, "name": schema.name})
            config = alembic_config(schema)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if migrating is not engine:
            migrating.dispose()


def _transactional(engine: Engine) -> Engine:
    """An engine whose transactions hold DDL too. PostgreSQL's do; Python's sqlite3
    commits before a CREATE or ALTER on its own, so for SQLite the driver is told to
    leave transactions alone and the engine begins them itself (SQLAlchemy's recipe)."""
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_engine(engine.url, connect_args={"check_same_thread": False})
    _tune_sqlite(migrating)

    @event.listens_for(migrating, "connect")
    def _driver_leaves_transactions_alone(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(migrating, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE: the write lock first, so a second process starting beside this one
        # waits here (for as long as a migration may take), then finds the head.
        connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrating


def recorded_revision(engine: Engine, schema: Schema) -> str | None:
    """The revision the database says it is at (None: not migrated yet)."""
    table = version_table(schema)  # our own name, never a caller's
    with engine.connect() as connection:
        if not inspect(connection).has_table(table):
            return None
        found = connection.execute(text(f"SELECT version_num FROM {table}")).scalar()
        return str(found) if found is not None else None


def alembic_config(schema: Schema) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("version_locations", str(schema.versions))
    config.set_main_option("version_table", version_table(schema))
    config.set_main_option("path_separator", "os")
    return config


def version_table(schema: Schema) -> str:
    # One table per schema: the ledger's and the gap store's share a database today and
    # could be joined by others without one schema's head hiding another's.
    return f"alembic_version_{schema.name}"


# The escape character of `starting_with` patterns (LIKE has none by default).
LIKE_ESCAPE = "\\"


def starting_with(prefix: str) -> str:
    """A LIKE pattern (escaped with LIKE_ESCAPE) matching text that starts with
    `prefix` taken literally: its own % and _ are not wildcards."""
    escaped = (prefix.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return escaped + "%"
