#!/usr/bin/env bash
# One part of the running cluster, for drills and tests:
#   ctl.sh start|stop|kill|roll glint<i>     (roll: SIGTERM drain, exit, start, back in)
#   ctl.sh drain|undrain glint<i>            (the node's disable file)
#   ctl.sh start|stop galera<i>
#   ctl.sh state glint<i>|galera<i>          (HAProxy's view: UP, DOWN, ...)
#   ctl.sh settings
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action="${1:?action}"; part="${2:-}"
node="${part//[!0-9]/}"
case "$action:$part" in
  settings:*) print_settings ;;
  start:glint?) glint_start "$node" ;;
  stop:glint?) glint_stop "$node" ;;
  kill:glint?) glint_kill "$node" ;;
  roll:glint?) glint_roll "$node" ;;
  drain:glint?) touch "$(glint_dir "$node")/disabled" ;;
  undrain:glint?) rm -f "$(glint_dir "$node")/disabled" ;;
  state:glint?) server_state glint "$part" ;;
  start:galera?) galera_start "$node" ;;
  stop:galera?) galera_stop "$node" ;;
  state:galera?) server_state galera "$part" ;;
  *) die "unknown: $action $part (see the header of $0)" ;;
esac
