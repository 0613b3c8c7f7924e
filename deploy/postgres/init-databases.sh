#!/bin/sh
# PostgreSQL's databases and roles for the platform: one role per owner, each owning only
# its own databases, none of which anyone else may connect to.
#
# Which roles, their passwords and their databases are not written here: `seamless
# provision --database-passwords` (docker-compose.yml's provision job) leaves one folder
# per role, holding `password` and `databases` (names, space-separated); this script makes
# a role for each folder it finds. Running it again changes nothing but the passwords, to
# what the files say.
#
# A plain POSIX script over psql, run as the official postgres image runs
# /docker-entrypoint-initdb.d/*.sh on the first start (executed, or sourced: hence the
# subshell), and runnable as such against any server. Inputs, from the environment:
#   POSTGRES_USER                the superuser to connect as (the image sets it; psql's own
#                                PGHOST, PGPORT and PGPASSWORD apply where set)
#   SEAMLESS_DATABASE_ROLES_DIR  the folder of role folders
(
set -eu
roles_dir=${SEAMLESS_DATABASE_ROLES_DIR:?the folder of role folders (seamless provision)}
superuser=${POSTGRES_USER:?the superuser to connect as}

as_superuser() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$superuser" --dbname postgres "$@"
}

found=0
for folder in "$roles_dir"/*/; do
    [ -f "$folder/password" ] || continue
    role=$(basename "$folder")
    found=$((found + 1))
    # The password goes through psql's environment, never its command line (which other
    # users of the machine could read), and this session logs no statement, not even
    # one that fails (the statement that sets it holds it).
    ROLE_PASSWORD=$(cat "$folder/password") as_superuser --set role="$role" <<'SQL'
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
\getenv password ROLE_PASSWORD
SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'role', :'password')
\gexec
SQL
    for database in $(cat "$folder/databases"); do
        as_superuser --set role="$role" --set database="$database" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'role')
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database')
\gexec
SQL
        echo "database $database: owned by $role, closed to every other role"
    done
done
[ "$found" -gt 0 ] || { echo "no role folders in $roles_dir" >&2; exit 1; }
# Nor may a role connect to the maintenance database or the template.
as_superuser --command 'REVOKE CONNECT ON DATABASE postgres FROM PUBLIC'
as_superuser --command 'REVOKE CONNECT ON DATABASE template1 FROM PUBLIC'
)
