#!/bin/sh
# HAProxy's external check of a Galera node (arguments: proxy address and
# port, server address and port): healthy only while the node is Synced
# (wsrep_local_state 4), like the clustercheck script of Galera deployments.
mariadb --no-defaults --connect-timeout=1 -h "$3" -P "$4" -u haproxy_check -N -B \
  -e "SHOW STATUS LIKE 'wsrep_local_state'" 2>/dev/null | awk '$2 == 4 {ok = 1} END {exit !ok}'
