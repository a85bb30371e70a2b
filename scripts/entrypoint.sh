#!/bin/sh
# Example serving entrypoint: check this container's environment against the training baseline,
# then become the server (exec: same PID, so signals reach it and its exit code is the container's).
#
# Configuration comes from ENVPARITY_* variables set by the image or the deployment:
#   ENVPARITY_BASELINE   the training snapshot: a tag (fraud-train), an id, or a JSON file
#   ENVPARITY_DB_URL     the fleet's PostgreSQL (pass it as a secret, not baked into the image)
#   ENVPARITY_ON_DRIFT   warn (default: log and start) or fail (exit 78 without starting)
#   ENVPARITY_LABELS     k=v,k2=v2 ; ENVPARITY_ROLE (serving) ; ENVPARITY_BUDGET_S (2)
#   ENVPARITY_SPOOL_DIR  where snapshots wait when the database is down (`envparity db flush`)
set -eu

# Deployment facts worth grouping the fleet by, when the orchestrator provides them (e.g. from the
# Kubernetes downward API or the CI that built the image).
extra=""
[ -n "${MODEL_VERSION:-}" ] && extra="model_version=${MODEL_VERSION}"
[ -n "${IMAGE_TAG:-}" ] && extra="${extra:+$extra,}image=${IMAGE_TAG}"
if [ -n "$extra" ]; then
    export ENVPARITY_LABELS="${ENVPARITY_LABELS:+$ENVPARITY_LABELS,}$extra"
fi

if [ "$#" -eq 0 ]; then
    echo "entrypoint.sh: no server command given (set CMD in the Dockerfile)" >&2
    exit 2
fi
exec envparity run -- "$@"
