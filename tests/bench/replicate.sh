#!/usr/bin/env bash
# The livecopy rate of `glint replicate` against a plain copy with curl of the same images.
#
#   tests/bench/replicate.sh SRC DST [COUNT] [MIB]
#
# SRC and DST: noauth Images API v2 endpoints on loopback (Glint or Glance). Creates COUNT
# images of MIB MiB of random data on SRC, then times, on the same images:
#   1. curl: download each image to a file, then create an image on DST and upload the file;
#   2. curl, piped: the download streamed straight into the upload;
#   3. `glint replicate livecopy SRC DST` (which also checks the data against SRC's digests
#      and replicates metadata and members).
# Prints MB/s (10^6 bytes per second) for each. Leaves the images on both sides.
# GLINT: the glint binary (default target/release/glint, else target/debug/glint).
set -euo pipefail
src=${1:?SRC URL}; dst=${2:?DST URL}; count=${3:-4}; mib=${4:-256}
root=$(cd "$(dirname "$0")/../.." && pwd)
glint=${GLINT:-$root/target/release/glint}
[ -x "$glint" ] || glint=$root/target/debug/glint
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bytes=$((count * mib * 1024 * 1024))

create() { # URL NAME -> id
  curl -sf -X POST "$1/v2/images" -H 'content-type: application/json' \
    -d "{\"name\": \"$2\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
upload() { # URL ID (body on stdin or from file $3)
  curl -sf -X PUT "$1/v2/images/$2/file" -H 'content-type: application/octet-stream' \
    -H 'transfer-encoding: chunked' -T "${3:--}"
}
rate() { python3 -c "print(f'{$bytes / ($2 - $1) / 1e6:.1f}')"; }
now() { date +%s.%N; }

ids=()
for i in $(seq "$count"); do
  head -c $((mib * 1024 * 1024)) /dev/urandom > "$tmp/data"
  id=$(create "$src" "bench-$i"); upload "$src" "$id" "$tmp/data"; ids+=("$id")
done
rm -f "$tmp/data"
sync

t0=$(now)
for id in "${ids[@]}"; do
  curl -sf "$src/v2/images/$id/file" -o "$tmp/copy"
  upload "$dst" "$(create "$dst" "curl-$id")" "$tmp/copy"
  rm -f "$tmp/copy"
done
t1=$(now)
for id in "${ids[@]}"; do
  curl -sf "$src/v2/images/$id/file" | upload "$dst" "$(create "$dst" "pipe-$id")"
done
t2=$(now)
"$glint" replicate livecopy "$src" "$dst" >/dev/null
t3=$(now)

echo "images: $count x $mib MiB ($bytes bytes)"
echo "curl download, then upload: $(rate "$t0" "$t1") MB/s"
echo "curl download piped to upload: $(rate "$t1" "$t2") MB/s"
echo "glint replicate livecopy: $(rate "$t2" "$t3") MB/s"
