#!/usr/bin/env bash
# Runs the shared harness's Tempest suite (the one tests/tempest/run.sh runs
# against a single node) against the cluster through HAProxy: three nodes with
# Keystone auth (CLUSTER_AUTH=keystone), the stores the harness expects on
# directories every node writes (CLUSTER_STORE=harness), Glance's metadefs
# loaded once into the shared database. Every Tempest request goes through the
# load balancer, so consecutive requests of one test land on different nodes.
#
#   bash tests/cluster/tempest.sh
#   TEMPEST_REGEX='^tempest\.api\.image\.v2\.test_images_tags' bash tests/cluster/tempest.sh
#
# A cluster of its own, from scratch each time: state GLINT_CLUSTER_STATE
# (default /tmp/glint-cluster-tempest) and ports 100 above the test cluster's
# (API 19392, nodes 19401-19403, Galera 13406-13408, ...), so both can run at
# once. Stopped and deleted at the end unless CLUSTER_KEEP=1. Prints the
# harness's last line, `N passed, N failed, N skipped`, and the run time;
# exits non-zero when a test failed. The results stay in the harness's state
# (`$GLINT_HARNESS_STATE/tempest/results/latest`); the nodes' logs are copied
# to <state>.logs/.
set -euo pipefail
export GLINT_CLUSTER_STATE="${GLINT_CLUSTER_STATE:-/tmp/glint-cluster-tempest}"
export CLUSTER_AUTH=keystone CLUSTER_STORE=harness
export GALERA_BASE_PORT="${GALERA_BASE_PORT:-13405}" GCOMM_BASE_PORT="${GCOMM_BASE_PORT:-14666}"
export GLINT_BASE_PORT="${GLINT_BASE_PORT:-19400}" CLUSTER_LB_PORT="${CLUSTER_LB_PORT:-19392}"
export CLUSTER_DB_LB_PORT="${CLUSTER_DB_LB_PORT:-13400}" CLUSTER_STATS_PORT="${CLUSTER_STATS_PORT:-19390}"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
harness="$SHARED/harness"

# The file and http store plugins a debug build of the workspace left beside the binary.
plugin() {
  local name="libglint_store_$1.so" dir
  for dir in "$(dirname "$GLINT_BIN")/deps" "$(dirname "$GLINT_BIN")"; do
    [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  die "missing $name beside $GLINT_BIN: cargo build -p glint-store-file -p glint-store-http"
}
export GLINT_PLUGIN_PATHS="${GLINT_PLUGIN_PATHS:-[\"$(plugin file)\", \"$(plugin http)\"]}"

eval "$(bash "$harness/keystone-up.sh" | sed 's/^/export /')"
started=$(date +%s)
CLUSTER_PURGE=1 bash "$CLUSTER_HERE/down.sh" >/dev/null
finish() {
  mkdir -p "$STATE.logs"
  local i
  for i in "${NODES[@]}"; do cp -f "$(glint_dir "$i")/glint.log" "$STATE.logs/glint$i.log" 2>/dev/null || true; done
  cp -f "$STATE/haproxy/haproxy.log" "$STATE.logs/" 2>/dev/null || true
  if [ "${CLUSTER_KEEP:-0}" != 1 ]; then CLUSTER_PURGE=1 bash "$CLUSTER_HERE/down.sh" >/dev/null; fi
}
trap finish EXIT
bash "$CLUSTER_HERE/up.sh" >/dev/null
GLINT_CONFIG="$(glint_dir 1)/glint.toml" GLINT_PLUGINS__PATHS="$GLINT_PLUGIN_PATHS" \
  "$GLINT_BIN" metadefs load "$SHARED/reference/metadefs" >&2
log "cluster up in $(($(date +%s) - started)) s; Tempest against http://127.0.0.1:$LB_PORT"

set +e
bash "$harness/tempest-run.sh" "http://127.0.0.1:$LB_PORT" | tee "$STATE/tempest.out"
status=${PIPESTATUS[0]}
set -e
for i in "${NODES[@]}"; do
  if grep -q ' 500 \|panicked' "$(glint_dir "$i")/glint.log"; then
    log "glint$i logged server errors:"; grep -m 10 ' 500 \|panicked' "$(glint_dir "$i")/glint.log" >&2 || true
  fi
done
log "Tempest through the load balancer: $(($(date +%s) - started)) s in all"
exit "$status"
