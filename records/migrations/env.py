"""Alembic's entry point for every schema the project owns (`records.database`).

Migrations run in the process that opens the database, on the connection it hands over
(`config.attributes["connection"]`), inside its transaction and lock; there is no
offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through records.database.migrate, which "
                       "hands over a connection")
context.configure(connection=connection,
                  version_table=config.get_main_option("version_table") or "alembic_version",
                  # SQLite alters a table by copying it: a revision that alters a column
                  # uses op.batch_alter_table, and autogenerate writes it that way.
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
