#!/usr/bin/env bash
# Runs the Tempest image suite (tempest.api.image and the glance-tempest-plugin
# RBAC tests) against a Glint started here with Keystone auth, the way the
# shared harness expects an image service: stores `fast` and `slow` (file) and
# `web` (http, read-only), web-download allowed to the fixture server only,
# Glance's stock metadefs loaded.
#
#   tests/tempest/run.sh                 # the whole suite (~10 min on 2 cores)
#   TEMPEST_REGEX='^tempest\.api\.image' tests/tempest/run.sh
#
# Prints the harness's last line, `N passed, N failed, N skipped`; exits
# non-zero when a test failed. TEMPEST_GLINT_BIN picks the binary (default: the
# workspace's debug build), TEMPEST_GLINT_PORT the port (9494).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${GLINT_SHARED:-$root/../shared}
harness=$shared/harness
port=${TEMPEST_GLINT_PORT:-9494}
bin=${TEMPEST_GLINT_BIN:-$root/target/debug/glint}

. "$root/tests/reference-glint.sh"
eval "$(bash "$harness/keystone-up.sh" | sed 's/^/export /')"
pid=
trap 'stop_reference_glint "${TEMPEST_GLINT_KEEP:-0}"' EXIT
start_reference_glint
# Every store must have opened, or the suite measures nothing useful.
stores=$(curl -sf "http://127.0.0.1:$port/v2/info/stores" -H "X-Auth-Token: $(
  curl -sf -o /dev/null -D - "$KEYSTONE_URL/auth/tokens" -H 'Content-Type: application/json' \
    -d "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"$KEYSTONE_GLANCE_USER\", \"domain\": {\"id\": \"default\"}, \"password\": \"$KEYSTONE_GLANCE_PASSWORD\"}}}, \"scope\": {\"project\": {\"name\": \"$KEYSTONE_SERVICE_PROJECT\", \"domain\": {\"id\": \"default\"}}}}}" |
    tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
)")
for store in fast slow web; do
  case "$stores" in
    *"\"$store\""*) ;;
    *) log "store $store did not open:"; cat "$state/glint.log" >&2; exit 1 ;;
  esac
done

set +e
bash "$harness/tempest-run.sh" "http://127.0.0.1:$port" | tee "$state/tempest.out"
status=${PIPESTATUS[0]}
set -e
if grep -q ' 500 \|Traceback\|panicked' "$state/glint.log"; then
  log "glint logged server errors:"; grep -m 20 ' 500 \|panicked' "$state/glint.log" >&2 || true
fi
cp "$state/glint.log" "${TEMPEST_GLINT_LOG:-/tmp/glint-tempest-last.log}"
exit "$status"
