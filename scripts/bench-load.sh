#!/usr/bin/env bash
# `softphone load` against our gateway next to the storm and call benches,
# same session, REPS times (BENCHMARKS.md, "softphone load against our
# gateway"). Each repetition: the storm bench, then `softphone load`
# --no-calls for each N against a fresh `gateway run` of the benches'
# office (scripts/load-office.py), then the calls bench, then `softphone
# load` back to back, signalling only, for each P. Writes every bench table
# and load report (text and JSON) to OUT, with the gateway's peak RSS and
# the kernel's listen-queue overflows during each load run.
#
#   cargo build --release -p gateway -p softphone --bin gateway --bin softphone
#   cargo bench -p e2e-tests --bench hfa_storm --bench hfa_calls --no-run
#   scripts/bench-load.sh [OUT]     # REPS=3 PHONES="1000 10000" PAIRS="50 500" ALIVE=10 SECS=15
set -euo pipefail

out=${1:-/tmp/bench-load}
reps=${REPS:-3}
phones=${PHONES:-1000 10000}
pairs=${PAIRS:-50 500}
alive=${ALIVE:-10}
secs=${SECS:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/release
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"

overflows() {
    awk '/^TcpExt:/ { if (!names) { for (i = 1; i <= NF; i++) col[$i] = i; names = 1 } else print $col["ListenOverflows"] }' /proc/net/netstat
}

# load_run NAME PARTIES PORT ARGS...: a fresh gateway with PARTIES phones,
# then `softphone load ARGS` against it.
load_run() {
    local name=$1 parties=$2 port=$3
    shift 3
    local office=$out/office-$name
    rm -rf "$office"
    python3 "$root/scripts/load-office.py" --phones "$parties" --first 10000 --port "$port" --dir "$office"
    RUST_LOG=warn "$target/gateway" run --config "$office/gateway.toml" >"$office/gateway.log" 2>&1 &
    local gateway=$!
    for _ in $(seq 600); do
        grep -q '^listening:' "$office/gateway.log" && break
        sleep 0.1
    done
    grep -q '^listening:' "$office/gateway.log" || { echo "gateway did not start: $office/gateway.log" >&2; kill "$gateway"; return 1; }
    local before
    before=$(overflows)
    "$target/softphone" load --gateway "127.0.0.1:$port" --numbers "10000-$((10000 + parties - 1))" \
        --passwords "$office/passwords" --json "$out/$name.json" "$@" >"$out/$name.txt" 2>/dev/null || true
    echo "gateway peak RSS: $(awk '/VmHWM/ { print $2, $3 }' "/proc/$gateway/status")" >>"$out/$name.txt"
    echo "listen-queue overflows: $(($(overflows) - before))" >>"$out/$name.txt"
    kill "$gateway"
    wait "$gateway" || true
    rm -rf "$office"
}

cd "$root"
port=20000
for rep in $(seq "$reps"); do
    echo "repetition $rep: storm bench" >&2
    cargo bench -q -p e2e-tests --bench hfa_storm -- --phones "$(echo "$phones" | tr ' ' ,)" \
        --alive-secs "$alive" >"$out/storm-bench-$rep.md"
    for n in $phones; do
        echo "repetition $rep: load storm, $n phones" >&2
        load_run "storm-load-$n-$rep" "$n" $((port += 2)) \
            --no-calls --no-media --register-rate 0 --patience 120s --duration "$((alive + 5))s"
    done
    echo "repetition $rep: calls bench" >&2
    cargo bench -q -p e2e-tests --bench hfa_calls -- --pairs "$(echo "$pairs" | tr ' ' ,)" \
        --secs "$secs" >"$out/calls-bench-$rep.md"
    for p in $pairs; do
        echo "repetition $rep: load calls, $p pairs" >&2
        load_run "calls-load-$p-$rep" $((2 * p)) $((port += 2)) \
            --no-media --register-rate 0 --call-rate 0 --hold 0s --duration "$((secs + 2))s"
    done
done
echo "written to $out" >&2
