#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Paced sender of real log lines for the storage and ingest benchmarks.

Reads the loghub samples (../shared/data/loghub, see its README), wraps each line as
RFC 5424 the way the appliance's syslog-ng front end does (ISODATE with six fractional
digits, host and program per source file, no structured data), interleaves the sources
line by line (a mixed stream, as an appliance receives from many hosts), and sends them
over TCP with RFC 6587 octet counting at a fixed rate: every 10 ms it sends what is due.
Prints "messages raw_bytes seconds" on stdout; raw_bytes counts the RFC 5424 messages
without their framing (what logseald stores as record bodies).

  realsend.py --port P --rate R --seconds S [--data DIR] [--conns N]
  realsend.py --frame FILE [--data DIR]

--frame writes one pass over every line, framed, to FILE instead (for bench/ingest-real.sh and
bench/blast): time stamps start at 2026-01-01T00:00:00Z, 20 us apart (50,000 msg/s), and it
prints "messages raw_bytes".
"""
import argparse
import datetime
import os
import socket
import sys
import time


def load(data):
    streams = []
    for f in sorted(os.listdir(data)):
        if not f.endswith('.log'):
            continue
        name = f.split('_')[0]
        with open(os.path.join(data, f), 'rb') as fh:
            lines = [l.rstrip(b'\r') for l in fh.read().split(b'\n')]
        lines = [l for l in lines if l.strip()]
        streams.append((b'host-' + name.lower().encode(), name.encode(), lines))
    out = []
    for i in range(max(len(s[2]) for s in streams)):
        for host, app, lines in streams:
            if i < len(lines):
                out.append((host, app, lines[i]))
    return out


def frame(lines, path):
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    raw = 0
    with open(path, 'wb') as out:
        for i, (host, app, line) in enumerate(lines):
            ts = (t0 + datetime.timedelta(microseconds=20 * i)).strftime(
                '%Y-%m-%dT%H:%M:%S.%f+00:00').encode()
            msg = b'<13>1 ' + ts + b' ' + host + b' ' + app + b' - - - ' + line
            out.write(b'%d %s' % (len(msg), msg))
            raw += len(msg)
    print(len(lines), raw)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int)
    ap.add_argument('--frame', metavar='FILE')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--rate', type=int)
    ap.add_argument('--seconds', type=float)
    ap.add_argument('--conns', type=int, default=1)
    ap.add_argument('--data', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   '..', '..', 'shared', 'data', 'loghub'))
    a = ap.parse_args()
    lines = load(a.data)
    if a.frame:
        return frame(lines, a.frame)
    if a.port is None or a.rate is None or a.seconds is None:
        ap.error('--port, --rate and --seconds are required without --frame')
    socks = [socket.create_connection((a.host, a.port)) for _ in range(a.conns)]
    total = int(a.rate * a.seconds)
    sent = raw = 0
    t0 = time.time()
    tick = 0.01
    k = 0
    while sent < total:
        due = min(total, int((time.time() - t0) * a.rate) + 1)
        if due <= sent:
            time.sleep(max(0.0, t0 + (sent + 1) / a.rate - time.time(), tick / 10))
            continue
        chunks = [[] for _ in socks]
        while sent < due:
            host, app, line = lines[k % len(lines)]
            now = time.time()
            ts = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%S.%f+00:00').encode()
            msg = b'<13>1 ' + ts + b' ' + host + b' ' + app + b' - - - ' + line
            chunks[k % len(socks)].append(b'%d %s' % (len(msg), msg))
            raw += len(msg)
            sent += 1
            k += 1
        for s, c in zip(socks, chunks):
            if c:
                s.sendall(b''.join(c))
        time.sleep(tick)
    for s in socks:
        s.shutdown(socket.SHUT_WR)
        s.close()
    print(sent, raw, f'{time.time() - t0:.2f}')


if __name__ == '__main__':
    sys.exit(main())
