#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Crash harness: SIGKILL logseald at random moments while a TCP sender streams numbered
# messages. The appliance is configured so that every phase is busy all the time: batches close
# every 100 ms, archives rotate every second (seal trailer, new header), the signing key changes
# every 3 batches (epoch transition, key erasure), and a `logsealctl reindex` or `logsealctl
# export` runs alongside and is killed too. After each kill: restart (recovery), clean stop,
# logseal-verify exit 0 with every unclean shutdown declared, the connection's archived
# messages form a gap-free prefix of what was sent, and the search index, rebuilt, agrees.
#
#   usage: test-crash.py BUILD_DIR [--iterations N] [--seed S]
#   --iterations, LOGSEAL_CRASH_ITERATIONS   kills (default 20, as in CI; long runs: 100 or more)
#   --seed, LOGSEAL_CRASH_SEED               random seed (printed; rerun a failure with it)
# A fresh appliance is started every 5 kills so that re-verifying the growing chain does not
# dominate long runs.
import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

ap = argparse.ArgumentParser(description="SIGKILL logseald at random moments, then recover "
                             "and verify (TAP output)")
ap.add_argument("build", help="meson build directory")
ap.add_argument("--iterations", type=int,
                default=int(os.environ.get("LOGSEAL_CRASH_ITERATIONS", "20")))
ap.add_argument("--seed", type=int,
                default=int(os.environ.get("LOGSEAL_CRASH_SEED", str(int(time.time())))))
args = ap.parse_args()
BUILD = os.path.abspath(args.build)
N, seed = args.iterations, args.seed
PER_APPLIANCE = 5
rnd = random.Random(seed)
print(f"# {N} iterations, seed {seed}")
t = Tap()
CONF = ("[batch]\nmax_latency = 100ms\n[archive]\nmax_age = 1s\nmax_size = 1M\n"
        "[keys]\nepoch_batches = 3\n")


class Sender(threading.Thread):
    def __init__(self, port, it):
        super().__init__(daemon=True)
        self.port, self.it, self.sent, self.stop = port, it, 0, False

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            while not self.stop:
                batch = b""
                for _ in range(50):
                    m = b"<13>1 - crash - - - - it=%d n=%d padding-to-look-like-a-log-line" % (
                        self.it, self.sent)
                    batch += b"%d %s" % (len(m), m)
                    self.sent += 1
                try:
                    s.sendall(batch)
                except OSError:
                    self.sent -= 50  # not all of this batch reached the socket
                    break
                time.sleep(0.001)
        except OSError:
            pass


def side_job(app, kind, out):
    """A logsealctl run that is killed along with the daemon."""
    if kind == "reindex":
        args = ["reindex", "--state-dir", app.state]
    else:
        args = ["export", "--state-dir", app.state, "--case", "CRASH", "--examiner", "harness",
                "--host", "crash", "--limit", "50", "--out", out]
    return subprocess.Popen([app.ctl(), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wal_covers_state(state):
    """Recovery reads sealed.state and takes every WAL id after its wal_id from the WAL:
    the WAL on disk at the kill must still start at or before that id."""
    with open(os.path.join(state, "wal", "sealed.state"), "rb") as f:
        wal_id = int.from_bytes(f.read()[16:24], "little")
    segs = sorted(int(n[:-4], 16) for n in os.listdir(os.path.join(state, "wal"))
                  if n.endswith(".wal"))
    return (not segs or segs[0] <= wal_id + 1), (wal_id, segs[:3])


pat = re.compile(rb"it=(\d+) n=(\d+)")


def wal_segments(state):
    return sorted(n for n in os.listdir(os.path.join(state, "wal")) if n.endswith(".wal"))


def kill_after_wal_trim():
    """Deterministic case: the WAL drops a segment once everything in it is sealed, while
    sealed.state is written at most once a second. A burst sealed in under a second, then
    SIGKILL right after the WAL started afresh: recovery must find every record once."""
    a = Appliance(BUILD, extra_conf=CONF)
    try:
        a.start()
        time.sleep(1.2)  # the next batch writes sealed.state, the ones after it do not
        before = wal_segments(a.state)
        s = socket.create_connection(("127.0.0.1", a.port))
        n = 12000  # > 1 MiB of WAL, the size at which a fully sealed segment is replaced
        s.sendall(b"".join(b"%d %s" % (len(m), m) for m in (
            b"<13>1 - burst - - - - n=%d padding-padding-padding-padding-padding-pad" % i
            for i in range(n))))
        deadline = time.time() + 30
        while time.time() < deadline and wal_segments(a.state) == before:
            time.sleep(0.005)
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait()
        a.log.close()
        s.close()
        covered, why = wal_covers_state(a.state)
        t.check("SIGKILL right after the WAL dropped a sealed segment: the WAL still holds "
                "every entry after sealed.state", covered, why)
        a.start()
        rc_stop = a.stop()
        rc, report, records = a.verify()
        got = [int(m.group(1)) for r in records if r["type"] == "syslog"
               for m in [re.search(rb"burst.* n=(\d+)", message_bytes(r) or b"")] if m]
        t.check("... and after recovery every burst record is archived exactly once, in order",
                rc_stop == 0 and rc == 0 and got == list(range(n)),
                (rc_stop, rc, len(got), len(set(got)), got[:3]))
    finally:
        a.close()


buffered, phases = [], {"reindex": 0, "export": 0, "none": 0}
app, report = None, {}
try:
    kill_after_wal_trim()
    for it in range(N):
        local = it % PER_APPLIANCE
        if local == 0:
            if app:
                app.close()
            app = Appliance(BUILD, extra_conf=CONF)
        app.start()
        snd = Sender(app.port, it)
        snd.start()
        time.sleep(rnd.uniform(0.05, 1.5))
        kind = rnd.choice(["reindex", "export", "none"])
        phases[kind] += 1
        job = side_job(app, kind, os.path.join(app.dir, f"bundle-{it}")) if kind != "none" else None
        time.sleep(rnd.uniform(0.0, 0.3))
        app.proc.send_signal(signal.SIGKILL)
        if job:
            job.send_signal(signal.SIGKILL)
            job.wait()
        app.proc.wait()
        app.log.close()
        covered, why = wal_covers_state(app.state)
        if not covered:
            t.check(f"kill {it + 1}: the WAL still holds every entry after sealed.state", False,
                    why)
            break
        snd.stop = True
        snd.join()
        app.start()          # recovery
        rc_stop = app.stop()
        rc, report, records = app.verify()
        got = [tuple(map(int, m.groups())) for r in records if r["type"] == "syslog"
               for m in [pat.search(message_bytes(r) or b"")] if m]
        mine = [n for i, n in got if i == it]
        prefix = mine == list(range(len(mine)))
        if not prefix:
            first = next(k for k in range(len(mine)) if mine[k] != k) if any(
                mine[k] != k for k in range(len(mine))) else len(mine)
            print(f"# not a gap-free prefix: {len(mine)} records, {len(set(mine))} distinct, "
                  f"first break at position {first}: {mine[max(0, first - 3):first + 4]}")
        buffered.append(snd.sent - len(mine))
        counts = report.get("events", {}).get("counts", {})
        # the index is derived data: a killed reindex leaves nothing that a new one cannot fix
        p = subprocess.run([app.ctl(), "reindex", "--state-dir", app.state], capture_output=True)
        q = subprocess.run([app.ctl(), "query", "--state-dir", app.state, "--host", "crash",
                            "--grep", b"it=%d " % it], capture_output=True)
        indexed = q.stdout.count(b"\n")
        ok = (rc_stop == 0 and rc == 0 and prefix and len(mine) <= snd.sent and
              counts.get("unclean-shutdown") == local + 1 and p.returncode == 0 and
              q.returncode == 0 and indexed == len(mine))
        t.check(f"kill {it + 1} ({kind}): verify exit 0, unclean shutdown declared, "
                f"{len(mine)}/{snd.sent} sent messages archived as a gap-free prefix, "
                f"index rebuilt and agreeing", ok,
                (rc_stop, rc, prefix, counts.get("unclean-shutdown"), p.returncode,
                 q.returncode, indexed, len(mine),
                 report.get("findings", [])[:2] if isinstance(report.get("findings"), list)
                 else report))
        if not ok:
            break
    keys = [k for k in report.get("keys", []) if k["role"] == "signing"]
    print(f"# side jobs killed with the daemon: {phases}; signing epochs in the last chain: "
          f"{len(keys)}; archives: {report.get('chain', {}).get('archives')}")
    print(f"# messages still in kernel buffers (sent, not read) at each kill: {buffered}")
    t.check("archive rotations and epoch changes happened during the run",
            len(keys) >= 3 and (report.get("chain", {}).get("archives") or 0) >= 3,
            (len(keys), report.get("chain")))
finally:
    if app:
        if t.failed:
            print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
        app.close()
sys.exit(t.done())
