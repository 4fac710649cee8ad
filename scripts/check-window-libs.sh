#!/usr/bin/env bash
# Proves that scripts/install-deps.sh installs what the desktop window
# loads at run time (winit and glutin dlopen GL/EGL, xkbcommon, X11 and
# Wayland client libraries; nothing links them): opens the real window
# under Xvfb, reads every shared object it has mapped from /proc/PID/maps,
# maps each to its Debian package with `dpkg -S`, and fails naming any
# package that is neither in install-deps.sh's lists nor a dependency of
# one. Packages that only the test list brings are named too, for the
# reader to judge (on a test machine: ALSA's PulseAudio plugin and its
# libraries, which alsa-lib loads only where they are installed).
#
# Usage: scripts/check-window-libs.sh [path/to/softphone]
# (CHECK_LIBS_VERBOSE=1 also prints the objects and their packages.)
# Needs: Xvfb, xdotool (scripts/install-deps.sh all), dpkg, apt-cache.
# Run by softphone/tests/window_libs.rs.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-${CARGO_TARGET_DIR:-$here/target}/debug/softphone}"
[[ -x "$binary" ]] || { echo "check-window-libs: no softphone binary at $binary" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A free display: Xvfb picks the number and writes it to the pipe.
# -noreset: without it the server resets when its last client (an xdotool
# probe below) leaves and drops every client still in its connection
# handshake, so the window's connection could fail at random.
Xvfb -displayfd 1 -nolisten tcp -noreset >"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.1; done
[[ -s "$work/display" ]] || { echo "check-window-libs: Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(head -1 "$work/display")"

# The window with a fresh profile (it shows the account dialog), without
# sound devices: the sound libraries are the build list's own (libasound2).
env HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work" \
  "$binary" --profile libs --no-audio >"$work/window.log" 2>&1 &
window=$!
pids+=("$window")
for _ in $(seq 300); do
  xdotool search --name 'Device@Home softphone' >/dev/null 2>&1 && break
  kill -0 "$window" 2>/dev/null || { echo "check-window-libs: the window exited" >&2; cat "$work/window.log" >&2; exit 1; }
  sleep 0.1
done
xdotool search --name 'Device@Home softphone' >/dev/null 2>&1 \
  || { echo "check-window-libs: no window after 30 s" >&2; cat "$work/window.log" >&2; exit 1; }

# Every shared object the running window has mapped, and its package.
awk '$6 ~ /\.so(\.[0-9.]+)?$/ { print $6 }' "/proc/$window/maps" | sort -u >"$work/objects"
: >"$work/loaded"
while read -r object; do
  # dpkg knows the path the package shipped: /lib is /usr/lib on merged /usr.
  owner="$(dpkg -S "$object" 2>/dev/null || dpkg -S "${object#/usr}" 2>/dev/null || true)"
  if [[ -z "$owner" ]]; then
    echo "check-window-libs: $object belongs to no Debian package" >&2
    echo "unpackaged:$object" >>"$work/loaded"
    continue
  fi
  echo "${owner%%:*}" | tr ',' '\n' | sed 's/^ *//; s/:.*//' >>"$work/loaded"
done <"$work/objects"
sort -u -o "$work/loaded" "$work/loaded"
[[ -n "${CHECK_LIBS_VERBOSE:-}" ]] && cat "$work/objects" "$work/loaded"

# What each list brings: its packages and everything they depend on.
closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
    awk '/^[^ <]/ { sub(/:.*/, ""); print }' | sort -u
}
mapfile -t build < <("$here/scripts/install-deps.sh" build --list)
mapfile -t all < <("$here/scripts/install-deps.sh" all --list)
closure "${build[@]}" >"$work/build-closure"
closure "${all[@]}" >"$work/all-closure"

missing="$(comm -23 "$work/loaded" "$work/all-closure")"
test_only="$(comm -23 "$work/loaded" "$work/build-closure" | comm -12 - "$work/all-closure")"
echo "the window (pid $window) mapped $(wc -l <"$work/objects") shared objects from $(wc -l <"$work/loaded") packages"
if [[ -n "$test_only" ]]; then
  echo "brought by the test list only:" $test_only
fi
if [[ -n "$missing" ]]; then
  echo "check-window-libs: not installed by scripts/install-deps.sh (nor a dependency):" $missing >&2
  exit 1
fi
echo "every package the window loads comes from scripts/install-deps.sh"
