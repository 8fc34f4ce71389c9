#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A stop loses nothing a local writer was told was written (issue 13, item 3): writers keep
# writing to the unix stream and the unix datagram socket while logseald gets SIGTERM. logseald
# stops reading from its connections with shutdown(SHUT_RD), so a unix stream writer gets EPIPE
# for anything it writes after that, and seals everything already in its sockets' buffers
# before it exits. Every message whose write succeeded must be sealed. The daemon runs as an
# unprivileged user, and is stopped (SIGSTOP) for a moment before SIGTERM so that its socket
# buffers are full when the signal arrives.
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
UID = 65534
t = Tap()

if os.geteuid() != 0:
    print("1..0 # SKIP not root (needs to run logseald as another user)")
    sys.exit(77)


def stream_writer(path, tag, written, stop):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            m = b"<13>1 - host app - - - %s %d %s" % (tag, n, b"x" * 200)
            s.sendall(b"%d %s" % (len(m), m))
            written.append(n)  # the whole message went into the socket
    except OSError as e:
        written_err.append(e.errno)
    s.close()


def dgram_writer(path, tag, written, stop):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            s.sendto(b"<13>1 - host app - - - %s %d" % (tag, n), path)
            written.append(n)
    except OSError:
        pass
    s.close()


written_err = []
app = Appliance(BUILD, user=UID)
try:
    results = []
    for rnd in range(3):
        app.start()
        stop = threading.Event()
        ws = {b"s%da" % rnd: [], b"s%db" % rnd: []}
        wd = []
        threads = [threading.Thread(target=stream_writer, args=(app.sock, tag, w, stop))
                   for tag, w in ws.items()]
        threads.append(threading.Thread(target=dgram_writer, args=(app.dsock, b"d%d" % rnd, wd, stop)))
        for th in threads:
            th.start()
        time.sleep(0.5)
        os.kill(app.proc.pid, signal.SIGSTOP)
        time.sleep(0.5)   # the writers fill the socket buffers and block
        os.kill(app.proc.pid, signal.SIGTERM)
        os.kill(app.proc.pid, signal.SIGCONT)
        rc = app.proc.wait(timeout=60)
        app.log.close()
        stop.set()
        for th in threads:
            th.join(timeout=30)
        t.check(f"round {rnd}: logseald exits 0 after SIGTERM", rc == 0, app.logtext()[-2000:])
        results.append((ws, wd))

    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0)", rc == 0,
            (rc, {k: v for k, v in report.items() if k not in ("tool", "trust_anchor")}))
    bodies = [message_bytes(r) or b"" for r in records if r.get("type") == "syslog"]
    seen = {}
    for b in bodies:
        f = b.split(b" ")
        if len(f) >= 9 and f[8].isdigit():
            seen.setdefault(f[7], set()).add(int(f[8]))
    for rnd, (ws, wd) in enumerate(results):
        for tag, w in ws.items():
            missing = [n for n in w if n not in seen.get(tag, set())]
            t.check(f"round {rnd}: every message the stream writer {tag.decode()} wrote is sealed "
                    f"({len(w)} written)", len(w) > 0 and not missing,
                    f"{len(missing)} missing, first {missing[:5]}")
        missing = [n for n in wd if n not in seen.get(b"d%d" % rnd, set())]
        t.check(f"round {rnd}: every datagram sent is sealed ({len(wd)} sent)",
                len(wd) > 0 and not missing, f"{len(missing)} missing, first {missing[:5]}")
    t.check("the writers saw EPIPE/ECONNRESET/ENOENT (stopped by the daemon, not by the test)",
            len(written_err) >= 1, written_err)

    # TCP cannot refuse data: two senders that never pause keep the stop's drain reading until
    # its deadline (5 s); what they sent after it is lost, and that must be declared against
    # them (LOSS, CAUSE connection-closed, TEXT "stop: ..."), with what was read sealed in order.
    app.start()
    stop = threading.Event()
    sent_tcp = {}

    def tcp_writer(tag):
        s = socket.create_connection(("127.0.0.1", app.port))
        blob = b"".join(b"%d %s" % (len(m), m) for m in
                        (b"<13>1 - host app - - - %s %d %s" % (tag, n, b"y" * 100)
                         for n in range(1, 20001)))
        try:
            while not stop.is_set():
                s.sendall(blob)
                sent_tcp[tag] = sent_tcp.get(tag, 0) + 1
        except OSError:
            pass
        s.close()

    tags = [b"t1", b"t2"]
    threads = [threading.Thread(target=tcp_writer, args=(tag,)) for tag in tags]
    for th in threads:
        th.start()
    time.sleep(1.0)
    t0 = time.monotonic()
    os.kill(app.proc.pid, signal.SIGTERM)
    rc = app.proc.wait(timeout=60)
    took = time.monotonic() - t0
    app.log.close()
    stop.set()
    for th in threads:
        th.join(timeout=30)
    t.check("tcp: logseald exits 0 after SIGTERM, within the drain's deadline", rc == 0 and took < 30,
            (rc, took, app.logtext()[-1000:]))
    rc, report, records = app.verify()
    t.check("tcp: logseal-verify: intact (exit 0)", rc == 0, report.get("verdict"))
    closed = [e for e in report.get("events", {}).get("list", [])
              if e["type"] == "loss" and e["fields"].get("cause") == "connection-closed"
              and e["fields"].get("text", "").startswith("stop:")]
    t.check("tcp: the connections still sending at the drain's end are declared (connection-closed, "
            "stop:, SOURCE 127.0.0.1)",
            closed and sum(e["fields"]["count"] for e in closed) == 2 and
            all(e["fields"].get("source") == "127.0.0.1" for e in closed),
            (closed, app.logtext()[-1000:]))
    for tag in tags:
        got = []
        for r in records:
            b = message_bytes(r) or b"" if r.get("type") == "syslog" else b""
            f = b.split(b" ")
            if len(f) >= 9 and f[7] == tag and f[8].isdigit():
                got.append(int(f[8]))
        k = len(got)
        # the stream is cut once: message numbers 1..20000 repeat, in order, none skipped
        expect = [(i % 20000) + 1 for i in range(k)]
        t.check(f"tcp: what {tag.decode()} sent before the cut is sealed in order, nothing skipped "
                f"({k} sealed)", k > 0 and got == expect,
                next(((i, a, b) for i, (a, b) in enumerate(zip(got, expect)) if a != b), None))
finally:
    app.close()
sys.exit(t.done())
