#!/usr/bin/env bash
# Compares Glint with the reference Glance 33, request for request (tests/parity/compare.py).
# Starts, through the shared harness, Keystone, the fixture server and the reference Glance
# with Keystone auth (the first start installs Glance from PyPI, a few minutes), then a Glint
# configured as the reference is (stores fast, slow, web; Glance's bundled metadefs loaded),
# and prints the differences. Exits non-zero when one is not in the script's known list.
#
#   tests/parity/run.sh
#
# PARITY_GLINT_PORT picks Glint's port (9595); PARITY_GLINT_BIN the binary (default: the
# workspace's debug build, with the store plugins beside it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${GLINT_SHARED:-$root/../shared}
harness=$shared/harness
port=${PARITY_GLINT_PORT:-9595}
bin=${PARITY_GLINT_BIN:-$root/target/debug/glint}

log() { printf '== %s\n' "$*" >&2; }
plugin() {
  local name=libglint_store_$1.so dir
  for dir in "$(dirname "$bin")/deps" "$(dirname "$bin")"; do
    [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  log "missing $name beside $bin: build the workspace first"; exit 2
}
[ -x "$bin" ] || { log "missing $bin: build the workspace first"; exit 2; }

eval "$(bash "$harness/keystone-up.sh" | sed 's/^/export /')"
bash "$harness/imgsrv-up.sh" >/dev/null
eval "$(bash "$harness/glance-ks-up.sh" | sed 's/^/export /')"

state=$(mktemp -d /tmp/glint-parity.XXXXXX)
mkdir -p "$state/fast" "$state/slow"
cat > "$state/glint.toml" <<TOML
bind = "127.0.0.1:$port"
data_dir = "$state/data"
default_store = "fast"

[plugins]
paths = ["$(plugin file)", "$(plugin http)"]

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
description = "Read-only HTTP store"

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
"$bin" metadefs load "$shared/reference/metadefs" >/dev/null

pid=
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$state"
}
trap cleanup EXIT
GLINT_LOG=${GLINT_LOG:-warn} "$bin" serve > "$state/glint.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$state/glint.log" >&2; exit 1; }
  curl -sf -o /dev/null "http://127.0.0.1:$port/versions" && break
  sleep 0.1
done
python3 "$root/tests/parity/compare.py" --glance "$GLANCE_KS_URL" \
  --glint "http://127.0.0.1:$port" --keystone "$KEYSTONE_URL" \
  --admin-password "${KEYSTONE_ADMIN_PASSWORD:-password}" --metadefs "$shared/reference/metadefs"
