#!/bin/sh
# Regenerates clients/python/glint-client from openapi/glint.json with the pinned generator.
# Usage: clients/python/generate.sh [OUTPUT_DIR]   (default: clients/python/glint-client)
# Needs `openapi-python-client` on PATH (pip install -r clients/python/requirements-generate.txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/glint-client}
openapi-python-client generate \
    --path "$here/../../openapi/glint.json" \
    --config "$here/openapi-python-client.yaml" \
    --output-path "$out" \
    --overwrite \
    --meta poetry
