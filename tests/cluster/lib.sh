# The Glint cluster on loopback: settings and one start/stop function per
# part. Sourced by up.sh, down.sh and ctl.sh; see README.md beside it.
# Uses the shared backend helpers (pid files, waits, port claims).

CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLUSTER_HERE/../.." && pwd)"
SHARED="${GLINT_SHARED:-$REPO_ROOT/../shared}"
[ -f "$SHARED/backends/lib.sh" ] || SHARED=/work/shared
# shellcheck source=/dev/null
. "$SHARED/backends/lib.sh"

STATE="${GLINT_CLUSTER_STATE:-/tmp/glint-cluster}"
GLINT_BIN="${GLINT_BIN:-$REPO_ROOT/target/debug/glint}"
# Galera node i (1..3): SQL port GALERA_BASE_PORT+i, group communication
# GCOMM_BASE_PORT+i, incremental state transfer +10, full state transfer +20.
GALERA_BASE_PORT="${GALERA_BASE_PORT:-13305}"
GCOMM_BASE_PORT="${GCOMM_BASE_PORT:-14566}"
# HAProxy: the Images API, the database, and the statistics page (CSV).
LB_PORT="${CLUSTER_LB_PORT:-19292}"
DB_LB_PORT="${CLUSTER_DB_LB_PORT:-13300}"
STATS_PORT="${CLUSTER_STATS_PORT:-19290}"
# Glint node i: API port GLINT_BASE_PORT+i, metrics GLINT_BASE_PORT+10+i.
GLINT_BASE_PORT="${GLINT_BASE_PORT:-19300}"
# "swift" (a tempauth Swift of backends/swift-up.sh: by default the one the
# swift store's own tests use, on its own state and ports, never the default
# Swift that the Keystone tests run in Keystone mode) or "file" (one directory
# every node writes, as a shared filesystem would be) or "harness" (the stores
# the shared harness's Tempest expects: `fast` and `slow` on directories every
# node writes, `web` read-only over HTTP).
CLUSTER_STORE="${CLUSTER_STORE:-swift}"
# "none" (noauth: every caller an administrator) or "keystone": the nodes
# validate tokens against the harness's Keystone (KEYSTONE_URL and the other
# KEYSTONE_* settings keystone-up.sh prints must be in the environment), as
# tests/tempest/run.sh configures its single node.
CLUSTER_AUTH="${CLUSTER_AUTH:-none}"
SWIFT_ENV=(
  "SWIFT_STATE=${CLUSTER_SWIFT_STATE:-/tmp/glance-backends/swift-glint-tempauth}"
  "SWIFT_PROXY_PORT=${CLUSTER_SWIFT_PROXY_PORT:-8090}"
  "SWIFT_BASE_PORT=${CLUSTER_SWIFT_BASE_PORT:-6210}"
  "SWIFT_MEMCACHE_PORT=${CLUSTER_SWIFT_MEMCACHE_PORT:-11213}"
)
# Seconds a dead node's leases live: the time before a live node recovers
# its uploads and takes over its jobs.
CLUSTER_LEASE_SECS="${CLUSTER_LEASE_SECS:-6}"
NODES=(1 2 3)

galera_port() { echo $((GALERA_BASE_PORT + $1)); }
gcomm_port() { echo $((GCOMM_BASE_PORT + $1)); }
glint_port() { echo $((GLINT_BASE_PORT + $1)); }
glint_url() { echo "http://127.0.0.1:$(glint_port "$1")"; }
db_url() { echo "mysql://glint:glint@127.0.0.1:$DB_LB_PORT/glint"; }

# --- Galera -------------------------------------------------------------

galera_dir() { echo "$STATE/galera$1"; }
galera_sock() { echo "$(galera_dir "$1")/run/mysqld.sock"; }
galera_sql() { mariadb --no-defaults -S "$(galera_sock "$1")" -u root -N -B -e "$2"; }
galera_state() { galera_sql "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}'; }
galera_synced() { [ "$(galera_state "$1")" = Synced ]; }
galera_alive() { pid_alive "$(galera_dir "$1")/run/mariadbd.pid"; }

# Whether any node of the cluster runs (then a starting node joins it).
galera_any_alive() {
  local i
  for i in "${NODES[@]}"; do galera_alive "$i" && return 0; done
  return 1
}

galera_start() {
  local i="$1" dir; dir="$(galera_dir "$i")"
  galera_alive "$i" && return 0
  local run_as; run_as="$(id -un)"
  mkdir -p "$dir"/{run,log,tmp}
  [ "$(id -u)" = 0 ] && run_as=mysql
  if [ ! -d "$dir/data/mysql" ]; then
    rm -rf "$dir/data"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$run_as" \
      --auth-root-authentication-method=socket --skip-test-db >>"$dir/log/install-db.log" 2>&1 \
      || { tail -n 20 "$dir/log/install-db.log" >&2; die "mariadb-install-db failed for galera$i"; }
  fi
  [ "$(id -u)" = 0 ] && chown -R mysql:mysql "$dir"
  local gcomm="" j
  for j in "${NODES[@]}"; do gcomm="$gcomm${gcomm:+,}127.0.0.1:$(gcomm_port "$j")"; done
  local bootstrap=()
  # The first node of a cluster that is not running starts a new one.
  if ! galera_any_alive; then bootstrap=(--wsrep-new-cluster); log "galera$i bootstraps the cluster"; fi
  claim_port "$dir/run/mariadbd.pid" "$(galera_port "$i")"
  local gp; gp="$(gcomm_port "$i")"
  start_bg "$dir/run/mariadbd.pid" "$dir/log/stderr.log" /usr/sbin/mariadbd --no-defaults \
    --datadir="$dir/data" --socket="$(galera_sock "$i")" --port="$(galera_port "$i")" \
    --bind-address=127.0.0.1 --user="$run_as" --tmpdir="$dir/tmp" \
    --pid-file="$dir/run/mariadbd.daemon.pid" --log-error="$dir/log/error.log" \
    --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=0 --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_general_ci --max-connections=300 \
    --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
    --wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
    --wsrep-cluster-name=glint-cluster --wsrep-cluster-address="gcomm://$gcomm" \
    --wsrep-node-name="galera$i" --wsrep-node-address="127.0.0.1:$gp" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$gp;ist.recv_addr=127.0.0.1:$((gp + 10));gcache.size=128M" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((gp + 20))" \
    "${bootstrap[@]}"
  wait_until 180 "galera$i to be Synced" alive_and "$dir/run/mariadbd.pid" galera_synced "$i"
}

# Stops a Galera node cleanly (it leaves the cluster; a restart rejoins it by IST).
galera_stop() { stop_pidfiles -t 60 "$(galera_dir "$1")/run/mariadbd.pid"; }

galera_setup_users() {
  galera_sql 1 "CREATE DATABASE IF NOT EXISTS glint CHARACTER SET utf8mb4;
    CREATE USER IF NOT EXISTS 'glint'@'127.0.0.1' IDENTIFIED BY 'glint';
    CREATE USER IF NOT EXISTS 'glint'@'localhost' IDENTIFIED BY 'glint';
    GRANT ALL PRIVILEGES ON *.* TO 'glint'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'glint'@'localhost';
    CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1';"
}

# --- HAProxy --------------------------------------------------------------

# HAProxy to the nodes: idle connections kept and reused (the default), or with
# CLUSTER_LB_KEEPALIVE=0 a connection per request, closed by the node after its
# answer. The latter fails about one request in 1,000 under load: now and then
# the connection to the node breaks before its answer, and HAProxy, as it does
# for a request that came on a reused client connection, closes the client's
# connection without a word and without a log line (the client sees
# "connection closed before message completed", while the node may well have
# carried the request out). docs/scaling.md has the runs.
backend_connections() {
  if [ "${CLUSTER_LB_KEEPALIVE:-1}" = 0 ]; then echo "option http-server-close"; else echo "http-reuse safe"; fi
}

haproxy_write_config() {
  local cfg="$STATE/haproxy/haproxy.cfg" i
  mkdir -p "$STATE/haproxy"
  {
    cat <<EOF
global
    maxconn 4096
    pidfile $STATE/haproxy/haproxy.daemon.pid
    # The Galera check is a script (galera-check.sh): HAProxy must fork it.
    external-check
    insecure-fork-wanted
    # One line per API request on HAProxy's stderr (haproxy.log): the node that
    # answered, the timers, the termination state and the retries (see
    # README.md: reading the log).
    log stderr format raw local0 info
    # The runtime API: `show errors` dumps the last request or response each
    # side got wrong, byte for byte (see README.md).
    stats socket $STATE/haproxy/admin.sock mode 600 level admin

defaults
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout http-request 30s
    retries 3
    option redispatch 1

# The statistics page: each server's state, as CSV at /stats;csv.
listen stats
    mode http
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /stats
    stats refresh 1s

# The Images API. A node is out while its /healthcheck is not 200 (it is
# draining, or gone); a request whose connection fails goes to another node.
frontend images
    mode http
    bind 127.0.0.1:$LB_PORT
    option forwardfor
    log global
    option httplog
    capture response header x-openstack-request-id len 64
    default_backend glint

backend glint
    mode http
    balance roundrobin
    $(backend_connections)
    option httpchk GET /healthcheck
    http-check expect status 200
    retry-on conn-failure empty-response
    # Only a request that was never sent (conn-failure) is safe to send again
    # whatever its method: a POST, PUT, PATCH or DELETE that reached a node may
    # have taken effect there, and replaying it elsewhere answers the client
    # for the replay (a 404 for a DELETE that succeeded, a 409 for an upload).
    http-request disable-l7-retry unless METH_GET
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2
EOF
    for i in "${NODES[@]}"; do
      echo "    server glint$i 127.0.0.1:$(glint_port "$i") check"
    done
    cat <<EOF

# The database: connections spread over the three Galera nodes, so every
# node writes (multi-master) and write conflicts are real. A node is in only
# while it is Synced (a joining node accepts connections but refuses queries),
# and the connections to a node taken out are closed.
listen galera
    mode tcp
    bind 127.0.0.1:$DB_LB_PORT
    balance roundrobin
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $CLUSTER_HERE/galera-check.sh
    default-server inter 1s fastinter 250ms downinter 1s fall 2 rise 2 on-marked-down shutdown-sessions
EOF
    for i in "${NODES[@]}"; do
      echo "    server galera$i 127.0.0.1:$(galera_port "$i") check"
    done
  } >"$cfg"
}

haproxy_start() {
  command -v haproxy >/dev/null || apt_install haproxy
  haproxy_write_config
  local pf="$STATE/haproxy/haproxy.pid"
  pid_alive "$pf" && return 0
  claim_port "$pf" "$LB_PORT"
  haproxy -c -f "$STATE/haproxy/haproxy.cfg" >/dev/null || die "haproxy.cfg is invalid"
  start_bg "$pf" "$STATE/haproxy/haproxy.log" haproxy -db -f "$STATE/haproxy/haproxy.cfg"
  wait_until 20 "haproxy on $STATS_PORT" alive_and "$pf" port_open "$STATS_PORT"
}

haproxy_stop() { stop_pidfiles "$STATE/haproxy/haproxy.pid"; }

# server_state BACKEND SERVER -> UP, DOWN, MAINT, ... as HAProxy sees it.
server_state() {
  curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" | awk -F, -v b="$1" -v s="$2" '$1==b && $2==s {print $18}'
}
server_is() { [ "$(server_state "$1" "$2")" = "$3" ] || [[ "$(server_state "$1" "$2")" == "$3 "* ]]; }

# --- The shared store -------------------------------------------------------

store_setup() {
  case "$CLUSTER_STORE" in
    swift)
      if [ ! -s "$STATE/swift.env" ]; then
        env "${SWIFT_ENV[@]}" bash "$SHARED/backends/swift-up.sh" >"$STATE/swift.env.tmp" || die "swift-up.sh failed"
        mv "$STATE/swift.env.tmp" "$STATE/swift.env"
      else
        # Started by someone else, or stopped since: make sure it runs.
        env "${SWIFT_ENV[@]}" bash "$SHARED/backends/swift-up.sh" >"$STATE/swift.env" || die "swift-up.sh failed"
      fi
      ;;
    file) mkdir -p "$STATE/images" ;;
    harness) mkdir -p "$STATE/fast" "$STATE/slow" ;;
    *) die "CLUSTER_STORE must be swift, file or harness" ;;
  esac
}

store_toml() {
  case "$CLUSTER_STORE" in
    swift)
      local auth user key
      auth="$(sed -n 's/^SWIFT_AUTH_URL=//p' "$STATE/swift.env")"
      user="$(sed -n 's/^SWIFT_USER=//p' "$STATE/swift.env")"
      key="$(sed -n 's/^SWIFT_KEY=//p' "$STATE/swift.env")"
      cat <<EOF
default_store = "swift"
[stores.swift]
driver = "swift"
description = "Shared Swift"
[stores.swift.options]
auth_url = "$auth"
auth_version = "1"
user = "$user"
key = "$key"
container = "glint-cluster"
large_object_size = 67108864
large_object_chunk_size = 33554432
EOF
      ;;
    file)
      cat <<EOF
default_store = "shared"
[stores.shared]
driver = "file"
description = "Shared directory"
options = { datadir = "$STATE/images" }
EOF
      ;;
    harness)
      cat <<EOF
default_store = "fast"
[stores.fast]
driver = "file"
description = "Fast file store"
options = { datadir = "$STATE/fast" }
[stores.slow]
driver = "file"
description = "Slow file store"
options = { datadir = "$STATE/slow" }
[stores.web]
driver = "http"
description = "Read-only HTTP store"
EOF
      ;;
  esac
}

# The nodes' [auth] (and, with Keystone, what the harness's Tempest needs:
# web-download from its fixture server).
auth_toml() {
  case "$CLUSTER_AUTH" in
    none) ;;
    keystone)
      : "${KEYSTONE_URL:?CLUSTER_AUTH=keystone needs the settings of keystone-up.sh in the environment}"
      cat <<EOF

[auth]
strategy = "keystone"

[auth.keystone]
auth_url = "$KEYSTONE_URL"
username = "$KEYSTONE_GLANCE_USER"
password = "$KEYSTONE_GLANCE_PASSWORD"
project_name = "$KEYSTONE_SERVICE_PROJECT"
# Each node validates (and caches) every token on its own: three times the
# validations of one node, on a Keystone that shares the 2 test cores.
timeout_secs = ${CLUSTER_KEYSTONE_TIMEOUT_SECS:-30}

[import_filtering]
allowed_hosts = ["127.0.0.1"]
allowed_ports = [80, 443, ${IMGSRV_PORT:-9394}]
EOF
      ;;
    *) die "CLUSTER_AUTH must be none or keystone" ;;
  esac
}

# --- Glint nodes ------------------------------------------------------------

glint_dir() { echo "$STATE/glint$1"; }
glint_pidfile() { echo "$STATE/run/glint$1.pid"; }
glint_alive() { pid_alive "$(glint_pidfile "$1")"; }
glint_ready() { curl -sf -o /dev/null "$(glint_url "$1")/healthcheck"; }

glint_write_config() {
  local i="$1" dir; dir="$(glint_dir "$i")"
  mkdir -p "$dir"
  {
    cat <<EOF
bind = "127.0.0.1:$(glint_port "$i")"
data_dir = "$dir"
worker_self_reference_url = "$(glint_url "$i")"
EOF
    store_toml
    cat <<EOF

[database]
url = "$(db_url)"

[health]
disable_by_file = "$dir/disabled"
drain_secs = 3

[metrics]
bind = "127.0.0.1:$((GLINT_BASE_PORT + 10 + i))"

[cache]
dir = "$dir/cache"
uncached_drivers = []

[jobs]
lease_secs = $CLUSTER_LEASE_SECS
shutdown_grace_secs = 10

[jobs.recovery]
interval_secs = 2
EOF
    auth_toml
  } >"$dir/glint.toml"
}

glint_start() {
  local i="$1" pf; pf="$(glint_pidfile "$i")"
  mkdir -p "$STATE/run"
  glint_alive "$i" && return 0
  [ -x "$GLINT_BIN" ] || die "$GLINT_BIN is missing: cargo build -p glint-core --bin glint"
  glint_write_config "$i"
  claim_port "$pf" "$(glint_port "$i")"
  local env=(GLINT_LOG="${GLINT_LOG:-info,sqlx=warn}")
  [ -n "${GLINT_PLUGIN_PATHS:-}" ] && env+=(GLINT_PLUGINS__PATHS="$GLINT_PLUGIN_PATHS")
  start_bg "$pf" "$(glint_dir "$i")/glint.log" env -u GLINT_BIN -u GLINT_PLUGIN_PATHS -u GLINT_CLUSTER_STATE -u GLINT_CLUSTER_KEEP "${env[@]}" "$GLINT_BIN" serve \
    --config "$(glint_dir "$i")/glint.toml"
  wait_until 60 "glint$i on $(glint_port "$i")" alive_and "$pf" glint_ready "$i"
}

glint_stop() { stop_pidfiles -t 30 "$(glint_pidfile "$1")"; }

# kill -9, as a crash: no drain, no shutdown.
glint_kill() {
  local pf; pf="$(glint_pidfile "$1")"
  pid_alive "$pf" && kill -KILL "$(cat "$pf")"
  rm -f "$pf"
}

# A rolling restart's step for node i: SIGTERM, upon which the node drains
# (its health check answers 503 for [health] drain_secs while it still
# serves), HAProxy takes it out, the node finishes its requests and exits;
# then it starts again and HAProxy puts it back.
glint_roll() {
  local i="$1" pf pid; pf="$(glint_pidfile "$i")"
  pid="$(cat "$pf")"
  kill -TERM "$pid"
  wait_until 20 "haproxy to take glint$i out" server_is glint "glint$i" DOWN
  wait_until 60 "glint$i to exit" bash -c "! kill -0 $pid 2>/dev/null"
  rm -f "$pf"
  glint_start "$i"
  wait_until 20 "haproxy to put glint$i back" server_is glint "glint$i" UP
}

print_settings() {
  cat <<EOF
CLUSTER_STATE=$STATE
CLUSTER_URL=http://127.0.0.1:$LB_PORT
CLUSTER_NODE_URLS=$(glint_url 1),$(glint_url 2),$(glint_url 3)
CLUSTER_DB_URL=$(db_url)
CLUSTER_GALERA_PORTS=$(galera_port 1),$(galera_port 2),$(galera_port 3)
CLUSTER_STATS_URL=http://127.0.0.1:$STATS_PORT/stats;csv
CLUSTER_STORE=$CLUSTER_STORE
CLUSTER_AUTH=$CLUSTER_AUTH
CLUSTER_LEASE_SECS=$CLUSTER_LEASE_SECS
EOF
}
