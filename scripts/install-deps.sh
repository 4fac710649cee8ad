#!/usr/bin/env bash
# Installs the Debian packages the build and the test suite need, only those
# that are missing, so a second run costs a second. Used by `make deps`
# (and so by `make run`, `make test` and CI). With --list after the list's
# name, prints the list instead (scripts/check-window-libs.sh reads it).
set -euo pipefail

# Build: cpal's ALSA back end and Opus (found by pkg-config). Then what the
# desktop app of `make run` loads at run time (it links none of them:
# winit and glutin dlopen them): OpenGL/EGL through mesa (libgl1-mesa-dri
# and libegl-mesa0 hold the drivers, llvmpipe without a GPU), keyboard
# maps, and the X11 and Wayland client libraries.
build_packages=(
  pkg-config libasound2-dev libopus-dev
  libgl1 libegl1 libgl1-mesa-dri libegl-mesa0 libxkbcommon0 libxkbcommon-x11-0
  libx11-6 libx11-xcb1 libxcursor1 libxi6 libxrandr2
  libwayland-client0 libwayland-cursor0 libwayland-egl1
)
# Tests: GUI under a virtual display, a real notification server (dunst on
# a private session bus) and `make install`'s checks (desktop-file-validate,
# xdg-mime), a real sound server with null sinks, synthetic speech, the
# network-namespace lab (real NAT, coturn STUN; procps for sysctl in its
# routers), and
# rtpengine, the baseline of the SBC relay benchmark (BENCHMARKS.md);
# tshark reads the gateway's captures (its debconf question about capture
# by non-root users takes its default, no, under noninteractive).
test_packages=(
  xvfb xauth x11-utils xdotool imagemagick dbus-daemon dbus-bin dunst
  desktop-file-utils xdg-utils
  pulseaudio pulseaudio-utils libasound2-plugins sox espeak-ng
  iproute2 procps nftables iptables conntrack coturn rtpengine-daemon
  tshark
)

case "${1:-all}" in
  build) wanted=("${build_packages[@]}") ;;
  all) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [build|all] [--list]" >&2; exit 2 ;;
esac
if [ "${2:-}" = "--list" ]; then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# Through env: sudo would drop DEBIAN_FRONTEND from the environment.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
