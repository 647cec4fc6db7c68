#!/usr/bin/env bash
# Stops what up.sh started (by its pid files only): the Glint nodes, HAProxy
# and the Galera nodes. The shared Swift stays up: other suites use it.
# CLUSTER_PURGE=1 also deletes the state directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for i in "${NODES[@]}"; do glint_stop "$i"; done
haproxy_stop
# The last node to stop is the most advanced; it would bootstrap the next start.
for i in 3 2 1; do galera_stop "$i"; done
if [ "${CLUSTER_PURGE:-0}" = 1 ]; then rm -rf "$STATE"; fi
echo "CLUSTER_STATE=$STATE"
