"""Where `seamless up`'s processes keep their records: SQLite files in the data directory
(the default), or databases on a PostgreSQL server (`--database-url`, or
$SEAMLESS_DATABASE_URL).

On PostgreSQL each owner gets a database of its own, named as in docker-compose.yml
(`ledger` with the gap store, `witness`, `gateway`, `agency_<id>` per agency), made on
the server when missing; the URL's role must be allowed to create databases. Its
password, if the URL carries one, is kept in a private file of the data directory and
handed to the processes as a file, never in their environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import URL, make_url

from agencies.server import SCHEMA as AGENCY_SCHEMA
from cli.provision import record_databases
from gateway.case_numbers import SCHEMA as GATEWAY_SCHEMA
from observability.ledger import SCHEMA as LEDGER_SCHEMA
from observability.projection import SCHEMA as PROJECTION_SCHEMA
from observability.score_store import SCHEMA as SCORES_SCHEMA
from observability.witness import SCHEMA as WITNESS_SCHEMA
from records import database
from trust.files import private_dir, write_private

LEDGER, WITNESS, GATEWAY = "ledger", "witness", "gateway"
# Where `seamless up` finds the server when --database-url does not say.
DATABASE_URL_VARIABLE = "SEAMLESS_DATABASE_URL"


@dataclass(frozen=True)
class Databases:
    """Each owner's database URL (`ledger`, `witness`, `gateway`, or an agency id), and
    the file holding the password those URLs need (None: they need none)."""

    urls: dict[str, str]
    password_file: Path | None = None

    def environment(self, owner: str, prefix: str) -> dict[str, str]:
        """The variables that give `owner`'s database to a process (`prefix` as its
        settings read them: SEAMLESS_AGENCY_, SEAMLESS_LEDGER_, …)."""
        variables = {f"{prefix}DATABASE_URL": self.urls[owner]}
        if self.password_file is not None:
            variables[f"{prefix}DATABASE_PASSWORD_FILE"] = str(self.password_file)
        return variables


def migrate_all(databases: Databases) -> None:
    """Bring every database to its schema's head before the processes start. Each would
    do it itself, but would then keep Alembic loaded (some 11 MiB) for its whole life;
    a process that finds its database at the head never loads it."""
    # The ledger's database holds the score store and the read model too, each a schema
    # of its own.
    schemas = {LEDGER: [LEDGER_SCHEMA, SCORES_SCHEMA, PROJECTION_SCHEMA],
               WITNESS: [WITNESS_SCHEMA],
               GATEWAY: [GATEWAY_SCHEMA]}
    # An SQLite database made here is as private as one its process would make.
    umask = os.umask(0o077)
    try:
        for owner, url in databases.urls.items():
            engine = database.connect(url, password_file=databases.password_file)
            try:
                for schema in schemas.get(owner, [AGENCY_SCHEMA]):
                    database.migrate(engine, schema)
            finally:
                engine.dispose()
    finally:
        os.umask(umask)


def _sqlite_url(path: Path) -> str:
    private_dir(path.parent)
    return f"sqlite:///{path}"


def on_sqlite(data_dir: Path, agencies: list[str]) -> Databases:
    urls = {LEDGER: _sqlite_url(data_dir / "ledger" / "ledger.db"),
            # Kept apart from the ledger: what would cut the ledger short must not reach
            # it too.
            WITNESS: _sqlite_url(data_dir / "witness" / "witness.db"),
            GATEWAY: _sqlite_url(data_dir / "gateway" / "gateway.db")}
    for agency in agencies:
        urls[agency] = _sqlite_url(data_dir / "agencies" / agency / "agency.db")
    return Databases(urls)


def from_command_line(database_url: str) -> str:
    """`database_url` as `--database-url` gave it, refused if it carries a password on
    the command line: `seamless up` runs as long as the platform, and its arguments are
    readable by every user of the host (`ps`), its environment by its own user alone."""
    if not database_url or database_url == os.environ.get(DATABASE_URL_VARIABLE, ""):
        return database_url
    url = make_url(database_url)
    if url.password or "password" in url.query:
        raise SystemExit(f"--database-url: a password on the command line stays readable "
                         f"by every user of this host for as long as the platform runs; "
                         f"put the URL in ${DATABASE_URL_VARIABLE} instead")
    return database_url


def chosen(database_url: str, data_dir: Path, agencies: list[str]) -> Databases:
    """On the PostgreSQL server `database_url` names, else in SQLite files."""
    if database_url:
        return on_postgres(database_url, data_dir, agencies)
    return on_sqlite(data_dir, agencies)


def on_postgres(server_url: str, data_dir: Path, agencies: list[str]) -> Databases:
    """A database per owner on the server `server_url` names, made when missing."""
    server = make_url(server_url)
    if server.get_backend_name() != "postgresql":
        raise SystemExit(f"--database-url: {server.render_as_string()} is not a PostgreSQL "
                         "URL (postgresql://user:password@host:port/database)")
    if "password" in server.query:  # one place for it: the URL's own, kept in a file
        given = server.query["password"]
        server = server.set(password=given if isinstance(given, str) else given[-1]
                            ).difference_update_query(["password"])
    server = server.set(drivername="postgresql+psycopg")
    names = record_databases(agencies)
    _create_missing(server, sorted(names.values()))
    password_file = None
    if server.password:
        password_file = data_dir / "run" / "database-password"
        private_dir(password_file.parent)
        write_private(password_file, str(server.password) + "\n")
    # (URL.set takes None for "unchanged": a URL without the password is made anew.)
    def without_password(database: str) -> str:
        return URL.create(server.drivername, username=server.username, host=server.host,
                          port=server.port, database=database,
                          query=server.query).render_as_string(hide_password=False)
    return Databases({owner: without_password(name) for owner, name in names.items()},
                     password_file)


def _create_missing(server: URL, names: list[str]) -> None:
    """Make the databases the server lacks, closed to every role but their owner (the
    URL's), as docker-compose.yml's init script closes them."""
    # As libpq reads the URL, its query (sslmode, a socket's host…) included.
    conninfo = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as err:
        raise SystemExit(f"--database-url: cannot reach {server.render_as_string()}: "
                         f"{err}") from None
    with connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                database = sql.Identifier(name)
                connection.execute(sql.SQL("CREATE DATABASE {}").format(database))
                connection.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC")
                                   .format(database))
