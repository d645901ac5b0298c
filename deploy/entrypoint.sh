#!/bin/sh
# The image's entrypoint: give this container its own canary when none is configured, then run
# the command (default: `beacon serve`). A canary that every image shares is public, so it proves
# nothing when it shows up in an answer or a log; one per container cannot be known in advance.
# Set BEACON_CANARY (e.g. from a Secret) to choose it, for instance to alert on it across replicas.
set -eu
if [ -z "${BEACON_CANARY:-}" ]; then
    BEACON_CANARY="BEACON-CANARY-$(python -c 'import secrets; print(secrets.token_hex(16))')"
    export BEACON_CANARY
fi
exec "$@"
