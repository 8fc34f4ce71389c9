#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Storage benchmark: real log lines (loghub samples wrapped as RFC 5424, bench/realsend.py)
# sent by a paced sender over TCP through the real logseald with its default configuration
# (1 s batches, zstd level 3), at 5,000 and 200 messages per second. Prints for each rate the
# raw bytes sent (RFC 5424 messages without framing), the archive bytes on disk (every file
# in archives/, headers, batch headers, control records and trailers included), their ratio,
# and the daemon's CPU time per message. Every archive is verified and must hold every message.
#
#   bench/storage.sh [BUILD_DIR] [SECONDS_AT_5000] [SECONDS_AT_200]   (build/bench, 20, 60)
#   RATES="50000:10" bench/storage.sh build/bench     (other rates: RATE:SECONDS ...)
#   CONF=file.conf bench/storage.sh ...                (a logseald.conf(5) instead of the defaults)
#
# With archive dictionaries (SPEC §8.6) it also prints each dictionary's training (size, cost)
# and the ratio of the archives that have one ("with dictionary": the steady state of a chain
# that has been running; their raw size is their records times the run's mean raw size).
#
# Exits 77 (skipped) when ../shared/data/loghub is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
s5000=${2:-20}
s200=${3:-60}
data=../shared/data/loghub
if [ ! -d "$data" ]; then
        echo "skipped: $data is absent" >&2
        exit 77
fi
if [ ! -x "$build/daemon/logseald" ]; then
        meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
# As root (this VM), logseald runs as nobody, as the tests run it (tests/daemon/daemonlib.py).
as_init=() as_daemon=()
if [ "$(id -u)" = 0 ]; then
        chmod 711 "$tmp"
        as_init=(--user nobody)
        as_daemon=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi

cpu_s() { # pid: user+system CPU seconds of all its threads so far
        awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

run() { # rate seconds
        local st="$tmp/st-$1" port=$((20000 + RANDOM % 20000))
        "$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >/dev/null
        "${as_daemon[@]}" "$build/daemon/logseald" --state-dir "$st" --listen "tcp:127.0.0.1:$port" \
                ${CONF:+--config "$CONF"} 2>"$st.log" &
        local pid=$!
        pids+=("$pid")
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
        local n raw secs
        read -r n raw secs < <(python3 bench/realsend.py --port "$port" --rate "$1" --seconds "$2" --data "$data")
        sleep 2 # the last batch closes (1 s latency)
        local cpu; cpu=$(cpu_s "$pid")
        kill -TERM "$pid"; wait "$pid"
        local got
        got=$("$build/verifier/logseal-verify" --root-key "$st/root.pub" --json "$st/archives" |
                python3 -c 'import json,sys; d=json.load(sys.stdin); a=[x for x in d["archives"] if x.get("dictionary_id")]; print(d["verdict"]["class"], d["chain"]["records_verified"], sum(x["records_verified"] for x in a), sum(x["size"] for x in a), len(a))')
        sed -n 's/^logseald: //p' "$st.log" | grep 'zstd dictionary' | sed 's/^/        /' || true
        local bytes; bytes=$(find "$st/archives" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
        python3 - "$1" "$n" "$raw" "$secs" "$bytes" "$cpu" "$got" <<'PY'
import sys
rate, n, raw, secs, size, cpu = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
verdict, records, drec, dsize, narch = sys.argv[7].split()
ok = verdict == 'intact' and int(records) >= n
print(f'{rate:5d} msg/s: {n} messages in {secs:.1f} s, raw {raw} B ({raw / n:.0f} B/msg), '
      f'archives {size} B ({size / n:.1f} B/msg): {raw / size:.2f}x smaller than raw; '
      f'daemon CPU {cpu / n * 1e6:.1f} us/msg; verify {verdict}, {records} records'
      + ('' if ok else '  FAILED'))
if int(narch):
    print(f'             with dictionary: {narch} archives, {drec} records, {dsize} B '
          f'({int(dsize) / int(drec):.1f} B/msg): {raw / n * int(drec) / int(dsize):.2f}x')
sys.exit(0 if ok else 1)
PY
}

echo "logseal storage benchmark: $(nproc) cores, real lines ($data), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for rs in ${RATES:-5000:$s5000 200:$s200}; do
        run "${rs%%:*}" "${rs##*:}"
done
