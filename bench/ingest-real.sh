#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ingest benchmark on real log lines (issue 16 item 3). The 26,000 loghub lines of
# ../shared/data/loghub, wrapped as RFC 5424 the way bench/realsend.py does and framed with
# octet counting, are written once to a file; bench/blast sends that file in a loop over 1 and
# 2 TCP connections (1 MiB write()s of a mapped buffer: no per-message work). In one run:
#   sink            blast into a receiver that only reads (proves the sender is not the limit)
#   logseald        default configuration: full sealing (WAL, hash, sign, zstd -3, fdatasync
#                   group commit, SQLite index)
#   sng-tuned       syslog-ng 3.38 tuned for throughput into a plain file
#                   (../shared/bench/syslog-ng-throughput.conf, or the same settings inline)
#   sng-fsync       the same with fsync(yes) on the file
#   sng-diskbuf     the same with a reliable disk buffer (disk-buffer(reliable(yes)))
# For each: msg/s (messages that reached the destination divided by the time from the first
# byte sent to the last message written: logseald's final sealing after SIGTERM included,
# syslog-ng's file when it stops growing), CPU µs per message (user + system of every thread,
# getrusage of the process after it exited, plus logseald's signer process read from /proc just
# before the stop), bytes on disk per message (archives/ for logseald, the output file for
# syslog-ng). logseald's per-thread CPU (from /proc/PID/task) is printed too. Every logseald
# archive is verified and must hold every message sent.
#
#   bench/ingest-real.sh [--quick] [BUILD_DIR] [SECONDS] [ROUNDS]   (build/bench, 10, 1)
#
# --quick: 1 s per run, one round (a smoke check, under a minute). ROUNDS > 1 alternates the
# receivers round by round and prints medians. Exits 77 when ../shared/data/loghub is absent.
# CONNS="1 2" and KINDS="sink logseald sng-tuned sng-fsync sng-diskbuf" select what runs.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
build=${1:-build/bench}
secs=${2:-10}
rounds=${3:-1}
if [ $quick = 1 ]; then secs=1; rounds=1; fi
data=../shared/data/loghub
if [ ! -d "$data" ]; then
        echo "skipped: $data is absent" >&2
        exit 77
fi
if [ ! -x "$build/daemon/logseald" ]; then
        meson setup "$build" --buildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
blast=$build/bench/blast
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
frames=$tmp/frames
read -r per_pass raw_pass < <(python3 bench/realsend.py --frame "$frames" --data "$data")
peer_conf=../shared/bench/syslog-ng-throughput.conf

now() { date +%s.%N; }
free_port() { echo $((20000 + RANDOM % 20000)); }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.05; done; }
clk=$(getconf CLK_TCK)
proc_cpu() { # pid: user+system CPU seconds of all its threads so far (0 if gone)
        awk -v hz="$clk" '{sub(/^.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
threads_cpu() { # pid: "tid:seconds ..." of every thread, in tid order
        local t out=""
        for t in $(ls "/proc/$1/task" 2>/dev/null | sort -n); do
                out+="$t:$(proc_cpu "$1/task/$t") "
        done
        echo "$out"
}

# Output of every run: KIND CONNS MSGS SECONDS CPU_S DISK_BYTES [EXTRA]
run_sink() { # conns
        local port; port=$(free_port)
        "$blast" sink "$port" "$1" >"$tmp/sink.out" &
        local sp=$!; pids+=("$sp")
        # no wait_port here: the sink would count its probe as a sender (blast retries connect)
        local n bytes s
        read -r n bytes s < <("$blast" send 127.0.0.1 "$port" "$1" "$secs" "$frames")
        wait "$sp" || true
        echo "sink $1 $n $s 0 0"
}

run_logseald() { # conns
        local st="$tmp/ls-$1/state" port; port=$(free_port)
        rm -rf "$tmp/ls-$1"; mkdir "$tmp/ls-$1"
        [ "$(id -u)" != 0 ] || chown 65534:65534 "$tmp/ls-$1"
        "$build/daemon/logsealctl" init --state-dir "$st" --no-passphrase "${as_init[@]}" >/dev/null
        "$blast" rusage "$st.ru" -- "${as_daemon[@]}" "$build/daemon/logseald" --state-dir "$st" \
                --listen "tcp:127.0.0.1:$port" 2>"$st.log" &
        local wp=$!; pids+=("$wp")
        wait_port "$port"
        local dp; dp=$(pgrep -P "$wp" | head -1)
        local t0; t0=$(now)
        local n bytes s
        read -r n bytes s < <("$blast" send 127.0.0.1 "$port" "$1" "$secs" "$frames")
        local t_drain; t_drain=$(now)
        # The indexer runs at idle priority off the critical path: wait until it is done (all
        # threads asleep, no CPU used, for 1 s), so that its CPU is counted in full (checked
        # after the stop: position.next_seq of index/index.sqlite), then stop. The rate counts
        # the time to the drain plus the stop (final sealing), not this wait (during which the
        # last batch closes: at most one batch's sealing, a few ms, is left out of the time).
        local lag quiet=0 prev="" cur t_idx; t_idx=$(now)
        for _ in $(seq 1200); do
                cur=$(cat /proc/"$dp"/task/*/stat 2>/dev/null | awk '{sub(/^.*\) /, ""); s += $12 + $13; r += ($1 == "R")} END {print s, r}')
                if [ "$cur" = "$prev" ] && [ "${cur#* }" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; t_idx=$(now); fi
                [ $quiet -lt 10 ] || break
                prev=$cur; sleep 0.1
        done
        lag=$(python3 -c "print(f'{$t_idx - $t_drain:.2f}')")
        local threads; threads=$(threads_cpu "$dp")
        local kids=0 k
        for k in $(pgrep -P "$dp" || true); do kids=$(python3 -c "print($kids + $(proc_cpu "$k"))"); done
        local t_term; t_term=$(now)
        kill -TERM "$wp"; wait "$wp"
        local t1; t1=$(now)
        local got
        got=$("$build/verifier/logseal-verify" --root-key "$st/root.pub" --json "$st/archives" |
                python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"]["class"], d["chain"]["records_verified"])')
        local bytes_disk; bytes_disk=$(find "$st/archives" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
        local cpu; cpu=$(awk -v k="$kids" '{print $1 + $2 + k}' "$st.ru")
        local indexed
        indexed=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT next_seq FROM position').fetchone()[0])" "$st/index/index.sqlite")
        [ "$indexed" -gt "$n" ] || echo "logseald $1 conn: only $indexed records indexed of $n: CPU undercounted" >&2
        set -- "$1" $got
        if [ "$2" != intact ] || [ "$3" -lt "$n" ]; then
                echo "logseald $1 conn: verify $2, $3 records of $n sent: FAILED" >&2
                exit 1
        fi
        echo "logseald $1 $n $(python3 -c "print($t_drain - $t0 + $t1 - $t_term)") $cpu $bytes_disk threads=${threads// /,}signer=$kids index-lag=${lag// /-}s"
        rm -rf "$tmp/ls-$1"
}

sng_conf() { # kind port out dir
        local tuned
        if [ -f "$peer_conf" ]; then
                tuned=$(sed "s|@PORT@|$2|; s|@OUT@|$3|" "$peer_conf")
        else
                tuned="@version: 3.38
options { chain_hostnames(off); use_dns(no); use_fqdn(no); dns_cache(no);
          stats_freq(0); keep_hostname(yes); log_fifo_size(400000); };
source s_in { syslog(ip(127.0.0.1) port($2) transport(tcp) max-connections(4)
                     log-iw-size(200000) log-fetch-limit(1000)); };
destination d_out { file(\"$3\" flush-lines(1000)); };
log { source(s_in); destination(d_out); flags(flow-control); };"
        fi
        case $1 in
        sng-tuned) echo "$tuned" ;;
        sng-fsync) echo "$tuned" | sed 's|flush-lines(1000)|flush-lines(1000) fsync(yes)|' ;;
        sng-diskbuf) echo "$tuned" | sed "s|flush-lines(1000)|flush-lines(1000) disk-buffer(reliable(yes) disk-buf-size(2147483648) mem-buf-size(16777216) dir(\"$4\"))|" ;;
        esac
}

run_sng() { # kind conns
        local d="$tmp/$1-$2" port; port=$(free_port)
        rm -rf "$d"; mkdir -p "$d"
        local out="$d/out.log"
        sng_conf "$1" "$port" "$out" "$d" >"$d/sng.conf"
        "$blast" rusage "$d/ru" -- syslog-ng -F -f "$d/sng.conf" -R "$d/persist" -p "$d/pid" \
                -c "$d/ctl" 2>"$d/err" &
        local wp=$!; pids+=("$wp")
        wait_port "$port"
        local t0; t0=$(now)
        local n bytes s
        read -r n bytes s < <("$blast" send 127.0.0.1 "$port" "$2" "$secs" "$frames")
        # the file is complete when it stops growing (flow control: no message is dropped)
        local size=-1 last t1; t1=$(now)
        for _ in $(seq 600); do
                last=$(stat -c %s "$out" 2>/dev/null || echo 0)
                if [ "$last" = "$size" ]; then break; fi
                size=$last; t1=$(now); sleep 0.1
        done
        kill -TERM "$wp"; wait "$wp" || true
        local got; got=$(wc -l <"$out")
        local cpu; cpu=$(awk '{print $1 + $2}' "$d/ru")
        local disk; disk=$(stat -c %s "$out")
        [ "$got" -ge "$n" ] || echo "$1 $2 conn: $got lines written of $n sent" >&2
        echo "$1 $2 $got $(python3 -c "print($t1 - $t0)") $cpu $disk"
        rm -rf "$d"
}

kinds=${KINDS:-sink logseald sng-tuned sng-fsync sng-diskbuf}
conns=${CONNS:-1 2}
echo "logseal ingest benchmark, real lines: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
        "$(git rev-parse --short HEAD 2>/dev/null || echo '?'), ${secs}s per run, $rounds round(s)," \
        "$per_pass messages per pass ($((raw_pass / per_pass)) B on average)"
results=$tmp/results
for r in $(seq "$rounds"); do
        for c in $conns; do
                for k in $kinds; do
                        case $k in # (not in $(...): the trap must see the pids)
                        sink) run_sink "$c" >"$tmp/line" ;;
                        logseald) run_logseald "$c" >"$tmp/line" ;;
                        *) run_sng "$k" "$c" >"$tmp/line" ;;
                        esac
                        line=$(cat "$tmp/line")
                        echo "$line" >>"$results"
                        python3 - $line <<'PY'
import sys
k, c, n, s, cpu, disk = sys.argv[1:7]
n, s, cpu, disk = int(n), float(s), float(cpu), int(disk)
extra = ' '.join(sys.argv[7:])
line = f'{k:12s} {c} conn: {n / s:10.0f} msg/s ({n} msgs in {s:.2f} s)'
if k != 'sink':
    line += f', CPU {cpu / n * 1e6:5.2f} us/msg, {disk / n:6.1f} B/msg on disk'
if extra:
    line += '\n    CPU s per thread (tid:s, in creation order: main/ingest, sealer, indexer): ' + extra
    th = [float(x.split(':')[1]) for x in extra.split()[0][len('threads='):].split(',') if ':' in x]
    sig = float(extra.split('signer=')[1].split()[0])
    if len(th) >= 3:
        us = lambda v: v / n * 1e6
        line += (f'\n    us CPU/msg: ingest {us(th[0]):.2f}, sealer {us(th[1]):.2f}, signer {us(sig):.2f}'
                 f' (sealing path {us(th[0] + th[1] + sig):.2f}), indexer {us(sum(th[2:])):.2f}')
print(line, flush=True)
PY
                done
        done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for l in open(sys.argv[1]):
    f = l.split()
    runs.setdefault((f[0], f[1]), []).append((int(f[2]) / float(f[3]), float(f[4]) / int(f[2]) * 1e6))
def med(k, c, i):
    v = runs.get((k, c))
    return statistics.median(x[i] for x in v) if v else None
print('medians:')
for c in sorted({c for _, c in runs}):
    ls = med('logseald', c, 0)
    for k in ('sink', 'logseald', 'sng-tuned', 'sng-fsync', 'sng-diskbuf'):
        r = med(k, c, 0)
        if r is None:
            continue
        t = f'  {k:12s} {c} conn: {r:10.0f} msg/s'
        if k != 'sink':
            t += f', {med(k, c, 1):5.2f} us CPU/msg'
        if ls and k != 'logseald':
            t += f'   logseald/{k} = {ls / r:.2f}'
        print(t)
PY
