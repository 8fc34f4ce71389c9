#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Tamper suite on a chain made by the real logseald (several archives, clean restarts and a
# SIGKILL): the genuine chain verifies with exit 0; each tampering of whole archives is
# reported with its class and a localized finding.
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = sys.argv[1]
VERIFY = os.path.join(BUILD, "verifier", "logseal-verify")
t = Tap()


def send(app, tag, n):
    s = socket.create_connection(("127.0.0.1", app.port))
    for i in range(n):
        m = b"<13>1 - host app - - - %s %d" % (tag, i)
        s.sendall(b"%d %s" % (len(m), m))
    s.close()
    time.sleep(0.5)


def run_verify(root, paths, *extra):
    import json
    p = subprocess.run([VERIFY, "--root-key", root, "--json", *extra, *paths], capture_output=True)
    return p.returncode, json.loads(p.stdout or b"{}")


def make_chain(app, rounds, kill_at=None, checkpoint=None):
    for r in range(rounds):
        app.start()
        send(app, b"round%d" % r, 200)
        if checkpoint and r == rounds - 1:
            p = subprocess.run([app.ctl(), "checkpoint", "--state-dir", app.state, "--out", checkpoint],
                               capture_output=True)
            assert p.returncode == 0, p.stderr
        if r == kill_at:
            # killed with an archive open: its batches sealed (not only in the WAL), so that
            # recovery has an archive to seal (on a loaded machine 0.5 s may not be enough)
            deadline = time.time() + 30
            while app.control("status").get("sealed", 0) < 200 and time.time() < deadline:
                time.sleep(0.05)
            app.proc.send_signal(signal.SIGKILL)
            app.proc.wait()
            app.log.close()
        else:
            assert app.stop() == 0


a = Appliance(BUILD)
b = Appliance(BUILD)
try:
    cp = os.path.join(a.dir, "checkpoint.txt")
    make_chain(a, 4, kill_at=1, checkpoint=cp)  # 4 runs, one SIGKILL: recovery seals that archive
    make_chain(b, 1)
    root = os.path.join(a.state, "root.pub")
    arch = sorted(os.path.join(a.state, "archives", f) for f in os.listdir(os.path.join(a.state, "archives")))
    other = sorted(os.path.join(b.state, "archives", f) for f in os.listdir(os.path.join(b.state, "archives")))
    t.check("the chain has at least 4 archives", len(arch) >= 4, arch)
    rc, rep = run_verify(root, arch)
    t.check("genuine chain across restarts and a SIGKILL verifies: exit 0", rc == 0, rep.get("findings"))
    t.check("the unclean shutdown is in the report", rep["events"]["counts"].get("unclean-shutdown") == 1,
            rep["events"]["counts"])
    rc, rep = run_verify(root, arch, "--checkpoint", cp)
    t.check("a checkpoint taken from the running daemon (logsealctl checkpoint) is consistent",
            rc == 0 and rep["checkpoints"][0]["result"] == "consistent", rep.get("checkpoints"))
    rc, rep = run_verify(root, arch[:-1], "--checkpoint", cp)
    t.check("the newest archive removed: missing tail against the earlier checkpoint (gap, exit 3)",
            rc == 3 and rep["checkpoints"][0]["result"] == "missing-tail" and
            rep["checkpoints"][0]["missing_records"] > 0, rep.get("checkpoints"))

    def first(rep, cls):
        fs = [f for f in rep.get("findings", []) if f["class"] == cls]
        return fs[0] if fs else None

    with tempfile.TemporaryDirectory() as d:
        # archive removed from the middle: gap
        rc, rep = run_verify(root, arch[:1] + arch[2:])
        f = first(rep, "gap")
        t.check("an archive removed from the middle: gap (exit 3), named",
                rc == 3 and f and f["check"] == "archive gap", rep.get("findings"))
        # first archive missing: partial
        rc, rep = run_verify(root, arch[1:], "--keys", os.path.join(a.state, "keys", "history.lsk"))
        t.check("chain start missing: partial (exit 4)", rc == 4, rep.get("findings"))
        # an archive of another chain (same appliance software, other keys) spliced in
        rc, rep = run_verify(root, arch + other)
        f = first(rep, "tampered")
        t.check("an archive of another chain spliced in: tampered",
                rc == 1 and f is not None, rep.get("findings"))
        # the same archive twice (a copy under another name)
        dup = os.path.join(d, "copy.lsa")
        shutil.copy(arch[1], dup)
        rc, rep = run_verify(root, arch + [dup])
        f = first(rep, "tampered")
        t.check("an archive duplicated: tampered (archive order)",
                rc == 1 and f and f["check"] == "archive order", rep.get("findings"))
        # last archive truncated in the middle of a batch (seal and tail cut)
        cut = os.path.join(d, "cut.lsa")
        data = open(arch[-1], "rb").read()
        open(cut, "wb").write(data[: len(data) // 2])
        rc, rep = run_verify(root, arch[:-1] + [cut])
        t.check("the last archive truncated: not intact (partial, exit 4), torn tail reported",
                rc == 4 and any(f["check"] in ("batch payload truncated", "batch header truncated",
                                               "trailer truncated", "incomplete frame header")
                                for f in rep["findings"]), rep.get("findings"))
        # a middle archive truncated: tampered
        open(cut, "wb").write(open(arch[1], "rb").read()[:-100])
        rc, rep = run_verify(root, [arch[0], cut] + arch[2:])
        t.check("a middle archive truncated: tampered (exit 1)", rc == 1, rep.get("findings"))
        # renamed copies in a different directory: identity, not location
        for i, x in enumerate(arch):
            shutil.copy(x, os.path.join(d, f"evidence-{len(arch) - i}.bin"))
        os.unlink(dup)
        os.unlink(cut)
        rc, rep = run_verify(root, [d])
        t.check("renamed copies verify the same (exit 0)", rc == 0, rep.get("findings"))
        # wrong root key: nothing verifies
        rc, rep = run_verify(os.path.join(b.state, "root.pub"), arch)
        t.check("another appliance's root key: tampered (keys not certified)", rc == 1)
finally:
    a.close()
    b.close()
sys.exit(t.done())
