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

# The store plugins `cargo test` built: under deps/ (cargo build also copies them up a level).
plugin() {
  local name=libglint_store_$1.so dir
  for dir in "$root/target/debug/deps" "$root/target/debug"; do
    [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  echo "missing $name under $root/target/debug: build the workspace first" >&2
  exit 2
}
file_plugin=$(plugin file)
http_plugin=$(plugin http)

log() { printf '== %s\n' "$*" >&2; }

[ -x "$bin" ] || { log "missing $bin: build the workspace first"; exit 2; }

eval "$(bash "$harness/keystone-up.sh" | sed 's/^/export /')"

state=$(mktemp -d /tmp/glint-tempest.XXXXXX)
mkdir -p "$state/fast" "$state/slow"
cat > "$state/glint.toml" <<TOML
bind = "127.0.0.1:$port"
data_dir = "$state/data"
default_store = "fast"

[plugins]
paths = ["$file_plugin", "$http_plugin"]

[stores.fast]
driver = "file"
description = "Fast file store"
options = { datadir = "$state/fast" }

[stores.slow]
driver = "file"
description = "Slow file store"
options = { datadir = "$state/slow" }

[stores.web]
driver = "http"
description = "Read-only web store"

[import_filtering]
allowed_hosts = ["127.0.0.1"]
allowed_ports = [80, 443, ${IMGSRV_PORT:-9394}]

[auth]
strategy = "keystone"

[auth.keystone]
auth_url = "$KEYSTONE_URL"
username = "$KEYSTONE_GLANCE_USER"
password = "$KEYSTONE_GLANCE_PASSWORD"
project_name = "$KEYSTONE_SERVICE_PROJECT"
TOML

export GLINT_CONFIG=$state/glint.toml
"$bin" metadefs load "$shared/reference/metadefs" >&2
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${TEMPEST_GLINT_KEEP:-0}" != 1 ]; then rm -rf "$state"; fi
}
trap cleanup EXIT
if curl -sf -o /dev/null "http://127.0.0.1:$port/versions"; then
  log "something already answers on 127.0.0.1:$port: set TEMPEST_GLINT_PORT"; exit 1
fi
GLINT_LOG=${GLINT_LOG:-info} "$bin" serve > "$state/glint.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$state/glint.log" >&2; exit 1; }
  curl -sf -o /dev/null "http://127.0.0.1:$port/versions" && break
  sleep 0.1
done
log "glint (pid $pid) on 127.0.0.1:$port, state in $state"
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
