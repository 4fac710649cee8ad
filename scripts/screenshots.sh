#!/usr/bin/env bash
# Screenshots of the real window for the README: the `make run` demo under
# Xvfb, idle, in the echo test, and back at rest with the call in the
# journal; then, as myPortal to go (Demo menu), the first-contact
# certificate prompt, a call carried from the company WiFi to a remote WiFi,
# and the VoIP settings page refusing a bad port; then the live views in the
# echo test (the HFA demo started again in a fresh profile, dialling it
# itself): the path view, and the quality panel after 25 s of figures. Also
# dialling (handset lifted, "20" dialled) after the idle shot, and the path
# view of myPortal to go before and after a network move. Writes
# docs/screenshot-{idle,dialling,call,journal,portal-certificate,portal,portal-settings,path,quality,path-lan,path-wan}.png.
# Needs the
# packages of `scripts/install-deps.sh all` (xvfb, xdotool, imagemagick)
# and a built `softphone` (cargo build --bin softphone).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
binary="${CARGO_TARGET_DIR:-$here/target}/debug/softphone"
display=":${SCREENSHOT_DISPLAY:-91}"
home="$(mktemp -d)"
app=""; xvfb=""
trap 'kill "$app" "$xvfb" 2>/dev/null || true; rm -rf "$home"' EXIT

# -noreset: a probe leaving must not reset the server under the window.
Xvfb "$display" -screen 0 900x600x24 -nolisten tcp -noreset &
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
xdotool mousemove 72 350 click 1                 # Lift handset: dial tone
sleep 0.5
for key in "97 156" "97 300"; do                 # 2, 0 on the dial pad
  xdotool mousemove $key click 1
  sleep 0.3
done
shot 1 dialling                                  # "20" on the display, dialling
xdotool mousemove 72 350 click 1                 # Hang up
sleep 1
for key in "35 300" "160 252" "97 252"; do       # *, 9, 8 on the dial pad
  xdotool mousemove $key click 1
  sleep 0.3
done
shot 4 call                                      # "Echo test" / "Connected", Line LED on
xdotool mousemove 294 281 click 1                # the Release key
shot 2 journal                                   # at rest, the call in the journal

click() { xdotool mousemove $1 $2 click 1; sleep "${3:-0.3}"; }
click 76 12 0.7; click 140 62                    # Demo → myPortal to go (210)
shot 3 portal-certificate                        # first contact with the LAN server
click 345 383 3                                  # Accept certificate: via LAN
click 245 111 1.5                                # Remote WiFi: the flag is off
click 66 135 3                                   # flag on: first contact with the WAN server
click 345 383 3                                  # Accept certificate: via WAN
click 124 111 2                                  # back in the company WiFi: via LAN
for key in "35 389" "159 342" "97 342"; do       # *, 9, 8 on the dial pad
  click $key
done
click 364 218                                    # Call
sleep 4
click 245 111                                    # move to a remote WiFi with the call up
shot 5 portal                                    # via WAN, the call goes on
click 28 12 0.7; click 60 62 1                   # Phone → VoIP settings…
xdotool windowfocus "$(xdotool search --name 'Device@Home' | head -1)"
click 480 244 0.5                                # WAN server IP port
xdotool key ctrl+a; xdotool type --delay 80 "88o2"
click 227 518                                    # Save: refused under the field
shot 1 portal-settings
kill "$app"; wait "$app" || true

# The live views, each alone, opened as the View menu leaves them in the
# demo profile (a fresh one: the HFA personality).
views="$home/views-config/device-at-home/softphone/demo"
mkdir -p "$views"
views_shot() { # VIEW SECONDS-IN-CALL
  printf '[open_views]\n%s = true\n' "$1" >"$views/settings.toml"
  XDG_CONFIG_HOME="$home/views-config" XDG_DATA_HOME="$home/data" "$binary" --demo --no-audio 'tel:*98' &
  app=$!
  shot "$2" "$1"
  kill "$app"; wait "$app" || true
}
views_shot path 10
views_shot quality 25

# The path view of myPortal to go before and after the move from the
# company WiFi to a remote WiFi, a call up (its window collapsed by its
# title bar's arrow while the face is clicked).
printf '[open_views]\npath = true\n' >"$views/settings.toml"
XDG_CONFIG_HOME="$home/views-config" XDG_DATA_HOME="$home/data2" "$binary" --demo --no-audio &
app=$!
sleep 6
click 37 57 0.5                                  # collapse the path view
click 76 12 0.7; click 140 62 3                  # Demo → myPortal to go (210)
click 345 383 3                                  # Accept certificate: via LAN
click 245 111 1.5                                # Remote WiFi: the flag is off
click 66 135 3                                   # flag on: first contact with the WAN server
click 345 383 3                                  # Accept certificate: via WAN
click 124 111 4                                  # back in the company WiFi: via LAN
for key in "35 389" "159 342" "97 342"; do       # *, 9, 8 on the dial pad
  click $key
done
click 364 218 6                                  # Call
click 37 57 0.5                                  # open the path view
shot 1 path-lan                                  # via the LAN server, no routers on the path
click 37 57 0.5                                  # collapse it
click 245 111 4                                  # move to a remote WiFi with the call up
click 37 57 0.5                                  # open it again
shot 1 path-wan                                  # via WAN, through both routers
kill "$app"; wait "$app" || true
echo "wrote docs/screenshot-{idle,dialling,call,journal,portal-certificate,portal,portal-settings,path,quality,path-lan,path-wan}.png"
