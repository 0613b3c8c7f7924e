#!/bin/sh
# Temporal's schema in its two PostgreSQL databases (docker-compose.yml's temporal-schema
# job, in temporalio/admin-tools), brought to the version this admin-tools release ships.
# The databases and their owner exist already (deploy/postgres/init-databases.sh): the
# temporal role may not create databases, so `temporal-sql-tool create` is not run.
# Running it again changes nothing; after an upgrade of the images it applies what is new.
#
# Inputs, the variables temporalio/server reads too: POSTGRES_SEEDS, DB_PORT,
# POSTGRES_USER, DBNAME, VISIBILITY_DBNAME; and TEMPORAL_DATABASE_PASSWORD_FILE, the
# role's password (a file, so that no password is written in the compose file).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${TEMPORAL_DATABASE_PASSWORD_FILE:?}"
SQL_PASSWORD=$(cat "$TEMPORAL_DATABASE_PASSWORD_FILE")  # read by temporal-sql-tool
export SQL_PASSWORD
schema=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --endpoint "$POSTGRES_SEEDS" \
        --port "${DB_PORT:-5432}" --user "$POSTGRES_USER" "$@"
}

sql_tool --database "${DBNAME:-temporal}" setup-schema --version 0.0
sql_tool --database "${DBNAME:-temporal}" update-schema --schema-dir "$schema/temporal/versioned"
sql_tool --database "${VISIBILITY_DBNAME:-temporal_visibility}" setup-schema --version 0.0
sql_tool --database "${VISIBILITY_DBNAME:-temporal_visibility}" update-schema \
    --schema-dir "$schema/visibility/versioned"
echo "Temporal's schema is up to date"
