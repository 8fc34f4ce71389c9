#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Per-archive zstd dictionaries (SPEC §8.6) through the real binaries: logseald receives real
# log lines over TCP across several archive rotations; the first archive has no dictionary and
# is sealed early once enough was seen to train one, later archives carry a dictionary frame
# named by their signed header. logseal-verify proves every message intact byte for byte,
# logsealctl query reads records of dictionary batches through the index, and a restart
# adopts the open archive. Then forgeries: a doctored dictionary, the dictionary of another
# archive swapped in, the dictionary frame removed: each TAMPERED, naming the dictionary.
# A new signing key every 7 batches puts epoch changes inside dictionary archives.
# Last, a crash halfway through writing a new archive's dictionary (tests/fault/libfault.so's
# LOGSEAL_KILL): the next start removes that archive, goes on, and everything verifies.
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD, SRC = sys.argv[1], sys.argv[2]
DATA = os.environ.get("SHARED_DATA", os.path.join(SRC, "..", "shared", "data"))
SKIPPABLE = 0x184D2A5B
t = Tap()


def lines():
    out = []
    for p in sorted(glob.glob(os.path.join(DATA, "loghub", "*_2k.log"))):
        out.append([l.rstrip(b"\r") for l in open(p, "rb").read().split(b"\n") if l.strip()])
    if not out:
        print("# ../shared/data absent: synthetic messages")
        return [b"Dec 10 06:55:46 LabSZ sshd[%d]: Failed password for user%d from 10.0.%d.%d"
                % (24200 + i, i % 97, i % 251, i % 13) for i in range(30000)]
    mixed = []
    for i in range(max(len(x) for x in out)):  # interleaved line by line, as bench/realsend.py
        mixed += [x[i] for x in out if i < len(x)]
    return mixed


def frames(path):
    """(offset, magic letter or None for a zstd frame, length of the frame) of each frame."""
    data = open(path, "rb").read()
    off, out = 0, []
    while off + 8 <= len(data):
        magic, n = struct.unpack_from("<II", data, off)
        if magic == SKIPPABLE:
            out.append((off, chr(data[off + 11]), 8 + n))
            off += 8 + n
        else:  # a payload: its length is in the batch header before it
            prev = out[-1]
            plen = struct.unpack_from("<I", data, prev[0] + 8 + 184)[0]
            out.append((off, None, plen))
            off += plen
    return data, out


def archives(state):
    return sorted(glob.glob(os.path.join(state, "archives", "*.lsa")))


def header_flags(path):
    with open(path, "rb") as f:
        return struct.unpack_from("<H", f.read(32), 8 + 12)[0]


def verify(app, directory, *extra):
    p = subprocess.run([os.path.join(BUILD, "verifier", "logseal-verify"), "--root-key",
                        os.path.join(app.state, "root.pub"), *extra, directory],
                       capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


# A new signing key every 7 batches (about 10 per 1 s archive): epoch changes inside
# dictionary archives, whose header the earlier key signed (SPEC §8.6, §9.3).
conf = ("[archive]\nmax_age = 1s\ndictionary_size = 16K\ndictionary_after = 96K\n"
        "[batch]\nmax_latency = 100ms\n[keys]\nepoch_batches = 7\n")
app = Appliance(BUILD, extra_conf=conf)
try:
    app.start()
    msgs = lines()
    sent = []
    c = socket.create_connection(("127.0.0.1", app.port))
    start = time.time()
    i = 0
    # About 8 s at 4,000 lines/s: several 1 s archives after the first dictionary.
    while time.time() - start < 8:
        for _ in range(40):
            m = b"<13>1 2026-12-03T13:07:02.%06dZ host app - - - " % (i % 1000000) + msgs[i % len(msgs)]
            c.sendall(b"%d %s" % (len(m), m))
            sent.append(m)
            i += 1
        time.sleep(0.01)
    c.close()
    time.sleep(1)

    # A restart adopts the open archive (sealed by recovery) and goes on.
    t.check("logseald stops cleanly", app.stop() == 0)
    n_before = len(archives(app.state))
    app.start()
    c = socket.create_connection(("127.0.0.1", app.port))
    for j in range(3000):
        m = b"<13>1 - host app - - - after restart " + msgs[(i + j) % len(msgs)]
        c.sendall(b"%d %s" % (len(m), m))
        sent.append(m)
    c.close()
    time.sleep(2)
    log = app.logtext()
    half = len(sent) // 2
    q = subprocess.run(app.as_user([app.ctl(), "query", "--state-dir", app.state, "--json",
                                    "--seq", f"{half}-{half + 4}"]),
                       capture_output=True, text=True)
    t.check("logseald stops cleanly after the restart", app.stop() == 0)
    after = archives(app.state)[n_before:]
    t.check("the restarted daemon learns from what the last run sealed: its first archive "
            "has a dictionary at once", after and header_flags(after[0]) & 1,
            [header_flags(a) for a in archives(app.state)])

    arcs = archives(app.state)
    with_dict = [a for a in arcs if header_flags(a) & 1]
    t.check("several archives (rotation every second)", len(arcs) >= 4, f"{len(arcs)} archives")
    t.check("the chain's first archive has no dictionary", header_flags(arcs[0]) == 0)
    t.check("later archives carry a dictionary (DICT flag)", len(with_dict) >= 3,
            f"{len(with_dict)} of {len(arcs)}")
    t.check("logseald logs each training with its cost", "zstd dictionary of" in log, log[-2000:])
    ok_frames = True
    for a in with_dict:
        data, fr = frames(a)
        ok_frames &= len(fr) >= 2 and fr[1][1] == "D"
    t.check("the dictionary frame follows the archive header", ok_frames)
    dict_batches = 0
    for a in with_dict:
        data, fr = frames(a)
        for off, kind, n in fr:
            if kind == "B":
                dict_batches += struct.unpack_from("<H", data, off + 8 + 12)[0] >> 1 & 1
    t.check("their batches name the dictionary (DICT batch flag)", dict_batches >= 3,
            f"{dict_batches} batches")
    mixed = 0
    for a in with_dict:
        data, fr = frames(a)
        keys = {bytes(data[off + 8 + 224:off + 8 + 232]) for off, kind, n in fr if kind == "B"}
        mixed += len(keys) > 1
    t.check("epoch changes inside dictionary archives (batches of two signing keys in one)",
            mixed >= 2, f"{mixed} of {len(with_dict)}")

    rc, report, recs = app.verify()
    got = [message_bytes(r) for r in recs if r.get("type") == "syslog"]
    t.check("logseal-verify: INTACT", rc == 0, str(report)[:1500])
    t.check("every message present, byte for byte, in order", got == sent,
            f"{len(got)} of {len(sent)}")
    rc, out = verify(app, os.path.join(app.state, "archives"), "--jobs", "1")
    t.check("logseal-verify --jobs 1: INTACT", rc == 0, out[-1500:])
    t.check("logsealctl query reads records of dictionary batches", q.returncode == 0
            and q.stdout.count("\n") >= 5, (q.stdout + q.stderr)[-1000:])

    # ---- forgeries, each on a copy of the archives ----
    target, other = with_dict[1], with_dict[2]

    def forged(name, mutate, expect):
        d = os.path.join(app.dir, "forged-" + name)
        shutil.copytree(os.path.join(app.state, "archives"), d)
        p = os.path.join(d, os.path.basename(target))
        os.chmod(p, 0o640)
        data = bytearray(open(p, "rb").read())
        data = mutate(data)
        open(p, "wb").write(data)
        rc, out = verify(app, d)
        t.check(f"{name}: TAMPERED (exit 1)", rc == 1, out[-1500:])
        t.check(f"{name}: the report names the dictionary", expect in out, out[-1500:])

    def dict_frame(data):
        _, fr = frames_of(data)
        return fr[1]

    def frames_of(data):
        tmp = os.path.join(app.dir, "tmp.lsa")
        open(tmp, "wb").write(data)
        return frames(tmp)

    def doctor(data):
        off, kind, n = dict_frame(data)
        data[off + n - 100] ^= 0x01  # inside the dictionary's content
        return data

    def swap(data):
        off, kind, n = dict_frame(data)
        odata, ofr = frames(other)
        ooff, okind, on = ofr[1]
        return data[:off] + odata[ooff:ooff + on] + data[off + n:]

    def remove(data):
        off, kind, n = dict_frame(data)
        return data[:off] + data[off + n:]

    forged("doctored dictionary", doctor, "dictionary does not match the archive header")
    forged("dictionary of another archive", swap, "dictionary does not match the archive header")
    forged("dictionary frame removed", remove, "dictionary frame missing")
finally:
    app.close()

# ---- a crash while the dictionary frame is written ----
LIB = os.path.join(BUILD, "tests", "libfault.so")
if not os.path.exists(LIB):
    print("# libfault.so not built (sanitizer build): the torn-dictionary case is skipped")
else:
    app = Appliance(BUILD, extra_conf=conf)
    try:
        flog = os.path.join(app.dir, "fault.log")
        # archive 1's writes: its header (1), its dictionary frame (2): torn, then SIGKILL
        app.start(env=dict(os.environ, LD_PRELOAD=LIB, LOGSEAL_KILL="-00000001.lsa::2",
                           LOGSEAL_FAULT_LOG=flog))
        sent = []
        try:
            c = socket.create_connection(("127.0.0.1", app.port))
            for i in range(200000):
                m = b"<13>1 - host app - - - before the crash " + msgs[i % len(msgs)]
                c.sendall(b"%d %s" % (len(m), m))
                sent.append(m)
                if i % 40 == 39:
                    time.sleep(0.01)
                    if app.proc.poll() is not None:
                        break
            c.close()
        except OSError:
            pass
        try:
            app.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.proc.kill()
            app.proc.wait()
        app.log.close()
        killed = os.path.exists(flog) and "kill" in open(flog).read()
        torn = [a for a in archives(app.state) if a.endswith("-00000001.lsa")]
        size = os.path.getsize(torn[0]) if torn else 0
        t.check("killed halfway through archive 1's dictionary frame", killed and torn and
                frames(torn[0])[1][-1][1] == "D" and size < frames(torn[0])[1][-1][0] + 8 + 24 +
                struct.unpack_from("<I", open(torn[0], "rb").read(), frames(torn[0])[1][-1][0] + 4)[0],
                (killed, torn, size))
        app.start()
        c = socket.create_connection(("127.0.0.1", app.port))
        for i in range(2000):
            m = b"<13>1 - host app - - - after the crash %d" % i
            c.sendall(b"%d %s" % (len(m), m))
        c.close()
        time.sleep(1.5)
        t.check("logseald stops cleanly after the recovery", app.stop() == 0)
        log = app.logtext()
        t.check("the recovery removed the torn archive", "removed a torn archive header" in log,
                log[-1500:])
        rc, report, recs = app.verify()
        got = [message_bytes(r) for r in recs if r.get("type") == "syslog"]
        before = [g for g in got if b"before the crash" in g]
        t.check("after the recovery: INTACT, the unclean stop declared, nothing after it lost",
                rc == 0 and report.get("events", {}).get("counts", {}).get("unclean-shutdown") == 1
                and before == sent[:len(before)] and len(before) > 0 and
                sum(b"after the crash" in g for g in got) == 2000,
                (rc, len(before), len(sent), str(report.get("findings"))[:800]))
        # the restarted daemon learns again from archive 0 (recovery reads its payloads
        # back): archive 1, written again, has a dictionary from the start
        arcs = archives(app.state)
        t.check("archive 1 is written again, with a dictionary trained on archive 0",
                len(arcs) >= 2 and header_flags(arcs[0]) == 0 and header_flags(arcs[1]) & 1,
                [header_flags(a) for a in arcs])
    finally:
        app.close()
t.done()
