#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Verification benchmark: logseal-verify on a chain made by the real logseald, against this
# machine's single-core limit for zstd decompression + SHA-256 of the same bytes
# (bench/verify-limit). Target (issue 16 item 2): ratio >= 1.0 with all cores.
#
#   bench/verify.sh [BUILD_DIR] [MESSAGES]      (defaults: build/bench, 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
msgs=${2:-1000000}
runs=${3:-5}
if [ ! -x "$build/daemon/logseald" ]; then
        meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
tmp=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"' EXIT
# As root (this VM), logseald runs as nobody, as the tests run it (tests/daemon/daemonlib.py).
as_init=() as_daemon=()
if [ "$(id -u)" = 0 ]; then
        chmod 711 "$tmp"
        as_init=(--user nobody)
        as_daemon=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
st="${KEEP:-$tmp}/state"
if [ ! -d "$st/archives" ]; then
        port=$((20000 + RANDOM % 20000))
        "$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >/dev/null
        "${as_daemon[@]}" "$build/daemon/logseald" --state-dir "$st" --listen "tcp:127.0.0.1:$port" 2>"$tmp/log" &
        pid=$!
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
        loggen -S -P -s 256 -n "$msgs" -r 100000000 127.0.0.1 "$port" >/dev/null 2>&1
        kill -TERM $pid; wait $pid
fi
archives=("$st"/archives/*.lsa)
echo "chain: $msgs messages of ~256 bytes, ${#archives[@]} archive(s), $(du -sb "$st/archives" | cut -f1) bytes"
echo "machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "${archives[@]}" >/dev/null # warm the page cache for all runs
# Runs alternate (limit, all cores, one core) so that all see the same background load;
# the medians are compared. CPU seconds (user + system) come from getrusage of each child.
for _ in $(seq "$runs"); do
        "$build/bench/verify-limit" "${archives[@]}" >>"$tmp/limit"
        for jobs in 0 1; do
                python3 - "$build/verifier/logseal-verify" "$jobs" "$st" >>"$tmp/verify-$jobs" <<'PY'
import os, resource, subprocess, sys, time
v, jobs, st = sys.argv[1], sys.argv[2], sys.argv[3]
args = [v, "-q", "--root-key", st + "/root.pub"] + (["--jobs", jobs] if jobs != "0" else []) + [st + "/archives"]
t0 = time.monotonic()
rc = subprocess.run(args).returncode
t1 = time.monotonic()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{t1 - t0:.6f} {ru.ru_utime + ru.ru_stime:.6f} {rc}")
PY
        done
done
python3 - "$tmp" <<'PY'
import statistics, sys
tmp = sys.argv[1]
lim = [l.split() for l in open(tmp + "/limit")]
lt = statistics.median(float(x[0]) for x in lim)
lout = int(lim[0][2])
print(f"limit (zstd -d + SHA-256, one core): median {lt:.3f} s, {lout / lt / 1e6:.0f} MB/s of decompressed data")
if len(lim[0]) >= 5:
    z = statistics.median(float(x[3]) for x in lim)
    h = statistics.median(float(x[4]) for x in lim)
    print(f"  of which zstd -d {z:.3f} s, SHA-256 {h:.3f} s ({lout / h / 1e6:.0f} MB/s hashed)")
for jobs, name in (("0", "all cores (default --jobs)"), ("1", "--jobs 1")):
    rows = [l.split() for l in open(f"{tmp}/verify-{jobs}")]
    if any(r[2] != "0" for r in rows):
        print(f"logseal-verify {name}: NOT INTACT (exit codes {[r[2] for r in rows]})")
        sys.exit(1)
    vt = statistics.median(float(r[0]) for r in rows)
    cpu = statistics.median(float(r[1]) for r in rows)
    print(f"logseal-verify {name}: median {vt:.3f} s, {lout / vt / 1e6:.0f} MB/s, {cpu:.3f} CPU s; "
          f"ratio {lt / vt:.2f}")
print("target: ratio >= 1.00 with all cores")
PY
