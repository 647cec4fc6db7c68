#!/usr/bin/env bash
# barbican-down.sh — stop the Barbican that barbican-up.sh started (only the
# pid it recorded, and that pid's children). Keystone and the state (database,
# KEK) are kept.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHARED="${GLINT_SHARED:-$HERE/../../../shared}"
[[ -f $SHARED/backends/lib.sh ]] || SHARED=/work/shared
# shellcheck source=/dev/null
. "$SHARED/backends/lib.sh"
ROOT="${GLINT_HARNESS_STATE:-/tmp/glint-harness}"
STATE="${BARBICAN_STATE:-$ROOT/barbican}"
stop_tree "$STATE/run/uwsgi.pid"
