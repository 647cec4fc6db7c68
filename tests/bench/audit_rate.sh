#!/usr/bin/env bash
# The content audit's read rate against the store's own read rate, on a file store.
#
#   cargo build --release -p glint-core -p glint-store-file
#   tests/bench/audit_rate.sh [SIZE_MIB] [RUNS]
#
# Starts a release `glint serve` on a free loopback port over a scratch data directory, uploads
# one image of SIZE_MIB (default 1024) of random bytes, then RUNS times (default 3): reads the
# stored file with `dd` (the store's own rate), and runs `glint audit --content --image ID`
# unpaced (`content_mb_per_sec = 0`), which reads the same file through the plugin and
# computes md5 and sha512. Both read a file the page cache mostly holds after the upload:
# the ratio shows what the audit adds on top of the read (the digests and the plugin boundary).
set -euo pipefail

size_mib=${1:-1024}
runs=${2:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
glint=$root/target/release/glint
plugin=$root/target/release/libglint_store_file.so
[ -x "$glint" ] && [ -f "$plugin" ] || {
    echo "build first: cargo build --release -p glint-core -p glint-store-file" >&2
    exit 1
}

work=$(mktemp -d /tmp/glint-audit-rate.XXXXXX)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/glint.toml" <<EOF
[cache]
enabled = false
[jobs.audit]
enabled = false
content_mb_per_sec = 0
EOF
export GLINT_CONFIG=$work/glint.toml GLINT_PLUGINS__PATHS="[\"$plugin\"]" GLINT_LOG=warn
(cd "$work" && exec "$glint" serve --bind "127.0.0.1:$port" --data-dir . >glint.log 2>&1) &
pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$url/healthcheck" >/dev/null && break; sleep 0.1; done

head -c "$((size_mib << 20))" /dev/urandom >"$work/image.raw"
id=$(curl -sf -X POST "$url/v2/images" -H 'content-type: application/json' \
    -d '{"disk_format":"raw","container_format":"bare"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X PUT "$url/v2/images/$id/file" -H 'content-type: application/octet-stream' \
    -T "$work/image.raw" >/dev/null
rm "$work/image.raw"
file=$work/images/$id

for run in $(seq "$runs"); do
    start=$(date +%s.%N)
    dd if="$file" of=/dev/null bs=1M status=none
    end=$(date +%s.%N)
    dd_rate=$(python3 -c "print(f'{$size_mib * 1.048576 / ($end - $start):.0f}')")
    audit=$(cd "$work" && "$glint" audit --content --image "$id" --json --data-dir .)
    audit_rate=$(python3 -c "import json; print(f'{json.loads(r\"\"\"$audit\"\"\")[\"content_mb_per_sec\"]:.0f}')")
    echo "run $run: store read (dd) $dd_rate MB/s, content audit $audit_rate MB/s ($size_mib MiB)"
done
