#!/bin/sh
# The platform's Temporal namespace and the search attributes the case lists filter on
# (docker-compose.yml's temporal-namespace job, in temporalio/admin-tools), once the
# server answers. Running it again changes nothing.
#
# Inputs: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (read by the `temporal` CLI as well),
# NAMESPACE_RETENTION (how long closed cases' histories are kept, default 720h), and
# SEARCH_ATTRIBUTES: NAME=Type pairs, space-separated, as workflows/search.py names them
# (a test holds the compose file's list to that module).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
namespace=$TEMPORAL_NAMESPACE

# Tries a command every 2 s, for up to two minutes.
retry() {
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            echo "gave up: $*" >&2
            return 1
        fi
        sleep 2
    done
}

retry temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null
if ! temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
    temporal operator namespace create --namespace "$namespace" \
        --retention "${NAMESPACE_RETENTION:-720h}"
fi

registered() {
    temporal operator search-attribute list --namespace "$namespace" | grep -q -w "$1"
}
for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%=*}
    type=${pair#*=}
    if ! registered "$name"; then
        # A namespace just made takes a moment to reach every part of the server.
        retry temporal operator search-attribute create --namespace "$namespace" \
            --name "$name" --type "$type"
    fi
    retry registered "$name"
done
echo "namespace $namespace is ready, with its search attributes"
