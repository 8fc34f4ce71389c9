#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Verification benchmark: logseal-verify on a chain made by the real logseald, against this
# machine's single-core limit for zstd decompression + SHA-256 of the same bytes
# (bench/verify-limit). Target: ratio >= 0.5.
#
#   bench/verify.sh [BUILD_DIR] [MESSAGES]      (defaults: build/bench, 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
msgs=${2:-1000000}
if [ ! -x "$build/daemon/logseald" ]; then
        meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
tmp=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
st="$tmp/state"
"$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase >/dev/null
"$build/daemon/logseald" --state-dir "$st" --listen "tcp:127.0.0.1:$port" 2>"$tmp/log" &
pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
loggen -S -P -s 256 -n "$msgs" -r 100000000 127.0.0.1 "$port" >/dev/null 2>&1
kill -TERM $pid; wait $pid
archives=("$st"/archives/*.lsa)
echo "chain: $msgs messages of ~256 bytes, ${#archives[@]} archive(s), $(du -sb "$st/archives" | cut -f1) bytes"
cat "${archives[@]}" >/dev/null # warm the page cache for both runs
read -r lt lin lout < <("$build/bench/verify-limit" "${archives[@]}")
t0=$(date +%s.%N)
"$build/verifier/logseal-verify" -q --root-key "$st/root.pub" "$st/archives"
t1=$(date +%s.%N)
python3 - "$lt" "$lin" "$lout" "$t0" "$t1" <<'PY'
import sys
lt, lin, lout, t0, t1 = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
vt = t1 - t0
print(f"limit (zstd -d + SHA-256, one core): {lt:.3f} s, {lout / lt / 1e6:.0f} MB/s of decompressed data")
print(f"logseal-verify (whole process):      {vt:.3f} s, {lout / vt / 1e6:.0f} MB/s")
print(f"ratio: {lt / vt:.2f} (target >= 0.50)")
PY
