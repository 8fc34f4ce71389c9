#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ingest benchmark: syslog-ng's loggen drives logseald over TCP (RFC 5424, octet counting,
# ~256-byte messages, 1 and 2 connections, default sealing), and in the same run syslog-ng 3.38
# receiving the same load into a plain file, stock and tuned for throughput
# (../shared/bench/syslog-ng-throughput.conf). Prints every rate and the ratios.
#
#   bench/ingest.sh [BUILD_DIR] [SECONDS]        (defaults: build/bench, 10)
#
# Rates count messages that reached the destination (sealed in archives, or written to the
# file), divided by the time from the first message to the last one being durable: the daemon
# is stopped right after loggen and its final sealing is included.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/bench}
secs=${2:-10}
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
port=$((20000 + RANDOM % 20000))
peer_conf=../shared/bench/syslog-ng-throughput.conf

now() { date +%s.%N; }

run_loggen() { # conns
        loggen -S -P -s 256 -I "$secs" -r 100000000 --active-connections="$1" 127.0.0.1 "$port" \
                2>&1 | tr '\r' '\n' | grep -i "average rate" | tail -1 || true
}

bench_logseald() { # conns
        local st="$tmp/ls-$1"
        "$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >/dev/null
        "${as_daemon[@]}" "$build/daemon/logseald" --state-dir "$st" --listen "tcp:127.0.0.1:$port" 2>"$st.log" &
        local pid=$!
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
        local t0; t0=$(now)
        run_loggen "$1" >"$st.loggen"
        kill -TERM $pid; wait $pid
        local t1; t1=$(now)
        local n
        n=$("$build/verifier/logseal-verify" --root-key "$st/root.pub" --json "$st/archives" |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["chain"]["records_verified"])')
        local bytes; bytes=$(du -sb "$st/archives" | cut -f1)
        python3 -c "print(f'{($n) / ($t1 - $t0):.0f} {$n} {$bytes}')"
}

bench_syslog_ng() { # conns conf-kind
        local d="$tmp/sng-$2-$1" out
        mkdir -p "$d"; out="$d/out.log"
        if [ "$2" = tuned ]; then
                sed "s|@PORT@|$port|; s|@OUT@|$out|" "$peer_conf" >"$d/sng.conf"
        else
                cat >"$d/sng.conf" <<EOC
@version: 3.38
source s_in { syslog(ip(127.0.0.1) port($port) transport(tcp)); };
destination d_out { file("$out"); };
log { source(s_in); destination(d_out); flags(flow-control); };
EOC
        fi
        syslog-ng -F -f "$d/sng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl" 2>"$d/err" &
        local pid=$!
        for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
        local t0; t0=$(now)
        run_loggen "$1" >"$d/loggen"
        kill -TERM $pid; wait $pid || true
        local t1; t1=$(now)
        local n; n=$(wc -l <"$out")
        python3 -c "print(f'{($n) / ($t1 - $t0):.0f} {$n}')"
}

echo "logseal ingest benchmark: $(nproc) cores, ${secs}s per run, loggen -S -P -s 256"
declare -A rate
for c in 1 2; do
        read -r r n b < <(bench_logseald $c); rate[ls$c]=$r
        printf 'logseald          %d conn: %8s msg/s (%s sealed, %s archive bytes, %s B/record)\n' \
                $c "$r" "$n" "$b" "$(( n ? b / n : 0 ))"
        if [ -f "$peer_conf" ]; then
                read -r r n < <(bench_syslog_ng $c tuned); rate[tu$c]=$r
                printf 'syslog-ng tuned   %d conn: %8s msg/s (%s written)\n' $c "$r" "$n"
        fi
        read -r r n < <(bench_syslog_ng $c stock); rate[st$c]=$r
        printf 'syslog-ng stock   %d conn: %8s msg/s (%s written)\n' $c "$r" "$n"
done
for c in 1 2; do
        python3 -c "
ls, st = ${rate[ls$c]}, ${rate[st$c]}
tu = ${rate[tu$c]:-0}
print(f'ratio {$c} conn: logseald/stock {ls/st:.2f}' + (f', logseald/tuned {ls/tu:.2f}' if tu else ''))"
done
