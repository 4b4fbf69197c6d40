#!/usr/bin/env bash
# Does serving /metrics slow the pipeline? Ships one file with `run --once` to a console sink
# (JSON, into /dev/null), alone and then while /metrics is scraped every SCRAPE_INTERVAL seconds
# (default 0.1 s: 150 times as often as a 15 s Prometheus interval; 0: back to back), and prints
# the throughput of each run and the mean scrape latency. Run from the repository root:
#
#   benches/scrape.sh                    # 1000 MB, 3 runs each
#   MB=300 RUNS=5 SCRAPE_INTERVAL=0 benches/scrape.sh
#   SKIFF_BIN=path/to/skiff benches/scrape.sh
set -euo pipefail

MB=${MB:-1000}
RUNS=${RUNS:-3}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-0.1}
BIN=${SKIFF_BIN:-target/release/skiff}
if [[ -z ${SKIFF_BIN:-} ]]; then
    cargo build --release --quiet
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
python3 - "$work/logs/app.log" "$MB" <<'PY'
import sys
path, mb = sys.argv[1], int(sys.argv[2])
line = '{"level":"info","msg":"request served","path":"/api/v1/items","status":200,"ms":%d}\n'
with open(path, "w") as f:
    n, size = 0, 0
    while size < mb * 1_000_000:
        s = line % n
        f.write(s)
        n += 1
        size += len(s)
PY
bytes=$(stat -c %s "$work/logs/app.log")

cat >"$work/scrape.py" <<'PY'
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid, interval = int(sys.argv[2]), float(sys.argv[3])
n, spent = 0, 0.0
while True:
    try:
        os.kill(pid, 0)
        t = time.monotonic()
        s = socket.create_connection((host, int(port)))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
        s.close()
        spent += time.monotonic() - t
        n += 1
        time.sleep(interval)
    except OSError:
        break
print("%d scrapes, mean %.2f ms" % (n, 1000 * spent / max(n, 1)))
PY

run() { # run SCRAPE(0|1): prints MB/s and what the scraper saw
    rm -rf "$work/data"
    cat >"$work/skiff.toml" <<EOF
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
    local start end scraped="no scrape"
    start=$(date +%s.%N)
    "$BIN" run --once --config "$work/skiff.toml" >/dev/null 2>"$work/stderr" &
    local pid=$!
    if [[ $1 == 1 ]]; then
        local addr=
        while [[ -z $addr ]] && kill -0 "$pid" 2>/dev/null; do
            addr=$(grep -o 'API listening. address=[0-9.:]*' "$work/stderr" | cut -d= -f2 || true)
            [[ -n $addr ]] || sleep 0.01
        done
        scraped=$(python3 "$work/scrape.py" "$addr" "$pid" "$SCRAPE_INTERVAL")
    fi
    wait "$pid"
    end=$(date +%s.%N)
    awk -v b="$bytes" -v s="$start" -v e="$end" -v n="$scraped" \
        'BEGIN { printf "%.0f MB/s (%s)\n", b / 1e6 / (e - s), n }'
}

echo "file: $((bytes / 1000000)) MB, scrape interval ${SCRAPE_INTERVAL}s"
for i in $(seq "$RUNS"); do
    echo "run $i: without scrapes: $(run 0)"
    echo "run $i: with scrapes:    $(run 1)"
done
