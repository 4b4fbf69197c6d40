#!/usr/bin/env bash
# Idle cost of skiff: one quiet file tailed, the API enabled and probed like a kubelet would.
#
# Prints the resident memory (total, anonymous, file-backed, peak) and the CPU used over a
# window, measured from /proc (utime + stime of every thread). Run from the repository root:
#
#   benches/idle.sh                      # 60 s window, release build
#   DURATION=10 benches/idle.sh          # shorter window
#   SKIFF_BIN=path/to/skiff benches/idle.sh
#   CHECK=1 benches/idle.sh              # exit 1 if RSS > 5 MiB or CPU >= 0.1 %
#
# Probes: every PROBE_INTERVAL seconds (default 10, like a kubelet) the script asks /health and
# /ready, and /metrics (like a Prometheus scrape), over bash's /dev/tcp: no curl needed.
set -euo pipefail

DURATION=${DURATION:-60}
PROBE_INTERVAL=${PROBE_INTERVAL:-10}
WARMUP=${WARMUP:-3}
BIN=${SKIFF_BIN:-target/release/skiff}
if [[ -z ${SKIFF_BIN:-} ]]; then
    cargo build --release --quiet
fi

work=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/logs" "$work/config"
echo "started" >"$work/logs/app.log"
cat >"$work/config/skiff.toml" <<EOF
data_dir = "$work/data"

[api]
address = "127.0.0.1:0"

[sources.app]
type = "file"
include = ["$work/logs/*.log"]

[sinks.out]
type = "console"
inputs = ["app"]
EOF

"$BIN" run --config "$work/config/skiff.toml" >"$work/stdout" 2>"$work/stderr" &
pid=$!

addr=
for _ in $(seq 100); do
    addr=$(grep -o 'API listening. address=[0-9.:]*' "$work/stderr" | head -1 | cut -d= -f2 || true)
    [[ -n $addr ]] && break
    sleep 0.1
done
[[ -n $addr ]] || { echo "skiff did not start:" >&2; cat "$work/stderr" >&2; exit 1; }
host=${addr%:*}
port=${addr##*:}

get() { # get PATH: prints the status code
    exec 3<>"/dev/tcp/$host/$port"
    printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" "$addr" >&3
    head -1 <&3 | cut -d' ' -f2
    exec 3>&-
}

cpu_ticks() { # utime + stime of the whole process, in clock ticks
    awk '{print $14 + $15}' "/proc/$pid/stat"
}
status_kib() { # status_kib FIELD
    awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/status"
}

sleep "$WARMUP"
[[ $(get /ready) == 200 ]] || { echo "not ready" >&2; exit 1; }
ticks0=$(cpu_ticks)
start=$(date +%s.%N)
elapsed=0
while (( elapsed < DURATION )); do
    step=$(( PROBE_INTERVAL < DURATION - elapsed ? PROBE_INTERVAL : DURATION - elapsed ))
    sleep "$step"
    elapsed=$(( elapsed + step ))
    get /health >/dev/null
    get /ready >/dev/null
    get /metrics >/dev/null
done
ticks1=$(cpu_ticks)
end=$(date +%s.%N)

hz=$(getconf CLK_TCK)
rss=$(status_kib VmRSS)
anon=$(status_kib RssAnon)
file=$(status_kib RssFile)
hwm=$(status_kib VmHWM)
threads=$(status_kib Threads)
cpu=$(awk -v t=$(( ticks1 - ticks0 )) -v hz="$hz" -v s="$start" -v e="$end" \
    'BEGIN { printf "%.3f", 100 * t / hz / (e - s) }')

echo "skiff idle over ${DURATION}s (one quiet file, API probed every ${PROBE_INTERVAL}s):"
echo "  rss_kib=$rss anon_kib=$anon file_kib=$file peak_kib=$hwm threads=$threads"
echo "  cpu_percent=$cpu (ticks=$(( ticks1 - ticks0 )) at ${hz} Hz)"

if [[ ${CHECK:-0} == 1 ]]; then
    fail=0
    (( rss <= 5120 )) || { echo "FAIL: RSS ${rss} KiB > 5 MiB"; fail=1; }
    awk -v c="$cpu" 'BEGIN { exit !(c < 0.1) }' || { echo "FAIL: CPU ${cpu}% >= 0.1%"; fail=1; }
    exit $fail
fi
