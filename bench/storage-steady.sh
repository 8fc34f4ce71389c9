#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Storage in the steady state of a chain with archive dictionaries (SPEC §8.6), without the
# training data ever being measured: the loghub samples are split in halves (the first half
# of every file = "yesterday", the second half = "today"). logseald (release build, defaults
# but for dictionary_after 2M) receives "yesterday" at 5,000 msg/s once through, which ends
# archive 0 and trains archive 1's dictionary on it; then "today" at RATE msg/s for SECONDS
# (lines never seen before, less than one pass so none repeats). Prints archive 1's ratio
# with and without its dictionary frame (which a default 256M archive amortises).
#
#   bench/storage-steady.sh [BUILD_DIR] [RATE] [SECONDS] [DICTIONARY_SIZE]  (build/bench 200 60 512K)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
rate=${2:-200}
secs=${3:-60}
dsize=${4:-512K}
data=../shared/data/loghub
[ -d "$data" ] || { echo "skipped: $data is absent" >&2; exit 77; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/a" "$tmp/b"
for f in "$data"/*.log; do
        n=$(wc -l <"$f")
        head -n $((n / 2)) "$f" >"$tmp/a/$(basename "$f")"
        tail -n +$((n / 2 + 1)) "$f" >"$tmp/b/$(basename "$f")"
done
na=$(cat "$tmp"/a/*.log | grep -c .)
printf '[archive]\ndictionary_size = %s\ndictionary_after = 2M\n' "$dsize" >"$tmp/conf"
st="$tmp/st" port=$((20000 + RANDOM % 20000))
# As root (this VM), logseald runs as nobody, as the tests run it (tests/daemon/daemonlib.py).
as_init=() as_daemon=()
if [ "$(id -u)" = 0 ]; then
        chmod 711 "$tmp"
        as_init=(--user nobody)
        as_daemon=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
"$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >"$tmp/init.log"
"${as_daemon[@]}" "$build/daemon/logseald" --state-dir "$st" --config "$tmp/conf" --listen "tcp:127.0.0.1:$port" \
        2>"$tmp/d.log" <"$tmp/conf" &
pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>"$tmp/x" && break; sleep 0.1; done
python3 bench/realsend.py --port "$port" --rate 5000 --seconds "$(echo "$na / 5000" | bc -l)" \
        --data "$tmp/a" >"$tmp/a.out"
sleep 2
read -r n raw _ < <(python3 bench/realsend.py --port "$port" --rate "$rate" --seconds "$secs" --data "$tmp/b")
sleep 2
kill -TERM "$pid"; wait "$pid"; pid=
grep 'zstd dictionary' "$tmp/d.log" | sed 's/^logseald: /  /'
"$build/verifier/logseal-verify" --root-key "$st/root.pub" --json "$st/archives" >"$tmp/v.json" || true
python3 - "$tmp/v.json" "$n" "$raw" "$rate" <<'PY'
import json, struct, sys
d = json.load(open(sys.argv[1]))
n, raw, rate = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a = [x for x in d['archives'] if x['archive_no'] == 1][0]
data = open(a['file'], 'rb').read()
h = 8 + struct.unpack_from('<I', data, 4)[0]
dl = 8 + struct.unpack_from('<I', data, h + 4)[0] if data[h + 11:h + 12] == b'D' else 0
per = raw / n
print(f'verdict {d["verdict"]["class"]}; archive 1: {a["records_verified"]} records, {a["size"]} B, '
      f'dictionary frame {dl} B')
print(f'{rate} msg/s, steady state: {per * a["records_verified"] / a["size"]:.2f}x with the '
      f'dictionary frame, {per * a["records_verified"] / (a["size"] - dl):.2f}x without it '
      f'({(a["size"] - dl) / a["records_verified"]:.1f} B/msg)')
PY
