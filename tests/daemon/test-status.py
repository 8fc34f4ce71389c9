#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# logsealctl status for machines (issue 13 item 6): `status --json` is valid against
# docs/status.schema.json while the daemon runs with traffic (listeners with their
# connections, per-sender last message time, last seal, next epoch change) and when it is
# stopped (exit 3, "daemon": null); `logsealctl verify` on a running appliance under load
# verifies up to a checkpoint the daemon signs on request and exits 0, repeatedly; damage
# before that checkpoint still exits 1.
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD, SRC = sys.argv[1], sys.argv[2]
SCHEMA = json.load(open(os.path.join(SRC, "docs", "status.schema.json")))
jsonschema.Draft202012Validator.check_schema(SCHEMA)
t = Tap()


def status(app, *extra):
    p = subprocess.run([app.ctl(), "status", "--state-dir", app.state, *extra],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def valid(doc):
    try:
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
        return ""
    except jsonschema.ValidationError as e:
        ctx = [f"{list(c.absolute_path)}: {c.message[:300]}" for c in e.context or []]
        return f"{list(e.absolute_path)}: {e.message[:300]}; " + "; ".join(ctx)


class Sender(threading.Thread):
    """Keeps sending over one TCP connection (octet counting) until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.stop = threading.Event()
        self.sent = 0

    def run(self):
        while not self.stop.is_set():
            m = b"<13>1 - host app - - - status test message %d" % self.sent
            try:
                self.sock.sendall(b"%d %s" % (len(m), m))
            except OSError:
                return
            self.sent += 1
            if self.sent % 50 == 0:
                time.sleep(0.01)


# Short epochs: the verify runs below meet key changes (a checkpoint right before one is
# partial: logsealctl verify then verifies up to a later one).
app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 3\nepoch_interval = 1h\n")
try:
    app.start()
    s = Sender(app.port)
    s.start()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(20):
        u.sendto(b"<13>udp message %d" % i, ("127.0.0.1", app.port))
    u.close()
    deadline = time.time() + 20
    while time.time() < deadline and app.control("status").get("batches", 0) < 3:
        time.sleep(0.2)

    rc, out, err = status(app, "--json")
    t.check("status --json while the daemon runs: exit 0", rc == 0, f"exit {rc}: {err}")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    why = valid(doc)
    t.check("status --json is valid against docs/status.schema.json", not why, why + "\n" + out[:3000])
    d = doc.get("daemon") or {}
    tcp = [l for l in d.get("listeners", []) if l.get("kind") == "tcp"]
    t.check("the TCP listener is listed with its port and its open connection",
            len(tcp) == 1 and tcp[0].get("port") == app.port and tcp[0].get("connections", 0) >= 1,
            json.dumps(d.get("listeners")))
    unix = [l for l in d.get("listeners", []) if l.get("kind") == "unix-stream"]
    t.check("a unix listener shows its path", len(unix) == 1 and unix[0].get("path") == app.sock,
            json.dumps(d.get("listeners")))
    now = time.time_ns()
    src = {e["source"]: e for e in d.get("sources", [])}
    lo = src.get("127.0.0.1", {})
    t.check("the sender 127.0.0.1: its messages and the time of its last one (within 30 s)",
            lo.get("messages", 0) >= 20 and abs(now - lo.get("last_message_ns", 0)) < 30e9,
            json.dumps(d.get("sources")))
    t.check("the time of the last seal (within 30 s)",
            abs(now - d.get("last_seal_ns", 0)) < 30e9, str(d.get("last_seal_ns")))
    nec = d.get("next_epoch_change") or {}
    last = (d.get("last_checkpoint") or {}).get("batch", -1)
    t.check("the next epoch change: a batch after the last one, at most 3 later, and a time "
            "within the hour",
            last < (nec.get("batch") or -1) <= last + 4 and
            now < (nec.get("time_ns") or 0) <= now + 3601e9, json.dumps(nec))
    t.check("disk free and total of the state directory's file system",
            0 < doc.get("disk", {}).get("free_bytes", 0) <= doc.get("disk", {}).get("total_bytes", 0),
            json.dumps(doc.get("disk")))
    key = doc.get("signing_key") or {}
    t.check("the signing key: certified, its epoch and first batch",
            key.get("certified") is True and key.get("epoch", -1) >= 0 and
            0 <= key.get("valid_from_batch", -1) <= last + 2, json.dumps(key))

    rc, out, err = status(app)
    t.check("status (text) shows the new facts",
            rc == 0 and "last seal:" in out and "next key change: at batch" in out and
            "disk:" in out and "listener:" in out and "sender:          127.0.0.1:" in out and
            "no identity:" in out, out + err)

    # logsealctl verify while a sender keeps sending: up to the checkpoint it asks for.
    for i in range(5):
        p = subprocess.run([app.ctl(), "verify", "--state-dir", app.state], capture_output=True,
                           text=True, timeout=300)
        t.check(f"verify on the running appliance under load, run {i + 1}: exit 0, verified up "
                "to the checkpoint it signed",
                p.returncode == 0 and "verified up to batch" in p.stdout and
                "later batches were not examined" in p.stdout,
                f"exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    t.check("the sender kept sending meanwhile", s.sent > 100, str(s.sent))
    # A forged --upto checkpoint (another root, the signature kept) is no checkpoint to stop at.
    cp = subprocess.run([app.ctl(), "checkpoint", "--state-dir", app.state], capture_output=True,
                        text=True, timeout=60).stdout
    lines = cp.split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    forged = os.path.join(app.dir, "forged.cp")
    with open(forged, "w") as f:
        f.write("\n".join(lines))
    p = subprocess.run([os.path.join(BUILD, "verifier", "logseal-verify"), "--root-key",
                        os.path.join(app.state, "root.pub"), "--upto", forged,
                        os.path.join(app.state, "archives")], capture_output=True, text=True,
                       timeout=300)
    t.check("logseal-verify --upto a forged checkpoint: not intact (exit 2, the checkpoint is "
            "not authentic)",
            p.returncode == 2 and "--upto checkpoint" in p.stdout and "INTACT" not in p.stdout,
            f"exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-1000:]}")
    s.stop.set()
    s.join()
    s.sock.close()
finally:
    if app.proc and app.proc.poll() is None:
        app.stop()

try:
    rc, out, err = status(app, "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    t.check("status --json with the daemon stopped: exit 3 (LSB: not running)", rc == 3,
            f"exit {rc}: {err}")
    why = valid(doc)
    t.check("... valid against the schema, with \"daemon\": null",
            not why and "daemon" in doc and doc["daemon"] is None, why + out[:2000])
    rc, out, err = status(app)
    t.check("status (text) with the daemon stopped: exit 3, 'not running'",
            rc == 3 and "daemon:          not running" in out, out + err)

    # Without a daemon, verify says what it does: the open tail is partial (exit 4) ...
    p = subprocess.run([app.ctl(), "verify", "--state-dir", app.state], capture_output=True,
                       text=True, timeout=300)
    t.check("verify with the daemon stopped: the whole chain, and it says so",
            p.returncode in (0, 4) and "verifying the whole chain" in p.stderr,
            f"exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")

    # Damage before the checkpoint: a flipped byte in the first archive's first batch.
    app.start()
    arch = sorted(os.path.join(app.state, "archives", n)
                  for n in os.listdir(os.path.join(app.state, "archives")) if n.endswith(".lsa"))
    st = app.control("status")
    first = arch[0]
    os.chmod(first, 0o644)
    with open(first, "r+b") as f:
        f.seek(600)
        b = f.read(1)
        f.seek(600)
        f.write(bytes([b[0] ^ 0x40]))
    p = subprocess.run([app.ctl(), "verify", "--state-dir", app.state], capture_output=True,
                       text=True, timeout=300)
    t.check("a damaged archive before the checkpoint: verify on the running appliance exits 1",
            p.returncode == 1, f"exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    app.stop()
finally:
    app.close()
t.done()
