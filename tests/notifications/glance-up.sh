#!/usr/bin/env bash
# glance-up.sh (notifications) — the harness's glance-up.sh with Glance's
# notifications on: oslo.messaging's messagingv2 driver to the RabbitMQ of
# $GLANCE_TRANSPORT_URL, topic $GLANCE_NOTIFY_TOPIC, exchange
# $GLANCE_CONTROL_EXCHANGE. Used by compare.sh; keep it in step with
# ../shared/harness/glance-up.sh. Idempotent: if it is running, only prints
# the settings.
#
#  * venv:   $GLANCE_VENV, default $GLINT_HARNESS_VENVS/glance (glance==33.0.0,
#            python-glanceclient, uwsgi; shared with glance-ks-up.sh)
#  * config: $GLINT_HARNESS_STATE/glance-etc (glance-api.conf, -paste.ini, uwsgi ini)
#  * data:   $GLINT_HARNESS_STATE/glance-data (SQLite DB, file store, staging, cache)
#  * logs:   $GLINT_HARNESS_STATE/glance-logs
#  * PID:    $GLINT_HARNESS_STATE/glance.pid (uWSGI master; workers are its children)
#
# Glance 33 removed the standalone eventlet `glance-api` server, so the WSGI app
# glance.wsgi.api:application runs under uWSGI (pip builds it; needs gcc and
# Python headers). Auth: empty paste flavor -> "default" pipeline with
# unauthenticated-context (every request is an admin context; X-Auth-Token is
# ignored), and the legacy policy rules (allow). No Keystone. One store, fs.
#
# Env: GLANCE_PORT (9292), GLANCE_PROCESSES (2), GLANCE_THREADS (1),
#      GLANCE_RESET=1 (wipe DB + images first; only when not running),
#      GLANCE_DEBUG=1 (debug logging), GLANCE_LOAD_METADEFS=0 (skip metadefs),
#      GLINT_HARNESS_STATE, GLINT_HARNESS_VENVS, GLANCE_PIP_SPECS.
# Prints KEY=value settings on stdout.
set -euo pipefail
# The harness sits beside the checkout (../shared/harness); a worktree elsewhere uses /work/shared.
HARNESS="${GLINT_HARNESS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/../shared/harness}"
[[ -f $HARNESS/common.sh ]] || HARNESS=/work/shared/harness
. "$HARNESS/common.sh"
TRANSPORT_URL="${GLANCE_TRANSPORT_URL:-rabbit://guest:guest@127.0.0.1:5672/}"
NOTIFY_TOPIC="${GLANCE_NOTIFY_TOPIC:-notifications}"
CONTROL_EXCHANGE="${GLANCE_CONTROL_EXCHANGE:-glance}"
VENV="${GLANCE_VENV:-$VENVS/glance}"
ETC="$STATE/glance-etc"
DATA="$STATE/glance-data"
LOGDIR="$STATE/glance-logs"
PIDFILE="$STATE/glance.pid"
PORT="$GLANCE_PORT"
PROCESSES="${GLANCE_PROCESSES:-2}"
THREADS="${GLANCE_THREADS:-1}"
URL="http://127.0.0.1:$PORT"

settings() {
  cat <<EOF
GLANCE_URL=$URL
GLANCE_PORT=$PORT
GLANCE_TOKEN=fake
GLANCE_PID=$(cat "$PIDFILE")
GLANCE_STATE=$STATE
GLANCE_LOG=$LOGDIR/glance-api.log
EOF
}

if pid_alive "$PIDFILE"; then
  log "already running (pid $(cat "$PIDFILE")); run glance-down.sh first to restart or reset"
  settings
  exit 0
fi

py_venv "$VENV" $GLANCE_PIP_SPECS

if [[ ${GLANCE_RESET:-0} == 1 ]]; then
  log "GLANCE_RESET=1: wiping $DATA"
  rm -rf "$DATA"
fi
mkdir -p "$ETC" "$DATA/images" "$DATA/staging" "$DATA/tasks" "$DATA/cache" "$LOGDIR"

# ---------------------------------------------------------------- config
sed -e "s#^disable_by_file_path = .*#disable_by_file_path = $STATE/glance-healthcheck-disable#" \
    "$VENV/etc/glance/glance-api-paste.ini" > "$ETC/glance-api-paste.ini"

DEBUG=False; [[ ${GLANCE_DEBUG:-0} == 1 ]] && DEBUG=True
cat > "$ETC/glance-api.conf" <<EOF
[DEFAULT]
debug = $DEBUG
log_file = $LOGDIR/glance-api.log
use_stderr = False
# multi-store syntax: required for /v2/info/stores
enabled_backends = fs:file
# used by the sqlite->central-db cache migration check and some import flows
worker_self_reference_url = $URL
image_cache_dir = $DATA/cache
# default hashing algo for os_hash_value (multihash); md5 'checksum' is always computed too
hashing_algorithm = sha512
# notifications, as a deployment turns them on
transport_url = $TRANSPORT_URL
control_exchange = $CONTROL_EXCHANGE

[oslo_messaging_notifications]
driver = messagingv2
topics = $NOTIFY_TOPIC

[database]
connection = sqlite:///$DATA/glance.sqlite

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $DATA/images/

[os_glance_staging_store]
filesystem_store_datadir = $DATA/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $DATA/tasks/

[paste_deploy]
# empty flavor -> 'default' pipeline (unauthenticated-context, no keystone)
flavor =
config_file = $ETC/glance-api-paste.ini

[oslo_policy]
# noauth: the unauthenticated-context middleware gives an is_admin context with
# no roles and no project; with the new (scoped, role-based) defaults every
# image call is 403. Fall back to the legacy rules (default: "" = allow).
enforce_new_defaults = False
enforce_scope = False

[oslo_concurrency]
lock_path = $STATE/glance-locks

[wsgi]
task_pool_threads = 4
EOF

cat > "$ETC/glance-uwsgi.ini" <<EOF
; modelled on devstack's write_local_uwsgi_http_config for glance-api
[uwsgi]
module = glance.wsgi.api:application
home = $VENV
http-socket = 127.0.0.1:$PORT
processes = $PROCESSES
threads = $THREADS
master = true
enable-threads = true
http-raw-body = true
http-chunked-input = true
http-auto-chunked = true
http-keepalive = false
lazy-apps = true
add-header = Connection: close
thunder-lock = true
buffer-size = 65535
; python-glanceclient streams uploads as HTTP/1.1 chunked with 1 MiB chunks;
; uwsgi's default chunked-input-limit (1 MiB) rejects those ("unable to receive
; chunked part" -> HTTP 500). Raise it.
chunked-input-limit = 16777216
hook-master-start = unix_signal:15 gracefully_kill_them_all
die-on-term = true
exit-on-reload = false
worker-reload-mercy = 30
listen = 128
env = OS_GLANCE_CONFIG_DIR=$ETC
env = PYTHONWARNINGS=ignore
logto = $LOGDIR/uwsgi.log
EOF

# ---------------------------------------------------------------- DB
export OS_GLANCE_CONFIG_DIR="$ETC"
if [[ ! -f $DATA/.db_synced ]]; then
  log "glance-manage db_sync (SQLite $DATA/glance.sqlite)"
  "$VENV/bin/glance-manage" --config-file "$ETC/glance-api.conf" db_sync >"$LOGDIR/db_sync.log" 2>&1 \
    || { tail -n 30 "$LOGDIR/db_sync.log" >&2; die "glance-manage db_sync failed"; }
  touch "$DATA/.db_synced"
fi
if [[ ${GLANCE_LOAD_METADEFS:-1} == 1 && ! -f $DATA/.metadefs_loaded ]]; then
  log "glance-manage db_load_metadefs"
  if "$VENV/bin/glance-manage" --config-file "$ETC/glance-api.conf" db_load_metadefs \
       "$VENV/etc/glance/metadefs" >"$LOGDIR/metadefs.log" 2>&1; then
    touch "$DATA/.metadefs_loaded"
  else
    log "db_load_metadefs failed (see $LOGDIR/metadefs.log); continuing"
  fi
fi

# ---------------------------------------------------------------- start
claim_port "$PIDFILE" "$PORT"
log "starting uWSGI glance-api on 127.0.0.1:$PORT (processes=$PROCESSES threads=$THREADS)"
cd "$STATE"
rm -f "$PIDFILE"
start_bg "$PIDFILE" "$LOGDIR/uwsgi.stdout" "$VENV/bin/uwsgi" --ini "$ETC/glance-uwsgi.ini"
schema_ok() { curl -fsS -m 5 -o /dev/null "$URL/v2/schemas/image"; }
if ! (wait_until 120 "glance on $URL" alive_and "$PIDFILE" schema_ok); then
  tail -n 30 "$LOGDIR/uwsgi.log" "$LOGDIR/glance-api.log" >&2 || true
  die "glance did not come up; see $LOGDIR"
fi
log "up: pid $(cat "$PIDFILE")"
settings
