# Sourced by tests/tempest/run.sh and tests/parity/run.sh: a Glint set up as the shared
# harness's reference Glance is (stores `fast` and `slow` on files, `web` over HTTP read-only,
# web-download allowed to the harness's fixture server, Keystone auth with the `glance` service
# user, Glance's bundled metadefs loaded), started on 127.0.0.1:$port.
#
# Needs: root, shared, port, bin; and KEYSTONE_URL, KEYSTONE_GLANCE_USER,
# KEYSTONE_GLANCE_PASSWORD, KEYSTONE_SERVICE_PROJECT (from keystone-up.sh).
# Sets: state (a fresh directory holding the configuration, data and glint.log) and pid.
# The caller stops it with stop_reference_glint (it also removes the state unless told to keep).

log() { printf '== %s\n' "$*" >&2; }

# A store plugin `cargo test` or `cargo build` left beside the binary.
reference_plugin() {
  local name=libglint_store_$1.so dir
  for dir in "$(dirname "$bin")/deps" "$(dirname "$bin")"; do
    [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  log "missing $name beside $bin: build the workspace first"
  exit 2
}

start_reference_glint() {
  [ -x "$bin" ] || { log "missing $bin: build the workspace first"; exit 2; }
  if curl -sf -o /dev/null "http://127.0.0.1:$port/versions"; then
    log "something already answers on 127.0.0.1:$port: choose another port"; exit 1
  fi
  state=$(mktemp -d /tmp/glint-reference.XXXXXX)
  mkdir -p "$state/fast" "$state/slow"
  cat > "$state/glint.toml" <<TOML
bind = "127.0.0.1:$port"
data_dir = "$state/data"
default_store = "fast"

[plugins]
paths = ["$(reference_plugin file)", "$(reference_plugin http)"]

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
  "$bin" metadefs load "$shared/reference/metadefs" >&2
  GLINT_LOG=${GLINT_LOG:-info} "$bin" serve > "$state/glint.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { cat "$state/glint.log" >&2; exit 1; }
    curl -sf -o /dev/null "http://127.0.0.1:$port/versions" && break
    sleep 0.1
  done
  log "glint (pid $pid) on 127.0.0.1:$port, state in $state"
}

# Stops the Glint; keeps its state when $1 is 1.
stop_reference_glint() {
  if [ -n "${pid:-}" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${1:-0}" != 1 ] && [ -n "${state:-}" ]; then rm -rf "$state"; fi
}
