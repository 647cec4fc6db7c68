#!/usr/bin/env bash
# Measures the running cluster (up.sh) with the shared bench.py, through
# HAProxy: with one node in (the two others drained by their disable files),
# with all three, and against node 1 directly (the load balancer's cost).
# Sections: sequential and concurrent creates, list/show, 4 concurrent 256 MiB
# uploads and downloads. Around each run, the CPU seconds every part used
# (glint nodes, HAProxy, Galera nodes, Swift) are recorded, so the report
# says where the time went. Writes <out>/<label>.json and <out>/cpu.txt.
#
#   bash tests/cluster/bench.sh [OUT_DIR]    (default $GLINT_CLUSTER_STATE/bench)
#   BENCH_ARGS="--quick" to shorten every run; CLUSTER_LB_KEEPALIVE=1 to
#   measure HAProxy keeping connections to the nodes open.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${1:-$STATE/bench}"
mkdir -p "$OUT"
BENCH="$SHARED/harness/bench.py"
# shellcheck disable=SC2206
EXTRA=(${BENCH_ARGS:-})
ARGS=(--sections a,b,c,e --conc-files 4 --conc-size 256M --create-n 300
      --conc-creates 500 --concurrency 16,64 --list-images 1000 --list-reps 100 "${EXTRA[@]}")

# CPU seconds (user + system, from /proc) of the processes recorded in pid
# files and of their children.
cpu_of() {
  local pids=() f p
  for f in "$@"; do
    [ -s "$f" ] || continue
    p="$(cat "$f")"
    proc_alive "$p" || continue
    pids+=("$p")
    # shellcheck disable=SC2207
    pids+=($(ps -o pid= --ppid "$p" 2>/dev/null || true))
  done
  local ticks=0 t
  for p in "${pids[@]}"; do
    t="$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"
    ticks=$((ticks + t))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}

parts() {
  local i
  for i in "${NODES[@]}"; do echo "glint$i $(glint_pidfile "$i")"; done
  echo "haproxy $STATE/haproxy/haproxy.pid"
  for i in "${NODES[@]}"; do echo "galera$i $(galera_dir "$i")/run/mariadbd.pid"; done
  echo "swift $(ls /tmp/glance-backends/swift/run/*.pid 2>/dev/null | tr '\n' ' ')"
}

snapshot() {
  local name files
  while read -r name files; do
    # shellcheck disable=SC2086
    echo "$name $(cpu_of $files)"
  done < <(parts)
}

run() {
  local label="$1" url="$2" before after
  before="$(snapshot)"
  log "bench $label against $url"
  python3 "$BENCH" --url "$url" --label "$label" --out "$OUT/$label.json" "${ARGS[@]}" \
    | tee "$OUT/$label.txt"
  after="$(snapshot)"
  {
    echo "== $label: CPU seconds per part during the run"
    join <(echo "$before" | sort) <(echo "$after" | sort) | awk '{printf "%-8s %8.2f\n", $1, $3 - $2}'
  } | tee -a "$OUT/cpu.txt"
}

: >"$OUT/cpu.txt"
# HAProxy with this run's settings (CLUSTER_LB_KEEPALIVE).
haproxy_stop
haproxy_start
touch "$(glint_dir 2)/disabled" "$(glint_dir 3)/disabled"
wait_until 20 "haproxy to take glint2 out" server_is glint glint2 DOWN
wait_until 20 "haproxy to take glint3 out" server_is glint glint3 DOWN
trap 'rm -f "$(glint_dir 2)/disabled" "$(glint_dir 3)/disabled"' EXIT
run lb-one-node "http://127.0.0.1:$LB_PORT"
run direct-node1 "$(glint_url 1)"
rm -f "$(glint_dir 2)/disabled" "$(glint_dir 3)/disabled"
wait_until 20 "haproxy to put glint2 back" server_is glint glint2 UP
wait_until 20 "haproxy to put glint3 back" server_is glint glint3 UP
run lb-three-nodes "http://127.0.0.1:$LB_PORT"
python3 "$SHARED/harness/bench_compare.py" "$OUT/lb-one-node.json" "$OUT/direct-node1.json" \
  "$OUT/lb-three-nodes.json" | tee "$OUT/compare.txt"
