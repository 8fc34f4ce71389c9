#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The query benchmarks' chain (bench/query.sh, bench/query-compare.sh): N octet-counted
# RFC 5424 messages to 127.0.0.1:PORT, 100 hosts, 7 apps, 8 severities, 8 words, and one rare
# term ("needle-K") every 100,000 records for the full-text query.
#   usage: bench/query-gen.py PORT N [PAUSE_SECONDS]  (a pause after each 20,000 messages)
import socket
import sys
import time

port, total = int(sys.argv[1]), int(sys.argv[2])
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
s = socket.create_connection(("127.0.0.1", port))
words = ["disk", "login", "cron", "kernel", "network", "auth", "backup", "dns"]
chunk = []
for i in range(total):
    term = b" needle-%d" % i if i % 100000 == 50000 else b""
    m = b"<%d>1 2026-03-01T10:00:00Z host%02d app%d 42 - - %s event %d%s" % (
        8 + i % 8, i % 100, i % 7, words[i % 8].encode(), i, term)
    chunk.append(b"%d %s" % (len(m), m))
    if len(chunk) == 20000:
        s.sendall(b"".join(chunk))
        chunk = []
        if pause:
            time.sleep(pause)
s.sendall(b"".join(chunk))
s.close()
