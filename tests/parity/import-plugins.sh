#!/usr/bin/env bash
# Import plugins against the reference Glance 33 (tests/parity/import_plugins.py): the same
# qcow2, imported by glance-direct and by web-download with `image_conversion` (output raw),
# then again with `inject_image_metadata` too, must give the same image record in both.
#
#   tests/parity/import-plugins.sh
#
# The reference is the shared harness's noauth Glance (glance-up.sh, which installs it on first
# use) with a private state directory and port, and two changes made to the configuration that
# script writes: the paste pipeline trusts the identity headers keystonemiddleware would set
# (`context` instead of `unauthenticated-context`: without a project, Glance 33 cannot create an
# import task, its owner column is NOT NULL), and a glance-image-import.conf with the plugins,
# the import filter letting web-download reach the fixture server on loopback, and uWSGI's
# python for the plugin's `qemu-img info` under prlimit. Glint gets the same settings, with one
# file store named `fs` as the reference has. Both are stopped by their pids at the end.
#
# PARITY_GLINT_BIN picks the binary (default: the workspace's debug build, with the store
# plugins beside it); GLINT_HARNESS_VENVS the harness's virtualenvs (/tmp/glint-harness/venvs);
# PARITY_KEEP=1 keeps the state directory (logs of both servers).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${GLINT_SHARED:-$root/../shared}
harness=$shared/harness
bin=${PARITY_GLINT_BIN:-$root/target/debug/glint}
. "$root/tests/reference-glint.sh"   # log, reference_plugin

command -v qemu-img >/dev/null || { log "qemu-img is needed (qemu-utils)"; exit 2; }
[ -x "$bin" ] || { log "missing $bin: build the workspace first"; exit 2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

state=$(mktemp -d /tmp/glint-import-parity.XXXXXX)
glance_port=$(free_port)
glint_port=$(free_port)
www_port=$(free_port)
mkdir -p "$state/www" "$state/glint"
export GLINT_HARNESS_STATE=$state/glance
export GLINT_HARNESS_VENVS=${GLINT_HARNESS_VENVS:-/tmp/glint-harness/venvs}
etc=$GLINT_HARNESS_STATE/glance-etc
venv=$GLINT_HARNESS_VENVS/glance
glance_pid= glint_pid= www_pid=

stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$glance_pid"; stop "$glint_pid"; stop "$www_pid"
  if [ "${PARITY_KEEP:-0}" = 1 ]; then log "state kept in $state"; else rm -rf "$state"; fi
}
trap cleanup EXIT

wait_for() {  # URL PID WHAT
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || { log "$3 exited"; return 1; }
    curl -sf -o /dev/null -m 5 -H 'X-Identity-Status: Confirmed' -H 'X-Project-Id: parity' \
      "$1" && return 0
    sleep 0.2
  done
  log "$3 did not answer on $1"; return 1
}

# The reference: glance-up.sh installs Glance, writes its configuration and database; it is
# stopped at once and started again below from that configuration, changed as said above.
GLANCE_PORT=$glance_port GLANCE_LOAD_METADEFS=0 bash "$harness/glance-up.sh" >/dev/null
GLANCE_PORT=$glance_port bash "$harness/glance-down.sh" >/dev/null 2>&1
sed -i 's/^\(default = .*\) unauthenticated-context rootapp$/\1 context rootapp/' \
  "$etc/glance-api-paste.ini"
grep -q '^default = .* context rootapp$' "$etc/glance-api-paste.ini" \
  || { log "the reference's paste pipeline was not as expected"; exit 1; }

# plugins: a TOML array of plugin names; inject: "key:value" or empty.
configure() {
  local plugins=$1 inject=$2
  cat > "$etc/glance-image-import.conf" <<EOF
[image_import_opts]
image_import_plugins = ${plugins//\"/\'}

[image_conversion]
output_format = raw

[inject_metadata_properties]
inject = $inject

[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = [80,443,$www_port]

[wsgi]
python_interpreter = $venv/bin/python
EOF
  local table=
  [ -n "$inject" ] && table="${inject%%:*} = \"${inject#*:}\""
  cat > "$state/glint/glint.toml" <<EOF
bind = "127.0.0.1:$glint_port"
data_dir = "$state/glint/data"
default_store = "fs"

[plugins]
paths = ["$(reference_plugin file)"]

[stores.fs]
driver = "file"
options = { datadir = "$state/glint/images" }

[image_import_opts]
image_import_plugins = $plugins

[image_conversion]
output_format = "raw"

[inject_metadata_properties]
inject = { $table }

[import_filtering]
allowed_hosts = ["127.0.0.1"]
allowed_ports = [80, 443, $www_port]
EOF
}

start() {
  (cd "$GLINT_HARNESS_STATE" && exec "$venv/bin/uwsgi" --ini "$etc/glance-uwsgi.ini" \
    >"$GLINT_HARNESS_STATE/uwsgi.out" 2>&1) &
  glance_pid=$!
  GLINT_CONFIG=$state/glint/glint.toml GLINT_LOG=${GLINT_LOG:-info} "$bin" serve \
    >>"$state/glint/glint.log" 2>&1 &
  glint_pid=$!
  wait_for "http://127.0.0.1:$glance_port/v2/schemas/image" "$glance_pid" "the reference Glance" \
    || { tail -n 30 "$GLINT_HARNESS_STATE/glance-logs/glance-api.log" >&2; exit 1; }
  wait_for "http://127.0.0.1:$glint_port/versions" "$glint_pid" "glint" \
    || { tail -n 30 "$state/glint/glint.log" >&2; exit 1; }
}

restart() { stop "$glance_pid"; stop "$glint_pid"; glance_pid= glint_pid=; start; }

python3 -m http.server "$www_port" --bind 127.0.0.1 --directory "$state/www" \
  >/dev/null 2>&1 &
www_pid=$!
wait_for "http://127.0.0.1:$www_port/" "$www_pid" "the fixture server"

compare() {
  python3 "$root/tests/parity/import_plugins.py" --glance "http://127.0.0.1:$glance_port" \
    --glint "http://127.0.0.1:$glint_port" --fixtures "$state/www" \
    --fixture-url "http://127.0.0.1:$www_port" "$@"
}

status=0
configure '["image_conversion"]' ''
start
compare --label image_conversion || status=1
configure '["image_conversion", "inject_image_metadata"]' 'hw_rng_model:virtio'
restart
compare --label "image_conversion + inject_image_metadata" --inject hw_rng_model=virtio || status=1
exit $status
