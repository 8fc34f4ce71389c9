#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Disk faults at the daemon's write sites: with tests/fault/libfault.so preloaded, writes and
# syncs of the archives, the WAL, the SQLite index, the key files and sealed.state fail with
# ENOSPC or EIO (or are cut short and then fail) for about 1.5 s while TCP and UDP senders
# stream. Each case: the fault was really hit; logseald keeps running, says what failed, and
# recovers by itself when the fault clears; it stops cleanly; the archives verify; every TCP
# message is sealed in order (back-pressure, no loss); every UDP datagram is sealed or declared
# lost.
#   argv: BUILD_DIR LIBFAULT_SO
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
LIB = os.path.abspath(sys.argv[2])
if not os.path.exists(LIB):
    print("1..0 # SKIP libfault.so not built (sanitizer build)")
    sys.exit(77)
t = Tap()

CASES = [
    ("archives/", "ENOSPC", "fail"),
    ("archives/", "EIO", "short"),
    ("wal/", "ENOSPC", "fail"),
    ("wal/", "EIO", "short"),
    ("index.sqlite", "EIO", "fail"),
    ("keys/", "ENOSPC", "fail"),
    ("sealed.state", "EIO", "fail"),
]


class TcpSender(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.sent, self.stop, self.error = port, [], False, None

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            i = 0
            while not self.stop:
                chunk = []
                for _ in range(20):
                    m = b"<13>1 - faulty app - - - tcp %d" % i
                    chunk.append(b"%d %s" % (len(m), m))
                    self.sent.append(m)
                    i += 1
                s.sendall(b"".join(chunk))
                time.sleep(0.005)
            s.close()
        except OSError as e:
            self.error = e


def udp_send(port, n, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        m = b"<13>1 - faulty app - - - udp %d" % i
        s.sendto(m, ("127.0.0.1", port))
        out.append(m)
        if i % 50 == 49:
            time.sleep(0.01)


for site, err, mode in CASES:
    name = f"{site} {err} {mode}"
    app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 2\n")
    switch = os.path.join(app.dir, "fault-on")
    log = os.path.join(app.dir, "faults.log")
    env = dict(os.environ, LD_PRELOAD=LIB, LOGSEAL_FAULT=f"{site}:{err}:{mode}",
               LOGSEAL_FAULT_SWITCH=switch, LOGSEAL_FAULT_LOG=log)
    try:
        app.start(env=env)
        tcp = TcpSender(app.port)
        tcp.start()
        udp_sent = []
        udp = threading.Thread(target=udp_send, args=(app.port, 3000, udp_sent), daemon=True)
        udp.start()
        time.sleep(1.0)
        open(switch, "w").close()
        time.sleep(1.5)
        os.unlink(switch)
        alive = app.proc.poll() is None
        time.sleep(1.5)
        tcp.stop = True
        tcp.join()
        udp.join()
        time.sleep(1.5)
        rc = app.stop(timeout=120)
        injected = open(log).read().count("\n") if os.path.exists(log) else 0
        rcv, report, records = app.verify()
        got_tcp = [message_bytes(r) for r in records if r["type"] == "syslog" and
                   (message_bytes(r) or b"").find(b" tcp ") > 0]
        got_udp = sum(1 for r in records if r["type"] == "syslog" and
                      b" udp " in (message_bytes(r) or b""))
        lost = sum(int(e.get("fields", {}).get("count", 0)) for e in report.get("events", {}).get("list", [])
                   if e.get("control") == "loss") if isinstance(report.get("events", {}).get("list"), list) else None
        logtext = app.logtext()
        t.check(f"{name}: the fault was hit ({injected} injected)", injected > 0, injected)
        t.check(f"{name}: logseald kept running through it and stopped cleanly", alive and rc == 0,
                (alive, rc, logtext[-600:]))
        t.check(f"{name}: it said what failed", re.search(r"cannot|fail|error", logtext, re.I) is not None
                or site == "index.sqlite", logtext[-400:])
        t.check(f"{name}: the archives verify (exit 0)", rcv == 0, report.get("findings", report)
                if isinstance(report, dict) else report)
        t.check(f"{name}: every TCP message sealed, in order ({len(got_tcp)}/{len(tcp.sent)})",
                got_tcp == tcp.sent and tcp.error is None, (len(got_tcp), len(tcp.sent), tcp.error))
        declared = report.get("events", {}).get("counts", {}).get("loss", 0)
        t.check(f"{name}: UDP sealed {got_udp} of {len(udp_sent)}; the rest declared",
                got_udp == len(udp_sent) or declared > 0, (got_udp, len(udp_sent), declared))
    finally:
        if t.failed:
            print("# logseald log:\n# " + app.logtext()[-2000:].replace("\n", "\n# "))
        app.close()
sys.exit(t.done())
