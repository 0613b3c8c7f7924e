#!/bin/sh
# Starts temporalio/server with its database password read from a file: the image takes
# the password from POSTGRES_PWD alone, and a value written in the compose file would be
# a secret in plain sight (and in `docker inspect`). Then the image's own entrypoint.
set -eu
POSTGRES_PWD=$(cat "${TEMPORAL_DATABASE_PASSWORD_FILE:?the temporal role's password file}")
export POSTGRES_PWD
exec /etc/temporal/entrypoint.sh "$@"
