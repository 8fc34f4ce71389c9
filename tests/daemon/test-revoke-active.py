#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Revoking the key in use (issue 12, item 11). `logsealctl key revoke` of the active signing
# key from a future batch, then from a future time: the daemon moves to a new epoch key
# (certified by the current one, valid before the revocation takes effect) before it seals
# the revocation, keeps sealing, and every later batch verifies; the revoked keys signed
# nothing the revocations cover. A revocation that already covers the next batch of the
# active key is refused with a message naming `logsealctl key rotate`, and nothing is
# written. Twice: with hourly epochs, and with an epoch change every 2 batches (a scheduled
# change may be pending when the revocation arrives).
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
t = Tap()
CASES = [("hourly epochs", ""), ("2-batch epochs", "[keys]\nepoch_batches = 2\n")]
app = root_key = label = None


def send(tag, n=30):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - host app - - - %s %d" % (tag, i) for i in range(n))))
    s.close()
    time.sleep(0.6)


def ctl(*args):
    return subprocess.run([app.ctl(), *args], capture_output=True, text=True)


def active():
    """The daemon's signing key and its next batch: the last batch's key (a fresh epoch has
    sealed its first batch by the time this is asked)."""
    st = app.control("status")
    cp = st["last_checkpoint"]
    return cp["key_id"], cp["batch"] + 1


def ns(rfc3339):
    """'2026-12-03T09:41:16.028914622Z' -> ns since the epoch."""
    import calendar
    day, frac = rfc3339.rstrip("Z").split(".") if "." in rfc3339 else (rfc3339.rstrip("Z"), "0")
    secs = calendar.timegm(time.strptime(day, "%Y-%m-%dT%H:%M:%S"))
    return secs * 10**9 + int(frac.ljust(9, "0")[:9])


def history_len():
    return os.path.getsize(os.path.join(app.state, "keys", "history.lsk"))


for label, conf in CASES:
    app = Appliance(BUILD, extra_conf=conf)
    root_key = os.path.join(app.state, "root.key")
    print(f"# {label}")
    try:
        app.start()
        send(b"one")
        k0, nxt = active()
        revs = []
        # 1. from a future batch
        from_batch = nxt + 3
        out = os.path.join(app.dir, "rev-k0.lsk")
        p = ctl("key", "revoke", k0, "--from-batch", str(from_batch), "--reason", "test: active key",
                "--root-key", root_key, "--state-dir", app.state, "--out", out)
        t.check("revoking the active key from a future batch is accepted and sealed",
                p.returncode == 0 and "sealed the revocation" in p.stdout, p.stdout + p.stderr)
        revs.append(out)
        for i in range(6):
            send(b"two-%d" % i, 10)
        k1, nxt = active()
        t.check("the daemon signs with a new key", k1 != k0, (k0, k1))
        # 2. from a future time (30 s ahead): the change is immediate
        out = os.path.join(app.dir, "rev-k1.lsk")
        from_time = time.time_ns() + 30 * 10**9
        p = ctl("key", "revoke", k1, "--from-time", "@%d" % from_time, "--reason",
                "test: active key, by time", "--root-key", root_key, "--state-dir", app.state,
                "--out", out)
        t.check("revoking the active key from a future time is accepted and sealed",
                p.returncode == 0 and "sealed the revocation" in p.stdout, p.stdout + p.stderr)
        revs.append(out)
        send(b"three")
        k2, nxt = active()
        t.check("... and the daemon moved to yet another key", k2 not in (k0, k1), (k0, k1, k2))
        # 3. a revocation that covers the batch the active key signs next: refused, nothing written
        before = history_len()
        p = ctl("key", "revoke", k2, "--from-batch", "0", "--reason", "test: too late",
                "--root-key", root_key, "--state-dir", app.state, "--out",
                os.path.join(app.dir, "rev-k2.lsk"))
        t.check("a revocation covering the active key's next batch is refused, naming "
                "`logsealctl key rotate`", p.returncode != 0 and "key rotate" in p.stderr,
                (p.returncode, p.stdout, p.stderr))
        t.check("... and nothing is written (history, --out)", history_len() == before and
                not os.path.exists(os.path.join(app.dir, "rev-k2.lsk")))
        send(b"four")
        rc = app.stop()
        t.check("clean stop", rc == 0, app.logtext()[-500:])
        # 4. while logseald is stopped, a revocation of its key (from a future time) goes to the
        # history only; the next start moves off the key before it signs anything and seals it
        lst = ctl("key", "list", "--state-dir", app.state).stdout
        k3 = [ln.split()[0] for ln in lst.splitlines() if "active" in ln]
        out = os.path.join(app.dir, "rev-k3.lsk")
        p = ctl("key", "revoke", k3[0] if k3 else "0" * 16, "--from-time",
                "@%d" % (time.time_ns() + 60 * 10**9), "--reason", "test: while stopped",
                "--root-key", root_key, "--state-dir", app.state, "--out", out)
        t.check("a revocation while the daemon is stopped goes to the history",
                k3 and p.returncode == 0 and "not running" in p.stdout, (k3, p.stdout))
        revs.append(out)
        app.start()
        send(b"five")
        rc = app.stop()
        t.check("clean stop", rc == 0, app.logtext()[-500:])
        t.check("the next start moved off the revoked key",
                k3 and "signing key %s is revoked" % k3[0] in
                app.logtext(), app.logtext()[-800:])
        keys = os.path.join(app.dir, "history.lsk")
        ctl("key", "export-history", "--state-dir", app.state, "--out", keys)
        for extra, what in (([], "from the archives alone"),
                            (["--keys", keys], "with the key history"),
                            ([x for r in revs for x in ("--revocations", r)], "with the revocation files")):
            rc, report, _ = app.verify(*extra)
            t.check(f"every batch verifies ({what}): exit 0", rc == 0,
                    (rc, report.get("findings", [])[:3]))
        signing = {k["key_id"]: k for k in report.get("keys", []) if k["role"] == "signing"}
        order = sorted(signing.values(), key=lambda k: k["epoch"])
        succ = {order[i]["key_id"]: order[i + 1] for i in range(len(order) - 1)}
        t.check("the revoked key's successor took over before the revocation's first batch",
                k0 in succ and succ[k0]["valid_from_batch"] <= from_batch,
                (from_batch, succ.get(k0)))
        t.check("the report lists the three revoked keys as revoked",
                k3 and all(signing.get(k, {}).get("revoked") for k in (k0, k1, k3[0])),
                {k: v.get("revoked") for k, v in signing.items()})
        t.check("three revocations in the chain", report["events"]["counts"].get("revocation") == 3,
                report["events"]["counts"])
        t.check("every revoked key has a successor",
                k3 and all(k in succ for k in (k0, k1, k3[0])),
                list(succ))
        # time: the last batch the time-revoked key signed is the one carrying its successor's
        # certificate; that record and every one before it are dated before from_time
        kt = [e for e in report["events"]["list"] if e["type"] == "key-transition" and
              k1 in succ and e["batch"] == succ[k1]["valid_from_batch"] - 1]
        _, _, records = app.verify()
        late = [r["seq"] for r in records if kt and r["seq"] <= kt[0]["seq"] and
                ns(r["time"]) >= from_time]
        t.check("and the key revoked by time signed nothing dated at or after it",
                len(kt) == 1 and ns(kt[0]["time"]) < from_time and not late, (kt, late[:5]))
    finally:
        if t.failed:
            print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
        app.close()
sys.exit(t.done())
