#!/usr/bin/env bash
# CPU and memory of the desktop softphone (the real window under Xvfb)
# against the headless phone of the same account, measured in the same run:
#
#   1. `softphone hfa register` as 201, idle            (baseline)
#   2. the window, registered as 201, idle
#   3. the window in the echo test (*98, handed over by `softphone tel:*98`)
#   4. `softphone hfa call *98`, connected              (baseline)
#
# With BENCH_VIEWS=1, two more rows between 3 and 4: the window again with
# the path view and the quality panel open (View menu, remembered in the
# profile), idle and in the echo test.
#
# Each phase: wait until registered (or connected), then read utime+stime
# from /proc/PID/stat (all threads) before and after BENCH_SECONDS (60), and
# VmRSS / VmHWM from /proc/PID/status at the end. Both sides use real
# sound devices: a private PulseAudio daemon with a null sink (default sink,
# its monitor the default source), reached through ALSA's pulse plugin like
# a desktop's sound server; the daemon's own CPU is not counted. Prints a
# Markdown table with the machine and the load average.
#
# Needs: a build (`cargo build --release -p softphone --bin softphone --bin
# gateway`, BENCH_BUILD=release; debug by default), Xvfb, xdotool and
# pulseaudio (scripts/install-deps.sh all), and TCP port 4060 free on
# 127.0.0.1 (its own `gateway run`).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CARGO_TARGET_DIR:-$here/target}/${BENCH_BUILD:-debug}"
seconds="${BENCH_SECONDS:-60}"
display=":${BENCH_DISPLAY:-91}"
work="$(mktemp -d)"
chmod 700 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in "$bin/softphone" "$bin/gateway"; do
  [[ -x "$tool" ]] || { echo "bench-gui: $tool not built" >&2; exit 2; }
done
if ss -ltn 2>/dev/null | grep -q '127.0.0.1:4060 '; then
  echo "bench-gui: 127.0.0.1:4060 is taken (another gateway run?)" >&2
  exit 2
fi

# Waits up to 30 s for `$1` (a command) to succeed.
await() {
  for _ in $(seq 300); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench-gui: gave up waiting for: $1" >&2
  exit 1
}

hz="$(getconf CLK_TCK)"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# measure LABEL PID: one table row.
measure() {
  local label="$1" pid="$2" load before after
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  before="$(ticks "$pid")"
  sleep "$seconds"
  after="$(ticks "$pid")"
  awk -v label="$label" -v t="$((after - before))" -v hz="$hz" -v s="$seconds" \
    -v rss="$(kib "$pid" VmRSS)" -v hwm="$(kib "$pid" VmHWM)" -v load="$load" \
    'BEGIN { printf "| %s | %.2f %% | %.0f MiB | %.0f MiB | %s |\n", label, 100 * t / hz / s, rss / 1024, hwm / 1024, load }'
}

# The sound server: a null sink, as a machine without a sound card has.
pulseaudio -n --daemonize=no --exit-idle-time=-1 --disallow-exit --use-pid-file=no \
  -L "module-native-protocol-unix auth-anonymous=1 socket=$work/pulse" \
  -L "module-null-sink sink_name=bench rate=48000 channels=1" \
  >"$work/pulse.log" 2>&1 &
pids+=($!)
export PULSE_SERVER="unix:$work/pulse"
await "pactl info"
pactl set-default-sink bench
pactl set-default-source bench.monitor

# The company: the demo office on loopback, with its own passwords.
HOME="$work" XDG_DATA_HOME="$work/data" "$bin/gateway" run >"$work/gateway.log" 2>&1 &
pids+=($!)
passwords="$work/data/device-at-home/gateway/default-passwords.toml"
await "grep -q '^\"201\"' '$passwords'"
grep '^"201"' "$passwords" | cut -d'"' -f4 >"$work/pw201"
await "ss -ltn | grep -q '127.0.0.1:4060 '"

# The window's profile: 201 at that gateway.
profile="$work/config/device-at-home/softphone/bench"
mkdir -p "$profile"
cat >"$profile/settings.toml" <<EOF
[account]
gateway_host = "127.0.0.1"
gateway_port = 4060
number = "201"
phone_type = "open-stage60"
EOF
install -m 600 "$work/pw201" "$profile/hfa-password"

# -noreset: a probe leaving must not reset the server under the window.
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset &
pids+=($!)
export DISPLAY="$display"
await "xdpyinfo"

# From 127.0.0.1 like the window (which has no --bind): the same path.
account=(--gateway 127.0.0.1:4060 --number 201 --password-file "$work/pw201")

echo "| phase ($seconds s) | CPU (one core = 100 %) | RSS at end | peak RSS | load average before |"
echo "|---|---|---|---|---|"

"$bin/softphone" hfa register "${account[@]}" >"$work/register.log" 2>&1 &
headless=$!
pids+=("$headless")
await "grep -q '^registered' '$work/register.log'"
sleep 3
measure "headless \`hfa register\`, idle" "$headless"
kill "$headless"

gui_env=(env XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work")
"${gui_env[@]}" "$bin/softphone" --profile bench >"$work/window.log" 2>&1 &
window=$!
pids+=("$window")
await "xdotool search --name '201: registered'"
sleep 3
measure "window, registered, idle" "$window"

"${gui_env[@]}" "$bin/softphone" --profile bench 'tel:*98' >>"$work/window.log"
await "grep -q 'connected: 201 Anna with Echo test' '$work/gateway.log'"
# The call plays and records through the sound server.
await "pactl list short sink-inputs | grep -q . && pactl list short source-outputs | grep -q ."
sleep 2
measure "window, echo test call" "$window"
kill "$window"
wait "$window" 2>/dev/null || true

if [[ "${BENCH_VIEWS:-}" == 1 ]]; then
  wait "$window" 2>/dev/null || true
  # The window saved its settings: replace its [open_views] (the last table).
  sed -i '/^\[open_views\]/,$d' "$profile/settings.toml"
  printf '[open_views]\npath = true\nquality = true\n' >>"$profile/settings.toml"
  "${gui_env[@]}" "$bin/softphone" --profile bench >>"$work/window.log" 2>&1 &
  window=$!
  pids+=("$window")
  await "xdotool search --name '201: registered'"
  sleep 3
  measure "window + path view + quality panel, idle" "$window"
  "${gui_env[@]}" "$bin/softphone" --profile bench 'tel:*98' >>"$work/window.log"
  await "[[ \$(grep -c 'connected: 201 Anna with Echo test' '$work/gateway.log') -ge 2 ]]"
  sleep 2
  measure "window + path view + quality panel, echo test call" "$window"
  kill "$window"
fi

"$bin/softphone" hfa call '*98' --hangup-after "$((seconds + 30))s" "${account[@]}" \
  >"$work/call.log" 2>&1 &
call=$!
pids+=("$call")
await "grep -q 'Connected' '$work/call.log'"
await "pactl list short sink-inputs | grep -q . && pactl list short source-outputs | grep -q ."
sleep 2
measure "headless \`hfa call *98\`, connected" "$call"
kill "$call"

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); build: ${BENCH_BUILD:-debug}"
