#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A genuine bundle exported in an epoch that has since ended (issue 12, SPEC §9.4 and §7.3):
# with the appliance's current key history its checkpoint is "not proven" (exit 4), since a
# copy of the erased key could have made it; a current checkpoint and the consistency proof
# from the bundle's checkpoint (`logsealctl checkpoint --since`) prove it (exit 0). A
# consistency proof that does not connect the trees, or a doctored current checkpoint, does not.
import os
import socket
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
t = Tap()
work = tempfile.mkdtemp(prefix="logseal-bundle-proof-")
app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 10\n")
verify_bin = os.path.join(BUILD, "verifier", "logseal-verify")


def ctl(*args):
    return subprocess.run([app.ctl(), *args], capture_output=True, text=True)


def send(tag, n=5):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - %s app - - - message %d" % (tag, i) for i in range(n))))
    s.close()


def wait_index(host, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = ctl("query", "--state-dir", app.state, "--host", host)
        if p.stdout.count("\n") >= n:
            return True
        time.sleep(0.2)
    return False


def verify(*args):
    p = subprocess.run([verify_bin, "--root-key", os.path.join(app.state, "root.pub"), *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


try:
    app.start()
    bundles = []
    for i in range(2):
        host = "early%d" % i
        send(host.encode())
        t.check(f"{host}: indexed", wait_index(host, 5))
        out = os.path.join(work, "bundle-%d" % i)
        p = ctl("export", "--state-dir", app.state, "--case", "CASE-%d" % i, "--examiner", "test",
                "--host", host, "--out", out)
        t.check(f"export {i}", p.returncode == 0, p.stderr)
        bundles.append(out)
        time.sleep(1.1)
    # let the epoch of both exports end: more than epoch_batches batches
    for i in range(14):
        send(b"later%d" % i, 2)
        time.sleep(1.1)
    hist = os.path.join(work, "history.lsk")
    p = ctl("key", "export-history", "--state-dir", app.state, "--out", hist)
    t.check("export-history", p.returncode == 0, p.stderr)

    not_proven = 0
    for i, b in enumerate(bundles):
        rc, out = verify(b)
        t.check(f"bundle {i} alone: intact (exit 0) with its LIMIT line", rc == 0 and
                "LIMIT:" in out, out[-400:])
        rc, out = verify("--keys", hist, b)
        t.check(f"bundle {i} with the current history: never tampered (0 or not proven)",
                rc in (0, 4), out[-400:])
        if rc == 4:
            not_proven += 1
            t.check(f"bundle {i}: the finding says why", "has ended" in out, out[-400:])
        cp = os.path.join(work, "cp-now-%d.txt" % i)
        p = ctl("checkpoint", "--state-dir", app.state, "--since",
                os.path.join(b, "checkpoint.txt"), "--out", cp)
        t.check(f"bundle {i}: logsealctl checkpoint --since writes a proof",
                p.returncode == 0 and os.path.exists(cp + ".proof"), p.stderr)
        rc, out = verify("--keys", hist, "--checkpoint", cp, b)
        t.check(f"bundle {i} with the history and a current checkpoint with its consistency "
                "proof: proven (exit 0)", rc == 0, out[-600:])
        # the proof of the other bundle does not connect this one's tree
        if i == 1:
            other = os.path.join(work, "cp-now-0.txt")
            wrong = os.path.join(work, "cp-wrong.txt")
            shutil.copy(other, wrong)
            shutil.copy(other + ".proof", wrong + ".proof")
            rc, out = verify("--keys", hist, "--checkpoint", wrong, b)
            t.check("a proof from another tree size proves nothing (not exit 0)", rc != 0,
                    out[-400:])
            doctored = os.path.join(work, "cp-doctored.txt")
            text = open(cp).read().splitlines(True)
            text[1] = str(int(text[1]) + 1) + "\n"
            open(doctored, "w").write("".join(text))
            shutil.copy(cp + ".proof", doctored + ".proof")
            rc, out = verify("--keys", hist, "--checkpoint", doctored, b)
            t.check("a doctored current checkpoint is not authentic and proves nothing",
                    rc == 4 or (rc != 0 and not_proven == 0), out[-400:])
    t.check("at least one bundle is inside its ended epoch (not proven with the history)",
            not_proven >= 1, not_proven)
    t.check("clean stop", app.stop() == 0, app.logtext()[-400:])
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
