#!/usr/bin/env bash
# Screenshots of the real window for the README: the `make run` demo under
# Xvfb, idle, in the echo test, and back at rest with the call in the
# journal; then the live views in the echo test (the demo started again,
# dialling it itself): the path view, and the quality panel after 20 s of
# figures. Writes docs/screenshot-{idle,call,journal,path,quality}.png.
# Needs the
# packages of `scripts/install-deps.sh all` (xvfb, xdotool, imagemagick)
# and a built `softphone` (cargo build --bin softphone).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
binary="${CARGO_TARGET_DIR:-$here/target}/debug/softphone"
display=":${SCREENSHOT_DISPLAY:-91}"
home="$(mktemp -d)"
trap 'kill "$app" "$xvfb" 2>/dev/null || true; rm -rf "$home"' EXIT

Xvfb "$display" -screen 0 900x600x24 -nolisten tcp &
xvfb=$!
export DISPLAY="$display"
# A display that does not start fails the script rather than skipping it.
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null

# The demo in a throw-away home (its own gateway passwords and profile).
XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" "$binary" --demo --no-audio &
app=$!
shot() { sleep "$1"; import -window root "$here/docs/screenshot-$2.png"; }

shot 6 idle                                      # registered, at rest
for key in "35 300" "160 252" "97 252"; do       # *, 9, 8 on the dial pad
  xdotool mousemove $key click 1
  sleep 0.3
done
shot 4 call                                      # "Echo test" / "Connected", Line LED on
xdotool mousemove 294 281 click 1                # the Release key
shot 2 journal                                   # at rest, the call in the journal
kill "$app"; wait "$app" || true

# The live views, each alone, opened as the View menu leaves them in the
# demo profile.
settings="$home/config/device-at-home/softphone/demo/settings.toml"
views_shot() { # VIEW SECONDS-IN-CALL
  sed -i '/^\[open_views\]/,$d' "$settings"
  printf '[open_views]\n%s = true\n' "$1" >>"$settings"
  XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" "$binary" --demo --no-audio 'tel:*98' &
  app=$!
  shot "$2" "$1"
  kill "$app"; wait "$app" || true
}
views_shot path 10
views_shot quality 25
echo "wrote docs/screenshot-{idle,call,journal,path,quality}.png"
