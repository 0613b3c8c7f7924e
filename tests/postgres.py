"""A real PostgreSQL server for the tests, from Debian's binaries (`make postgres`),
in a temporary directory of its own (not the cluster Debian's package may make).

The superuser connects over the server's Unix socket without a password (trust, local
only); every other role signs in over TCP with its password (SCRAM), as the services do
in production. PostgreSQL refuses to run as root: as root, the server runs as the
`postgres` user that Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from tests.ports import free_port

PG_BIN = Path(os.environ.get("SEAMLESS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"



def postgres_installed() -> bool:
    return (PG_BIN / "initdb").exists()


class PostgresServer:
    def __init__(self, root: Path, port: int, *, crash_safe: bool = False) -> None:
        self.root = root
        self.port = port
        # Whether a commit has reached the operating system before it is acknowledged, so
        # that killing the server loses no committed transaction (the fault suite's
        # server); the tests' servers acknowledge sooner.
        self.crash_safe = crash_safe
        self.data = root / "data"
        self.socket_dir = root / "socket"

    # ----- addresses --------------------------------------------------------------------

    def superuser_url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` as the superuser, over the socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}" \
               f"&port={self.port}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER,
                               dbname=database, autocommit=True)

    # ----- databases --------------------------------------------------------------------

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; its name."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        # FILE_COPY: a copy of the (small) template's files, a third faster than
        # PostgreSQL 15's default of writing each of its pages to the WAL; the same empty
        # database either way.
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {} STRATEGY FILE_COPY")
                               .format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                               .format(sql.Identifier(name)))

    # ----- the server -------------------------------------------------------------------

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", SUPERUSER, "--", *command] if os.getuid() == 0 else command

    def start(self) -> None:
        if not postgres_installed():
            raise RuntimeError(f"PostgreSQL's server binaries are not in {PG_BIN}: run "
                               "`make postgres`")
        self.socket_dir.mkdir(parents=True)
        if os.getuid() == 0:
            owner = pwd.getpwnam(SUPERUSER)
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run(self._as_owner([
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--no-sync"]), check=True, capture_output=True)
        self.start_again()

    def start_again(self) -> None:
        """The server on its existing data (after `stop`: it recovers from its WAL)."""
        # Durability across a machine's crash is not what these tests are about: fsync
        # off makes them fast (a server process killed keeps what it wrote: the machine's
        # page cache holds it).
        commit = "on" if self.crash_safe else "off"
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                   f"-c fsync=off -c synchronous_commit={commit} -c full_page_writes=off "
                   "-c max_connections=300 "
                   # Not UTC: a time read back without its zone would show.
                   "-c timezone=Asia/Shanghai")
        subprocess.run(self._as_owner([
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        """As a crash: every server process ends at once, nothing checkpointed."""
        subprocess.run(self._as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                       "immediate", "-w", "stop"]), capture_output=True)


@contextmanager
def running_server(port: int | None = None, *, crash_safe: bool = False
                   ) -> Iterator[PostgresServer]:
    # Not under pytest's temporary folder: that is private to root, and the server may
    # run as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="seamless-pg-"))
    server = PostgresServer(root, port or free_port(), crash_safe=crash_safe)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
