#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Query latency on a large chain: logseald seals RECORDS records (default 10 million, 100 hosts,
# ~120-byte RFC 5424 messages) sent over TCP; once the index has caught up, it times
#   1. host + time range:   logsealctl query --host H --from T1 --to T2   (index, then archives)
#   2. full-text term:      logsealctl query --match TERM    (SQLite FTS5, [index] fulltext = yes)
#                           logsealctl query --grep TERM     (scan of every archive)
#   3. both combined:       logsealctl query --host H --grep TERM
# and an evidence export of the host + time range selection. Every query re-reads its results
# from the archives (the index is never the evidence).
#
#   bench/query.sh [BUILD_DIR] [RECORDS]        (defaults: build/bench, 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
records=${2:-10000000}
if [ ! -x "$build/daemon/logseald" ]; then
        meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
tmp=$(mktemp -d /var/tmp/logseal-query-bench.XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
st=$tmp/state
ctl=$build/daemon/logsealctl

# As root (this VM), logseald runs as nobody, as the tests run it (tests/daemon/daemonlib.py).
as_init=() daemon_conf=""
if [ "$(id -u)" = 0 ]; then
        chmod 711 "$tmp"
        as_init=(--user nobody)
        daemon_conf='[daemon]\nuser = nobody\n'
fi
"$ctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >/dev/null
printf "${daemon_conf}"'[index]\nfulltext = yes\n' >"$tmp/logseald.conf"
"$build/daemon/logseald" --config "$tmp/logseald.conf" --state-dir "$st" \
        --listen "tcp:127.0.0.1:$port" 2>"$tmp/logseald.log" &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

now() { date +%s.%N; }
sub() { python3 -c "print('%.3f' % ($1 - $2))"; }
t0=$(now)
python3 bench/query-gen.py "$port" "$records"
t1=$(now)
# wait until the index holds everything
want=$records
while :; do
        n=$("$ctl" status --state-dir "$st" 2>/dev/null | sed -n 's/^sealed: *\([0-9]*\).*/\1/p' | head -1)
        [ "${n:-0}" -ge "$want" ] && break
        sleep 1
done
t2=$(now)
# the index catches up on its own; query once to be sure it is complete
"$ctl" query --state-dir "$st" --host host07 --limit 1 >/dev/null
t3=$(now)
size=$(du -sh "$st/archives" | cut -f1)
isize=$(du -sh "$st/index/index.sqlite" | cut -f1)

# a one-second window from the middle of the run
mid=$(python3 -c "print(int(($t1 + $t0) / 2 * 1e9))")
from="@$mid"
to="@$((mid + 1000000000))"

timeit() { # label command...
        local a b n
        a=$(now)
        n=$("${@:2}" | wc -l)
        b=$(now)
        printf '%-34s %8s s  (%d results)\n' "$1" "$(sub "$b" "$a")" "$n"
}
echo "logseal query benchmark: $records records, archives $size, index $isize"
echo "sent in $(sub "$t1" "$t0") s; sealed after $(sub "$t2" "$t0") s; indexed after $(sub "$t3" "$t0") s"
timeit "host + 1 s time range" "$ctl" query --state-dir "$st" --host host07 --from "$from" --to "$to"
timeit "host + 1 s time range (again)" "$ctl" query --state-dir "$st" --host host07 --from "$from" --to "$to"
timeit "full-text term (FTS5 index)" "$ctl" query --state-dir "$st" --match needle-550000
timeit "full-text term (archive scan)" "$ctl" query --state-dir "$st" --grep needle-
timeit "host + full-text term" "$ctl" query --state-dir "$st" --host host50 --grep needle-
a=$(now)
"$ctl" export --state-dir "$st" --case BENCH --examiner bench --host host07 --from "$from" --to "$to" \
        --out "$tmp/bundle" >/dev/null
b=$(now)
printf '%-34s %8s s  (%s records)\n' "export host + 1 s range" "$(sub "$b" "$a")" \
        "$(sed -n 's/^Records: *//p' "$tmp/bundle/report.txt")"
kill %1 2>/dev/null || true
wait 2>/dev/null || true
