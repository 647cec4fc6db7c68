#!/usr/bin/env bash
# The plugin's own CI: build the library, run the conformance kit, then load the library into a
# released `glint` and store, read (whole and ranged) and delete an image through it.
#
#   GLINT=/usr/bin/glint ./ci.sh
#
# GLINT            the glint executable to load the plugin into (default: `glint` on PATH)
# PROFILE          release (default) or debug
# CARGO_TARGET_DIR where cargo builds (default: ./target)
# Needs cargo, curl and python3 (for reading JSON).
set -euo pipefail
cd "$(dirname "$0")"

# What a copy of this template changes: the crate's library name and the driver it exports.
library=libglint_store_dirhash.so
driver=dirhash

glint=${GLINT:-$(command -v glint || true)}
if [ -z "$glint" ] || [ ! -x "$glint" ]; then
  echo "ci.sh: no glint executable; set GLINT=/path/to/glint" >&2
  exit 2
fi
profile=${PROFILE:-release}
flags=(--locked)
[ "$profile" = release ] && flags+=(--release)
target=${CARGO_TARGET_DIR:-target}

step() { printf '== %s\n' "$*" >&2; }

step "build the library ($profile)"
cargo build "${flags[@]}"
lib=$(cd "$target/$profile" && pwd)/$library
[ -f "$lib" ] || { echo "ci.sh: $lib was not built" >&2; exit 1; }

step "conformance kit"
cargo test "${flags[@]}"

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/glint.toml" <<EOF
default_store = "ci"

[plugins]
paths = ["$lib"]

[stores.ci]
driver = "$driver"
description = "the plugin under test"
options = { root = "$work/objects" }
EOF
export GLINT_CONFIG=$work/glint.toml

step "glint plugins list ($("$glint" --version 2>/dev/null || echo "$glint"))"
"$glint" plugins list --json >"$work/plugins.json" || true   # the check below says why
python3 - "$work/plugins.json" "$driver" "$lib" <<'EOF'
import json, sys
listing, driver, lib = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
plugin = next((p for p in listing["plugins"] if p["driver"] == driver), None)
if plugin is None:
    sys.exit(f"glint did not load driver {driver}: refused {listing['refused']}")
assert plugin["file"] == lib, plugin
store = plugin["stores"][0]
assert store["id"] == "ci" and store["capabilities"].get("write") is True, store
print(f"loaded {plugin['file']}: built with glint-sdk {plugin['sdk_version']}, glint speaks plugin ABI {plugin['host_abi_version']}")
EOF

step "serve, upload, download, delete"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$glint" serve --bind "127.0.0.1:$port" --data-dir "$work/data" >"$work/glint.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "$url/versions" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/glint.log" >&2; exit 1; }
  sleep 0.1
done
fail() { echo "ci.sh: $*" >&2; cat "$work/glint.log" >&2; exit 1; }
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

head -c 3145745 /dev/urandom >"$work/image"
id=$(curl -fsS -X POST "$url/v2/images" -H 'content-type: application/json' \
  -d '{"name": "plugin-ci", "disk_format": "raw", "container_format": "bare"}' | json '["id"]')
curl -fsS -X PUT "$url/v2/images/$id/file" -H 'content-type: application/octet-stream' \
  --data-binary "@$work/image" || fail "upload failed"
[ "$(curl -fsS "$url/v2/images/$id" | json '["status"]')" = active ] || fail "image not active"
curl -fsS "$url/v2/images/$id/file" -o "$work/download"
cmp -s "$work/image" "$work/download" || fail "download differs from upload"
curl -fsS -H 'range: bytes=1048570-1048589' "$url/v2/images/$id/file" -o "$work/range"
cmp -s "$work/range" <(tail -c +1048571 "$work/image" | head -c 20) || fail "ranged download differs"
curl -fsS -X DELETE "$url/v2/images/$id" || fail "delete failed"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/images/$id")" = 404 ] || fail "image outlived its delete"
step "ok: $driver built, passed the kit and served an image in $glint"
