#!/usr/bin/env bash
# Starts the Glint cluster on loopback, or whatever part of it is not running:
# a 3-node MariaDB Galera cluster, HAProxy (Images API, database, statistics),
# the shared store, and three `glint serve` nodes sharing them. Prints KEY=value
# settings (also kept in $GLINT_CLUSTER_STATE/cluster.env). See README.md.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$STATE/run"
apt_install galera-4 mariadb-server mariadb-client rsync haproxy curl
for i in "${NODES[@]}"; do galera_start "$i"; done
galera_setup_users
haproxy_start
wait_until 30 "haproxy to see a Galera node" server_is galera galera1 UP
store_setup
# One node first: it brings the schema up to date; the others find it done.
for i in "${NODES[@]}"; do glint_start "$i"; done
for i in "${NODES[@]}"; do
  wait_until 30 "haproxy to see glint$i" server_is glint "glint$i" UP
done
print_settings | tee "$STATE/cluster.env"
