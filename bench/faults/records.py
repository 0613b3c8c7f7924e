"""Where the platform under the suite keeps each owner's records, opened read-only:
SQLite files in its data directory (the embedded default), or databases on the
PostgreSQL server the suite started for it (`--postgres`, docker-compose.yml's layout:
one server, a database per owner)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from sqlalchemy import Engine

from cli.databases import Databases, chosen
from cli.datadir import Endpoints
from observability import ledger
from records import database
from tests.postgres import PostgresServer, running_server


@dataclass
class Server:
    """The PostgreSQL server the platform's records live on, and how it is reached."""

    running: PostgresServer
    url: str


@contextmanager
def postgres_server() -> Iterator[Server]:
    """A server of the suite's own whose commits survive its being killed, with a role
    that may make databases and signs in with its password, as a deployment's does."""
    password = secrets.token_urlsafe(16)
    with running_server(crash_safe=True) as running:
        with running.connect() as connection:
            connection.execute(sql.SQL("CREATE ROLE seamless LOGIN CREATEDB PASSWORD {}")
                               .format(sql.Literal(password)))
        yield Server(running, f"postgresql://seamless:{password}@127.0.0.1:{running.port}"
                              "/postgres")


def topology(postgres: bool) -> str:
    """How figures name where the records were: `sqlite` or `postgresql`."""
    return "postgresql" if postgres else "sqlite"


class Records:
    """Each owner's records of one platform, read-only, on either topology."""

    def __init__(self, data_dir: Path, database_url: str = "") -> None:
        agencies = sorted(Endpoints.read(data_dir).desks)
        self.databases: Databases = chosen(database_url, data_dir, agencies)
        self._engines: dict[str, Engine] = {}

    def ledger(self) -> Engine:
        """The ledger with its read model (the caller disposes of it)."""
        return ledger.read_ledger(self.databases.urls["ledger"],
                                  password_file=self.databases.password_file)

    def agency(self, agency: str) -> Engine:
        """An agency's own database (its inbox, findings and notices), kept open."""
        if agency not in self._engines:
            self._engines[agency] = database.connect(
                self.databases.urls[agency], password_file=self.databases.password_file,
                read_only=True)
        return self._engines[agency]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()


@contextmanager
def server_if(wanted: bool) -> Iterator[Server | None]:
    """A server of the suite's own when the records are wanted on PostgreSQL."""
    if not wanted:
        yield None
        return
    with postgres_server() as server:
        yield server
