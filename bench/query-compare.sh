#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Query answers and latency of two builds on one chain: logseald of build B seals RECORDS
# records (bench/query.sh's generator: 100 hosts, 7 apps, 8 severities, a rare term every
# 100,000), then build A's and build B's `logsealctl reindex --fulltext` each index it and run
# the same queries; prints CPU and wall time of each and the md5 of its output (the answers of
# the two builds must be identical). Used for the index change of issue 16 (bench/RESULTS.md).
#
#   bench/query-compare.sh BUILD_A BUILD_B [RECORDS]        (RECORDS: 1000000)
# Runs as root only (logseald as nobody), like bench/ingest-real.sh on this VM.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 records=${3:-1000000}
d=$(mktemp -d /var/tmp/logseal-query-compare.XXXXXX)
trap 'rm -rf "$d"' EXIT
chmod 711 $d
st=$d/state
$new/daemon/logsealctl init --state-dir $st --no-passphrase --user nobody >/dev/null
printf '[daemon]\nuser = nobody\n[index]\nfulltext = yes\n' > $d/conf
port=$((20000 + RANDOM % 20000))
$new/daemon/logseald --config $d/conf --state-dir $st --listen tcp:127.0.0.1:$port 2>$d/log &
lp=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
python3 bench/query-gen.py "$port" "$records" 0.05
sleep 3
kill -TERM $lp; wait $lp || true
# the middle of the chain's receive times
mid=$(python3 -c "
import sqlite3,sys; db=sqlite3.connect('$st/index/index.sqlite')
a,b=db.execute('select min(min_time),max(max_time) from batches').fetchone(); print((a+b)//2)")
for b in old new; do
  if [ $b = old ]; then bd=$old; else bd=$new; fi
  rm -f $st/index/index.sqlite*
  /usr/bin/time -f "$b reindex %e s wall %U+%S s CPU" $bd/daemon/logsealctl reindex --fulltext --state-dir $st 2>&1 | tail -2
  echo "$b index size $(du -k $st/index/index.sqlite | cut -f1) KiB"
  q() { local label=$1; shift; /usr/bin/time -f "$b %e s wall %U+%S s CPU  $label" $bd/daemon/logsealctl query --state-dir $st --text "$@" > $d/$b.$label.out 2>$d/$b.$label.err || true; tail -1 $d/$b.$label.err; echo "   $(wc -l < $d/$b.$label.out) lines md5 $(md5sum < $d/$b.$label.out | cut -c1-12)"; }
  q host-1s --host host07 --from @$mid --to @$((mid + 1000000000))
  q host-all --host host07
  q app-limit --app app3 --limit 1000
  q sev-1s --severity crit --from @$mid --to @$((mid + 1000000000))
  q match --match needle-550000
  q grep --grep needle-
  q all-1s --from @$mid --to @$((mid + 1000000000))
done
