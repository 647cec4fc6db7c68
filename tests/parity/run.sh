#!/usr/bin/env bash
# Compares Glint with the reference Glance 33, request for request (tests/parity/compare.py).
# Starts, through the shared harness, Keystone, the fixture server and the reference Glance
# with Keystone auth (the first start installs Glance from PyPI, a few minutes), then a Glint
# configured as the reference is (stores fast, slow, web; Glance's bundled metadefs loaded),
# and prints the differences. Exits non-zero when one is not in the script's known list.
#
#   tests/parity/run.sh
#
# PARITY_GLINT_PORT picks Glint's port (9595); PARITY_GLINT_BIN the binary (default: the
# workspace's debug build, with the store plugins beside it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
shared=${GLINT_SHARED:-$root/../shared}
harness=$shared/harness
port=${PARITY_GLINT_PORT:-9595}
bin=${PARITY_GLINT_BIN:-$root/target/debug/glint}

. "$root/tests/reference-glint.sh"
eval "$(bash "$harness/keystone-up.sh" | sed 's/^/export /')"
bash "$harness/imgsrv-up.sh" >/dev/null
eval "$(bash "$harness/glance-ks-up.sh" | sed 's/^/export /')"
pid=
trap 'stop_reference_glint' EXIT
GLINT_LOG=${GLINT_LOG:-warn} start_reference_glint
python3 "$root/tests/parity/compare.py" --glance "$GLANCE_KS_URL" \
  --glint "http://127.0.0.1:$port" --keystone "$KEYSTONE_URL" \
  --admin-password "${KEYSTONE_ADMIN_PASSWORD:-password}" --metadefs "$shared/reference/metadefs"
