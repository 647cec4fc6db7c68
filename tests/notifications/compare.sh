#!/usr/bin/env bash
# compare.sh — runs the same image flow (flow.py) against the real Glance 33
# (glance-up.sh here: the harness's, with notifications on) and against Glint,
# each sending notifications to the local RabbitMQ on a topic of its own, and
# prints what an oslo.messaging listener received from each, key by key.
#
# Needs: RabbitMQ on 127.0.0.1:5672 (guest/guest), a built target/debug/glint
# with the file store plugin beside it, the harness (../shared/harness).
# Env: GLANCE_PORT (9297), GLINT_PORT (9298), GLINT_HARNESS_STATE
# (/tmp/glint-notify-compare), GLINT_HARNESS_VENVS (/tmp/glint-harness/venvs).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export GLINT_HARNESS_STATE="${GLINT_HARNESS_STATE:-/tmp/glint-notify-compare}"
export GLINT_HARNESS_VENVS="${GLINT_HARNESS_VENVS:-/tmp/glint-harness/venvs}"
export GLANCE_PORT="${GLANCE_PORT:-9297}"
GLINT_PORT="${GLINT_PORT:-9298}"
BROKER="rabbit://guest:guest@127.0.0.1:5672/"
EXCHANGE=glint-compare
RUN="$(date +%s)"
OUT="$GLINT_HARNESS_STATE/compare-$RUN"
mkdir -p "$OUT"

VENV="$REPO/target/debug/pyvenv-oslo-messaging"
if [[ ! -f $VENV/.oslo-messaging-installed ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check oslo.messaging
  touch "$VENV/.oslo-messaging-installed"
fi

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # This script's own Glance (its state dir is private): stopped by its PID, its uWSGI
  # workers with it (die-on-term).
  if [[ -f $GLINT_HARNESS_STATE/glance.pid ]]; then
    kill -TERM "$(cat "$GLINT_HARNESS_STATE/glance.pid")" 2>/dev/null || true
  fi
  for t in "cmp_glance_$RUN" "cmp_glint_$RUN"; do
    for p in info warn error; do rabbitmqctl delete_queue "$t.$p" >/dev/null 2>&1 || true; done
  done
}
trap cleanup EXIT

listen() { # name topic
  "$VENV/bin/python" "$HERE/listener.py" "$BROKER" "$EXCHANGE" "$2" \
    >"$OUT/$1.jsonl" 2>"$OUT/$1-listener.log" &
  PIDS+=("$!")
  for _ in $(seq 600); do grep -q listening "$OUT/$1-listener.log" && return; sleep 0.1; done
  echo "listener $1 did not start" >&2; exit 1
}
listen glance "cmp_glance_$RUN"
listen glint "cmp_glint_$RUN"

echo "starting Glance 33 on $GLANCE_PORT" >&2
GLANCE_RESET=1 GLANCE_LOAD_METADEFS=0 GLANCE_NOTIFY_TOPIC="cmp_glance_$RUN" \
  GLANCE_CONTROL_EXCHANGE="$EXCHANGE" GLANCE_TRANSPORT_URL="$BROKER" \
  bash "$HERE/glance-up.sh" >"$OUT/glance-settings.txt"

echo "starting Glint on $GLINT_PORT" >&2
mkdir -p "$OUT/glint-data"
GLINT_NOTIFICATIONS__TRANSPORT_URL="$BROKER" GLINT_NOTIFICATIONS__CONTROL_EXCHANGE="$EXCHANGE" \
  GLINT_NOTIFICATIONS__TOPICS="[\"cmp_glint_$RUN\"]" \
  "$REPO/target/debug/glint" serve --bind "127.0.0.1:$GLINT_PORT" --data-dir "$OUT/glint-data" \
  >"$OUT/glint.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 300); do curl -fsS -o /dev/null "http://127.0.0.1:$GLINT_PORT/versions" && break; sleep 0.1; done

python3 "$HERE/flow.py" "http://127.0.0.1:$GLANCE_PORT" "OS::Compare::Glance$RUN" >"$OUT/glance-flow.json"
python3 "$HERE/flow.py" "http://127.0.0.1:$GLINT_PORT" "OS::Compare::Glint$RUN" >"$OUT/glint-flow.json"
sleep 5
python3 "$HERE/compare.py" glance "$OUT/glance.jsonl" glint "$OUT/glint.jsonl"
echo >&2; echo "files: $OUT" >&2
