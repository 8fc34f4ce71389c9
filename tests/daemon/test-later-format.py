#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# An appliance downgraded onto archives a later logseal wrote (SPEC §1.1): logseald must never
# take a structure of a later format for a torn tail and cut it, nor seal or append to that
# archive. Through the real binaries as the service user: after a crash (open archive) the
# last batch gets an unknown incompatible flag; after a clean stop the seal gets version 2;
# then the open archive's header gets version 2. Each time logseald refuses to start, names
# the file, the offset and what it does not know, and leaves every archive byte as it was.
# With the original bytes back it starts, and the evidence verifies with nothing lost.
import glob
import hashlib
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
SKIPPABLE = 0x184D2A5B
t = Tap()
app = Appliance(BUILD)


def send(tag, n=20):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - host app - - - %s %d" % (tag, i) for i in range(n))))
    s.close()


def frames(data):
    """(offset, magic letter or None for a payload, length) of each frame."""
    off, out = 0, []
    while off + 8 <= len(data):
        magic, n = struct.unpack_from("<II", data, off)
        if magic == SKIPPABLE:
            out.append((off, chr(data[off + 11]), 8 + n))
            off += 8 + n
        else:
            plen = struct.unpack_from("<I", data, out[-1][0] + 8 + 184)[0]
            out.append((off, None, plen))
            off += plen
    return out


def archives():
    return sorted(glob.glob(os.path.join(app.state, "archives", "*.lsa")))


def snapshot():
    return {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in archives()}


def patch(path, off, value):
    """A u16 at off, written as the service user's file keeps its owner and mode."""
    st = os.stat(path)
    os.chmod(path, 0o600 | st.st_mode)
    with open(path, "r+b") as f:
        f.seek(off)
        old = f.read(2)
        f.seek(off)
        f.write(struct.pack("<H", value))
    os.chmod(path, st.st_mode)
    return old


def restore(path, off, old):
    st = os.stat(path)
    os.chmod(path, 0o600 | st.st_mode)
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(old)
    os.chmod(path, st.st_mode)


def start_refused(what, path, needle):
    before = snapshot()
    p = subprocess.Popen(app.as_user([os.path.join(BUILD, "daemon", "logseald"), "--config",
                                      app.conf, "--state-dir", app.state,
                                      "--listen", f"tcp:127.0.0.1:{app.port}"]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # it started: what did it do to the archive?
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        err = "(started and ran) " + err
    t.check(f"{what}: logseald refuses to start, naming the file and what it does not know",
            p.returncode not in (0, None) and not err.startswith("(started") and
            os.path.basename(path) in err and needle in err and
            "later version of logseal" in err and "Sanitizer" not in err,
            (p.returncode, err[-800:]))
    t.check(f"{what}: nothing was cut, sealed or appended (every archive byte as it was)",
            snapshot() == before, (before, snapshot()))


try:
    app.start()
    send(b"one")
    time.sleep(0.8)
    send(b"two")
    time.sleep(0.8)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()

    # 1. open archive (crash), its last batch with incompat_flags bit 15: not a torn tail
    last = archives()[-1]
    data = open(last, "rb").read()
    fr = frames(data)
    batches = [f for f in fr if f[1] == "B"]
    t.check("the crash left an open archive with batches", batches and fr[-1][1] is None,
            fr[-3:])
    boff = batches[-1][0] + 8
    old = patch(last, boff + 12, struct.unpack_from("<H", data, boff + 12)[0] | 0x8000)
    start_refused("open archive, last batch of a later format", last,
                  f"offset {batches[-1][0]}: the batch header has incompat_flags")
    restore(last, boff + 12, old)

    # 2. with the original bytes: recovery seals the archive, then a clean stop
    app.start()
    send(b"three")
    time.sleep(0.8)
    t.check("clean stop", app.stop() == 0, app.logtext()[-500:])
    rc, report, records = app.verify()
    t.check("intact after the refused starts: nothing lost",
            rc == 0 and sum(1 for r in records if b"three" in r.get("message", "").encode()
                            or "three" in str(r)) >= 20, (rc, report.get("findings")))

    # 3. a sealed archive whose seal is of version 2: not damage to cut and seal again
    last = archives()[-1]
    data = open(last, "rb").read()
    fr = frames(data)
    t.check("the clean stop sealed the archive", fr[-1][1] == "T", fr[-2:])
    toff = fr[-1][0] + 8
    old = patch(last, toff + 8, 2)
    start_refused("sealed archive, seal of version 2", last, "the seal trailer has version 2")
    restore(last, toff + 8, old)

    # 4. an open archive whose header is of version 2
    app.start()
    send(b"four")
    time.sleep(0.8)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    last = archives()[-1]
    old = patch(last, 8 + 8, 2)
    start_refused("open archive, header of version 2", last, "the archive header has version 2")
    restore(last, 8 + 8, old)

    app.start()
    send(b"five")
    time.sleep(0.8)
    t.check("clean stop", app.stop() == 0, app.logtext()[-500:])
    rc, report, records = app.verify()
    t.check("intact at the end: every message of every run", rc == 0 and
            all(any(tag in str(r) for r in records) for tag in ("one", "two", "three", "four",
                                                                "five")),
            (rc, report.get("findings")))
finally:
    app.close()
t.done()
