"""`seamless up --database-url`: no password on a long-lived command line."""

from __future__ import annotations

import pytest

from cli.databases import DATABASE_URL_VARIABLE, from_command_line


def test_a_password_on_the_command_line_is_refused_and_one_in_the_environment_is_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    for given in ("postgresql://seamless:s3cret@db:5432/postgres",
                  "postgresql://seamless@db/postgres?password=s3cret"):
        with pytest.raises(SystemExit) as refused:
            from_command_line(given)
        assert f"put the URL in ${DATABASE_URL_VARIABLE}" in str(refused.value)
        assert "s3cret" not in str(refused.value)
    assert from_command_line("postgresql://seamless@db/postgres") == \
        "postgresql://seamless@db/postgres"
    monkeypatch.setenv(DATABASE_URL_VARIABLE, "postgresql://seamless:s3cret@db/postgres")
    assert from_command_line("postgresql://seamless:s3cret@db/postgres") == \
        "postgresql://seamless:s3cret@db/postgres"
