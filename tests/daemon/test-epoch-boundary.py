#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Checkpoints and exports taken exactly at epoch boundaries (issue 12, item 6): with one batch
# per epoch every other batch is the last one of its epoch, and the latest checkpoint after a
# burst is that batch's. Each checkpoint the daemon hands out (`logsealctl checkpoint`, the
# publish directory) and each evidence bundle (`logsealctl export`) must verify with
# logseal-verify: the signature line names the key that signed the batch, not its successor.
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
ROUNDS = int(os.environ.get("LOGSEAL_BOUNDARY_ROUNDS", "16"))
EXPORT_EVERY = 4
t = Tap()
work = tempfile.mkdtemp(prefix="logseal-boundary-")
pub = os.path.join(work, "published")
os.mkdir(pub)
app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 1\n[checkpoint]\npublish_dir = %s\n"
                "publish_interval = 1s\n" % pub)
app.own(work)
verify_bin = os.path.join(BUILD, "verifier", "logseal-verify")


def ctl(*args):
    return subprocess.run([app.ctl(), *args], capture_output=True, text=True)


def send(tag, n=5):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - %s app - - - round %d" % (tag, i) for i in range(n))))
    s.close()


def wait_index(host, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = ctl("query", "--state-dir", app.state, "--host", host)
        if p.stdout.count("\n") >= n:
            return True
        time.sleep(0.2)
    return False


def batch_of(cp):
    """The batch number on a checkpoint's logseal-batch-v1 line."""
    for line in open(cp).read().splitlines():
        if line.startswith("logseal-batch-v1 "):
            return int(line.split()[1])
    return None


checkpoints, bundles = [], []
try:
    app.start()
    for i in range(ROUNDS):
        host = b"h%d" % i
        send(host)
        # the burst's batch, then the epoch change's batch (the last of its epoch), sealed
        time.sleep(0.9)
        cp = os.path.join(work, "cp-%02d.txt" % i)
        p = ctl("checkpoint", "--state-dir", app.state, "--out", cp)
        if p.returncode == 0:
            checkpoints.append(cp)
        else:
            t.check(f"round {i}: logsealctl checkpoint", False, p.stderr)
        if i % EXPORT_EVERY == EXPORT_EVERY - 1 and wait_index(host.decode(), 5):
            out = os.path.join(work, "bundle-%02d" % i)
            p = ctl("export", "--state-dir", app.state, "--case", "CASE-%d" % i, "--examiner",
                    "test", "--host", host.decode(), "--out", out)
            if p.returncode == 0:
                bundles.append(out)
            else:
                t.check(f"round {i}: logsealctl export", False, p.stderr)
    time.sleep(1.2)
    rc = app.stop()
    t.check("clean stop", rc == 0, app.logtext()[-500:])
    keys = os.path.join(work, "history.lsk")
    ctl("key", "export-history", "--state-dir", app.state, "--out", keys)
    rc, report, _ = app.verify("--keys", keys)
    t.check("the chain verifies (exit 0)", rc == 0, report.get("findings"))
    signing = [k for k in report.get("keys", []) if k["role"] == "signing"]
    t.check(f"the daemon changed keys at least {ROUNDS} times", len(signing) > ROUNDS, len(signing))
    # A checkpoint is at an epoch boundary when the next key's first batch follows it.
    firsts = {k.get("valid_from_batch") for k in signing}
    published = sorted(os.path.join(pub, f) for f in os.listdir(pub) if f.startswith("checkpoint-"))
    at_boundary = [c for c in checkpoints + published if batch_of(c) is not None and
                   batch_of(c) + 1 in firsts]
    t.check("most checkpoints are of the last batch of an epoch",
            len(at_boundary) >= len(checkpoints) // 2, (len(at_boundary), len(checkpoints)))
    failed = []
    for cp in checkpoints + published:
        v = subprocess.run([verify_bin, "--root-key", os.path.join(app.state, "root.pub"), "--keys",
                            keys, "--checkpoint", cp, os.path.join(app.state, "archives")],
                           capture_output=True, text=True)
        if v.returncode != 0:
            failed.append((os.path.basename(cp), batch_of(cp), v.returncode, v.stdout[-300:]))
    t.check(f"every checkpoint ({len(checkpoints)} from logsealctl, {len(published)} published) "
            "verifies against the archives (exit 0)", not failed and checkpoints and published,
            failed[:3])
    failed = []
    for b in bundles:
        v = subprocess.run([verify_bin, "--root-key", os.path.join(app.state, "root.pub"), b],
                           capture_output=True, text=True)
        if v.returncode != 0:
            failed.append((os.path.basename(b), v.returncode, (v.stdout + v.stderr)[-300:]))
    t.check(f"every evidence bundle ({len(bundles)}) verifies (exit 0)",
            not failed and len(bundles) >= ROUNDS // EXPORT_EVERY - 1, failed[:3])
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
