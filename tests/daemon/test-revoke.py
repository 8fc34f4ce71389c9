#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Revocation: `logsealctl key revoke` signs with the root key, the running daemon seals the
# revocation into the chain, `key list` shows it, and logseal-verify marks every batch the key
# signed after the revocation point (from the chain, or from the exported file).
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = sys.argv[1]
t = Tap()
app = Appliance(BUILD)


def send(n, tag):
    s = socket.create_connection(("127.0.0.1", app.port))
    for i in range(n):
        m = b"<13>1 - h a - - - %s %d" % (tag, i)
        s.sendall(b"%d %s" % (len(m), m))
    s.close()
    time.sleep(0.8)


try:
    app.start()
    send(50, b"before")
    lst = subprocess.run([app.ctl(), "key", "list", "--state-dir", app.state], capture_output=True, text=True)
    key = lst.stdout.splitlines()[1].split()[0]
    t.check("key list shows the active epoch-0 key", "active" in lst.stdout, lst.stdout)
    out = os.path.join(app.dir, "revocation.lsk")
    r = subprocess.run([app.ctl(), "key", "revoke", key, "--from-batch", "1000000", "--reason",
                        "test revocation", "--root-key", os.path.join(app.state, "root.key"),
                        "--state-dir", app.state, "--out", out], capture_output=True, text=True)
    t.check("key revoke reaches the running daemon", r.returncode == 0 and "sealed the revocation" in r.stdout,
            r.stdout + r.stderr)
    send(50, b"after")
    app.stop()
    lst = subprocess.run([app.ctl(), "key", "list", "--state-dir", app.state], capture_output=True, text=True)
    t.check("key list shows the key revoked", "REVOKED" in lst.stdout, lst.stdout)
    rc, report, records = app.verify()
    t.check("a revocation from a future batch leaves the chain intact (exit 0)", rc == 0,
            report.get("findings"))
    t.check("the revocation is an event in the report", report["events"]["counts"].get("revocation") == 1)
    t.check("the report marks the key revoked", any(k.get("revoked") for k in report["keys"]))
    # A second revocation from batch 1 in a file handed to the investigator.
    out2 = os.path.join(app.dir, "revocation-early.lsk")
    r = subprocess.run([app.ctl(), "key", "revoke", key, "--from-batch", "1", "--reason", "early",
                        "--root-key", os.path.join(app.state, "root.key"), "--state-dir", app.state,
                        "--out", out2], capture_output=True, text=True)
    rc, report, records = app.verify("--revocations", out2)
    bad = [f for f in report.get("findings", []) if f["check"] == "revoked"]
    # Key 0 handed over to key 1 after batch 1, so key 1 inherits the revocation (SPEC §9.3).
    t.check("with the exported revocation, batches from 1 on are untrusted (revoked, exit 5)",
            rc == 5 and bad and all(f["class"] == "revoked" and f["batch"] >= 1 for f in bad)
            and "from batch 1" in bad[0]["detail"]
            and all("from batch 1" in f["detail"] or "after a root revocation" in f["detail"]
                    for f in bad), report.get("findings", [])[:3])
    # Forged: a revocation not signed by the root key is refused by the daemon and the verifier.
    with open(out2, "rb") as f:
        data = bytearray(f.read())
    data[-1] ^= 1
    forged = os.path.join(app.dir, "forged.lsk")
    open(forged, "wb").write(data)
    p = subprocess.run([os.path.join(BUILD, "verifier", "logseal-verify"), "-k",
                        os.path.join(app.state, "root.pub"), "--revocations", forged,
                        os.path.join(app.state, "archives")], capture_output=True)
    t.check("a forged revocation file is refused (exit 2)", p.returncode == 2, p.stderr[-300:])
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-2000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
