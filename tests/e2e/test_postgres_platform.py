"""`seamless up --database-url`: the embedded platform with its records on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from psycopg import sql

from cli.provision import agency_database
from tests.e2e.platform import Platform
from tests.postgres import PostgresServer, running_server

MINING_DEPARTMENTS = ("natural-resources", "public-security", "emergency-management",
                      "ecology-environment")


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_server() as running:
        yield running


@pytest.fixture(scope="module")
def password() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def platform(server: PostgresServer, password: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    # A role that may make databases, signing in over TCP with its password: what a
    # developer's local server or a managed one gives.
    with server.connect() as connection:
        connection.execute(sql.SQL("CREATE ROLE seamless LOGIN CREATEDB PASSWORD {}")
                           .format(sql.Literal(password)))
    url = f"postgresql://seamless:{password}@127.0.0.1:{server.port}/postgres"
    running = Platform(tmp_path_factory.mktemp("seamless-pg"), database_url=url)
    running.start_all()
    yield running
    running.stop_all()


def test_the_records_live_in_postgresql(platform: Platform, server: PostgresServer) -> None:
    platform.cli("demo", "mining")
    for agency in MINING_DEPARTMENTS:
        with server.connect(agency_database(agency)) as connection:
            row = connection.execute("SELECT COUNT(*) FROM finding").fetchone()
            assert row is not None and row[0] == 1, agency
    with server.connect("ledger") as connection:
        row = connection.execute("SELECT COUNT(*) FROM ledger_entry").fetchone()
        assert row is not None and int(str(row[0])) > 10
    assert list(platform.data_dir.rglob("*.db")) == \
        [platform.data_dir / "temporal" / "temporal.db"], "a record went to SQLite"
    assert "every one holds" in platform.cli("audit", "verify").stdout


def test_the_password_is_handed_over_as_a_private_file(platform: Platform,
                                                       password: str) -> None:
    for name, (_command, environment) in platform.table.items():
        assert all(password not in value for value in environment.values()), name
    [password_file] = {v for _c, env in platform.table.values() for k, v in env.items()
                       if k.endswith("_DATABASE_PASSWORD_FILE")}
    assert (platform.data_dir / "run" / "database-password").samefile(password_file)
    assert (platform.data_dir / "run" / "database-password").stat().st_mode & 0o077 == 0
