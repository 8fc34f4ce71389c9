#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Privilege separation: the process that reads the network and parses syslog (logseald) never
# holds a secret key; the signer process (logseald-signer, its child) does. While a TCP sender
# streams and the signing key changes every 3 batches, every key that appears in keys/ is
# collected; then the readable memory of logseald (/proc/PID/maps + /proc/PID/mem) is searched
# for each key's 32-byte seed: none may be found. The same scan of the signer must find its
# current key (so the scan can fail). Then: the signer shrugs off SIGTERM/SIGINT (the daemon
# still needs signatures to seal what is pending), a killed signer makes logseald exit at once
# (fail closed) and the next start recovers every record, and a clean stop ends the signer too.
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD, SECKEY_HEX = os.path.abspath(sys.argv[1]), sys.argv[2]
# Under ASan the heap sits next to terabytes of shadow memory in the same mappings: the scan
# runs on builds without sanitizers (./runtests has one); the other checks run everywhere.
SANITIZED = len(sys.argv) > 3 and sys.argv[3] not in ("", "none")
CONF = "[batch]\nmax_latency = 100ms\n[keys]\nepoch_batches = 3\n"
REGION_MAX = 1 << 30   # larger mappings are sanitizer shadow memory, reserved, never keys
t = Tap()


def secret(path):
    p = subprocess.run([SECKEY_HEX, path], capture_output=True, text=True)
    return bytes.fromhex(p.stdout.strip()) if p.returncode == 0 else None


def collect(state, seen):
    for name in ("signing.key", "signing.next.key"):
        k = secret(os.path.join(state, "keys", name))
        if k:
            seen.add(k)


def signer_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == pid:
            kids.append((int(d), comm))
    return [k for k, c in kids if c == "logseald-signer"]


def scan(pid, needles):
    """Which needles occur in the readable memory of pid; and how many bytes were read."""
    found, total = set(), 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "r" not in f[1] or hi - lo > REGION_MAX or (len(f) > 5 and f[5] == "[vvar]"):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            total += len(data)
            for i, n in enumerate(needles):
                if data.find(n) >= 0:
                    found.add(i)
    return found, total


class Sender(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.sent, self.stop = port, 0, False

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            while not self.stop:
                batch = b""
                for _ in range(20):
                    m = b"<13>1 - keymem - - - - n=%d a line to seal" % self.sent
                    batch += b"%d %s" % (len(m), m)
                    self.sent += 1
                s.sendall(batch)
                time.sleep(0.002)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


app = Appliance(BUILD, extra_conf=CONF)
try:
    app.start()
    snd = Sender(app.port)
    snd.start()
    seen = set()
    for _ in range(16):
        collect(app.state, seen)
        time.sleep(0.25)
    signers = signer_of(app.proc.pid)
    t.check("logseald has one signer process (logseald-signer)", len(signers) == 1,
            signers)
    collect(app.state, seen)
    current = secret(os.path.join(app.state, "keys", "signing.key"))
    keys = sorted(seen)
    t.check("several signing keys came and went while the sender streamed (epoch changes)",
            len(keys) >= 3, len(keys))
    seeds = [k[:32] for k in keys]
    if SANITIZED:
        print("# sanitizer build: memory scans skipped")
    else:
        found, total = scan(app.proc.pid, seeds)
        t.check(f"no seed of the {len(keys)} signing keys is in logseald's memory "
                f"({total >> 20} MiB scanned)", not found and total > (1 << 20),
                (sorted(found), total))
    if signers and not SANITIZED:
        cur_found, stotal = scan(signers[0], [current[:32]] if current else [])
        # the current key may have changed between reading the file and the scan: retry once
        if not cur_found:
            current = secret(os.path.join(app.state, "keys", "signing.key"))
            cur_found, stotal = scan(signers[0], [current[:32]] if current else [])
        t.check("the scan finds the current key in the signer's memory (the scan can fail)",
                bool(cur_found), stotal)
    if signers:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            os.kill(signers[0], sig)
        time.sleep(0.5)
        t.check("the signer ignores SIGTERM, SIGINT and SIGHUP (sealing still needs it)",
                alive(signers[0]) and app.proc.poll() is None)
        app.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        t.check("SIGHUP does not end logseald (it says there is nothing to reload)",
                app.proc.poll() is None and "SIGHUP ignored" in app.logtext())
        # Fail closed: no signer, no sealing; what was read is in the WAL.
        os.kill(signers[0], signal.SIGKILL)
        try:
            rc = app.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        snd.stop = True
        snd.join()
        app.log.close()
        t.check("a killed signer makes logseald exit at once, with an error",
                rc not in (None, 0) and "signer process is gone" in app.logtext(), rc)
    app.start()
    signers2 = signer_of(app.proc.pid)
    rc_stop = app.stop()
    time.sleep(0.2)
    t.check("a clean stop exits 0 and ends the signer process too",
            rc_stop == 0 and signers2 and not any(alive(p) for p in signers2),
            (rc_stop, signers2))
    rc, report, records = app.verify()
    got = [int(m.group(1)) for r in records if r["type"] == "syslog"
           for m in [re.search(rb"keymem - - - - n=(\d+) ", message_bytes(r) or b"")] if m]
    counts = report.get("events", {}).get("counts", {})
    t.check("after the restart the chain verifies, the stream is a gap-free prefix and the "
            "unclean stop is declared",
            rc == 0 and got == list(range(len(got))) and len(got) > 1000 and
            counts.get("unclean-shutdown") == 1,
            (rc, len(got), got[:3], counts))
finally:
    app.close()
sys.exit(t.done())
