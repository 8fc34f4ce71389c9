#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Forward-secure epochs: logseald moves to a new signing key every few batches while a sender
# streams, across a SIGKILL; every message is sealed, logseal-verify exits 0 and lists the key
# history, and nothing left in the state directory holds an earlier epoch's secret key.
import os
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, files_containing, message_bytes, secret_seed  # noqa: E402

BUILD = sys.argv[1]
t = Tap()
app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 2\n")
old_key_files = []


def stream(port, tag, n, out):
    s = socket.create_connection(("127.0.0.1", port))
    for i in range(n):
        m = b"<13>1 - host app - - - %s %d" % (tag, i)
        s.sendall(b"%d %s" % (len(m), m))
        out.append(m)
        if i % 100 == 99:
            time.sleep(0.05)
    s.close()


try:
    sent = []
    old_key_files.append(open(os.path.join(app.state, "keys", "signing.key"), "rb").read())
    app.start()
    stream(app.port, b"before", 1500, sent)
    time.sleep(0.6)
    old_key_files.append(open(os.path.join(app.state, "keys", "signing.key"), "rb").read())
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    app.start()
    stream(app.port, b"after", 1500, sent)
    time.sleep(0.6)
    rc = app.stop()
    t.check("clean stop", rc == 0, app.logtext()[-500:])
    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0) across epochs and a SIGKILL", rc == 0,
            report.get("findings", report))
    signing = [k for k in report.get("keys", []) if k["role"] == "signing"]
    epochs = [k["epoch"] for k in signing]
    print(f"# epochs: {len(signing)}, key transitions in the chain: "
          f"{report['events']['counts'].get('key-transition')}")
    t.check("at least 4 epochs, numbered 0, 1, 2, ...", len(signing) >= 4 and
            epochs == list(range(len(signing))), epochs)
    t.check("each epoch key certified by the previous one",
            all(signing[i]["certified_by"] == signing[i - 1]["key_id"] for i in range(1, len(signing))))
    t.check("every epoch signed batches", all(k["batches_signed"] > 0 for k in signing[:-1]))
    got = [message_bytes(r) for r in records if r["type"] == "syslog"]
    t.check("no message lost", got == sent, (len(got), len(sent)))
    keys_dir = sorted(os.listdir(os.path.join(app.state, "keys")))
    t.check("keys/ holds only the current key and the history", keys_dir == ["history.lsk", "signing.key"],
            keys_dir)
    # The secret itself (the Ed25519 seed, decrypted from the old key files) must not be
    # anywhere: not in a file, the WAL, the SQLite index or the history.
    seeds = [secret_seed(k) for k in old_key_files]
    current = open(os.path.join(app.state, "keys", "signing.key"), "rb").read()
    t.check("the search finds the current key (so it can find an old one)",
            [p for p, _ in files_containing(app.state, [current[88:]])] ==
            [os.path.join(app.state, "keys", "signing.key")] and len(set(seeds)) == len(seeds))
    leaked = files_containing(app.state, [k[88:] for k in old_key_files] + seeds)
    t.check("no earlier epoch's secret key (file content or seed) remains anywhere in the "
            "state directory (files, WAL, SQLite index)", not leaked, leaked)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
