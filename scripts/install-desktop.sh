#!/usr/bin/env bash
# Installs the desktop softphone for the current user: the binary in
# ~/.local/bin, a .desktop entry, and the app as the handler of tel: links,
# so click-to-dial in a browser or CRM runs `softphone tel:+4989123456`.
# Used by `make install`; run it again after a rebuild.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$here/target}"
binary="$target/debug/softphone"
[ -x "$target/release/softphone" ] && binary="$target/release/softphone"
if [ ! -x "$binary" ]; then
  echo "no softphone binary under $target: run 'cargo build --bin softphone' first" >&2
  exit 1
fi

bin_dir="${HOME}/.local/bin"
apps_dir="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$bin_dir" "$apps_dir"
install -m 0755 "$binary" "$bin_dir/softphone"

desktop="$apps_dir/device-at-home-softphone.desktop"
cat > "$desktop" <<ENTRY
[Desktop Entry]
Type=Application
Name=Device@Home softphone
GenericName=Softphone
Comment=OpenStage HFA phone of your office extension, at home
Exec=$bin_dir/softphone %u
Terminal=false
Categories=Network;Telephony;
MimeType=x-scheme-handler/tel;
StartupWMClass=device-at-home-softphone
ENTRY

if command -v update-desktop-database >/dev/null; then
  update-desktop-database "$apps_dir" || true
fi
if command -v xdg-mime >/dev/null; then
  xdg-mime default device-at-home-softphone.desktop x-scheme-handler/tel
  echo "tel: links open with $(xdg-mime query default x-scheme-handler/tel)"
else
  echo "xdg-mime not found (package xdg-utils): tel: links are not registered" >&2
fi
echo "installed $bin_dir/softphone and $desktop"
