#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The whole key lifecycle while a sender streams: automatic epochs, an admin rotation with the
# root key, a root rotation (new root certified by the old one), an admin rotation with the new
# root, more automatic epochs, a reservation left to expire, refused certificates. Nothing is
# lost, logseal-verify exits 0 from the ORIGINAL root public key alone and lists every key.
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, files_containing, message_bytes, secret_seed  # noqa: E402

BUILD = sys.argv[1]
t = Tap()
app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 3\n")
ctl = app.ctl()


class Sender(threading.Thread):
    """Streams numbered messages over TCP at a steady pace until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.sent = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            i = 0
            while not self.stop.is_set():
                m = b"<13>1 - host app - - - rotate %d" % i
                s.sendall(b"%d %s" % (len(m), m))
                self.sent.append(m)
                i += 1
                if i % 20 == 0:
                    time.sleep(0.02)
            s.close()
        except OSError as e:
            self.error = e


def status():
    try:
        return control("status")
    except (OSError, ValueError):
        return {}


def epoch_now():
    return (status().get("last_checkpoint") or {}).get("epoch", -1)


def wait_epoch(target, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if epoch_now() >= target:
            return True
        time.sleep(0.1)
    return False


def run(*args):
    return subprocess.run([ctl, *args], capture_output=True, text=True)


def control(line):
    return app.control(line)


sender = None
try:
    root_key = os.path.join(app.state, "root.key")
    root2 = os.path.join(app.dir, "root2.key")
    p = run("keygen", "--root", root2, "--no-passphrase")
    t.check("keygen --root makes the next root offline", p.returncode == 0, p.stderr)
    rogue = os.path.join(app.dir, "rogue.key")
    run("keygen", "--root", rogue, "--no-passphrase")

    app.start()
    sender = Sender(app.port)
    sender.start()
    t.check("3 automatic epochs while streaming", wait_epoch(3), epoch_now())

    p = run("key", "rotate", "--state-dir", app.state, "--root-key", rogue)
    t.check("key rotate with a root key this appliance does not trust is refused",
            p.returncode != 0 and "not a root key" in p.stderr, p.stderr)

    e_before = epoch_now()
    retired = open(os.path.join(app.state, "keys", "signing.key"), "rb").read()
    p = run("key", "rotate", "--state-dir", app.state, "--root-key", root_key)
    t.check("admin rotation with the root key", p.returncode == 0, p.stdout + p.stderr)
    t.check("the new key took over (next epoch, certified by the root)",
            "took over at batch" in p.stdout and epoch_now() > e_before, p.stdout)
    wal = [n for n in os.listdir(os.path.join(app.state, "wal")) if n.endswith(".wal")]
    leaked = files_containing(app.state, [retired[88:], secret_seed(retired)])
    t.check("while the daemon runs (WAL %d segment(s), SQLite index present), nothing in the "
            "state directory holds the replaced key" % len(wal),
            not leaked and wal and os.path.exists(os.path.join(app.state, "index", "index.sqlite")),
            (leaked, wal))

    p = run("key", "rotate-root", "--state-dir", app.state, "--root-key", root_key,
            "--new-root", root2 + ".pub")
    t.check("root rotation: the old root certifies the new one", p.returncode == 0,
            p.stdout + p.stderr)
    p = run("key", "rotate-root", "--state-dir", app.state, "--root-key", root_key,
            "--new-root", root2 + ".pub")
    t.check("the same root cannot be certified twice", p.returncode != 0, p.stdout)

    e_before = epoch_now()
    p = run("key", "rotate", "--state-dir", app.state, "--root-key", root2)
    t.check("admin rotation with the NEW root key", p.returncode == 0, p.stdout + p.stderr)

    # Refusals through the raw protocol: a commit without a reservation, a certificate of a
    # key the daemon does not hold.
    r = control("rotate-commit " + "00" * 168)
    t.check("a commit that is not a certificate is refused", "error" in r, r)

    # A reservation nobody commits: records wait, then flow again after the hold (10 s).
    n0 = len(sender.sent)
    r = control("rotate-begin")
    t.check("rotate-begin reserves a batch", "valid_from_batch" in r and "public_key" in r, r)
    r2 = control("rotate-begin")
    t.check("a second reservation is refused while one is open", "error" in r2, r2)
    s1 = status().get("sealed", -1)
    time.sleep(2)
    s2 = status().get("sealed", -2)
    t.check("records wait (in the WAL) while the batch is reserved", s1 == s2 and s1 > 0,
            (s1, s2, n0))
    time.sleep(9.5)
    s3 = status().get("sealed", -3)
    t.check("after the hold expires, sealing goes on with the current key", s3 > s2, (s2, s3))

    t.check("automatic epochs continue after the rotations", wait_epoch(e_before + 3), epoch_now())
    sender.stop.set()
    sender.join()
    t.check("the sender was never refused", sender.error is None, sender.error)
    time.sleep(0.5)
    rc = app.stop()
    t.check("clean stop", rc == 0, app.logtext()[-500:])
    t.check("the daemon logged the dropped reservation", "reservation is dropped" in app.logtext())

    rc, report, records = app.verify()
    t.check("logseal-verify from the original root.pub alone: intact (exit 0)", rc == 0,
            report.get("findings", report))
    keys = report.get("keys", [])
    roots = [k for k in keys if k["role"] == "root"]
    signing = [k for k in keys if k["role"] == "signing"]
    root_ids = [k["key_id"] for k in roots]
    t.check("the report lists both root keys, the new one certified by the first",
            len(roots) == 2 and roots[1]["certified_by"] == roots[0]["key_id"], roots)
    epochs = [k["epoch"] for k in signing]
    t.check("signing epochs 0, 1, 2, ... without a gap", epochs == list(range(len(signing))),
            epochs)
    by_root = [k for k in signing[1:] if k["certified_by"] in root_ids]
    t.check("exactly two later keys are root-certified (the admin rotations), one by each root",
            len(by_root) == 2 and by_root[0]["certified_by"] == root_ids[0] and
            by_root[1]["certified_by"] == root_ids[1], by_root)
    t.check("the rest are handed over by the previous epoch",
            all(k["certified_by"] == signing[i]["key_id"] for i, k in enumerate(signing[1:])
                if k not in by_root))
    t.check("at least 3 automatic epochs, 1 admin rotation, 1 root rotation",
            len(signing) - 1 - len(by_root) >= 3)
    got = [message_bytes(r) for r in records if r["type"] == "syslog"]
    t.check("no message lost or reordered", got == sender.sent, (len(got), len(sender.sent)))

    p = run("key", "list", "--state-dir", app.state)
    t.check("key list shows the new root and every signing key",
            p.returncode == 0 and "trusted root" in p.stdout and
            p.stdout.count("retired, secret erased") == len(signing) - 1, p.stdout)
    leaked = files_containing(app.state, [retired[88:], secret_seed(retired)])
    t.check("the key replaced by the admin rotation is gone from the state directory "
            "(file content and seed)", not leaked, leaked)
    keys_dir = sorted(os.listdir(os.path.join(app.state, "keys")))
    t.check("keys/ holds only the current key and the history",
            keys_dir == ["history.lsk", "signing.key"], keys_dir)
finally:
    if sender:
        sender.stop.set()
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
