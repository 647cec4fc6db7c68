#!/bin/sh
# Install a built glint into PREFIX (default /usr/local) in the layout the
# binary looks in without flags:
#   PREFIX/bin/glint
#   PREFIX/lib/glint/plugins/libglint_*.so   (found as <exe dir>/../lib/glint/plugins)
#   /etc/glint/glint.toml                    (read when no --config is given; ETC overrides)
#   /etc/systemd/system/glint.service        (only when SYSTEMD_DIR is set or exists)
# Usage: packaging/install.sh [PREFIX] [TARGET_DIR]   (TARGET_DIR default target/release)
set -eu
prefix=${1:-/usr/local}
target=${2:-target/release}
etc=${ETC:-/etc/glint}
here=$(dirname "$0")

install -d "$prefix/bin" "$prefix/lib/glint/plugins" "$etc"
install -m 0755 "$target/glint" "$prefix/bin/glint"
# `cargo build` leaves the plugins beside the binary; `cargo test` only in deps/.
for dir in "$target" "$target/deps"; do
  found=no
  for plugin in "$dir"/libglint_store_*.so "$dir"/libglint_metadef_*.so; do
    [ -e "$plugin" ] || continue
    install -m 0644 "$plugin" "$prefix/lib/glint/plugins/"
    found=yes
  done
  [ "$found" = yes ] && break
done
if [ ! -e "$etc/glint.toml" ]; then
  install -m 0640 "$here/glint.toml" "$etc/glint.toml"
fi
if [ -n "${SYSTEMD_DIR:-}" ]; then
  sed "s|/usr/local/bin/glint|$prefix/bin/glint|" "$here/glint.service" > "$SYSTEMD_DIR/glint.service"
fi
echo "installed glint in $prefix (plugins in $prefix/lib/glint/plugins, config in $etc)"
