#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Power-loss simulation. logseald runs with tests/fault/libfault.so recording, after every
# successful fsync/fdatasync, the size the file had (what a power cut cannot take away). The
# appliance is kept busy in every phase (batches every 100 ms, archive rotation every second,
# epoch change every 3 batches) while a TCP sender streams. At a random moment: SIGKILL, then the
# "power cut": every archive and WAL segment loses what was written after its last sync, except a
# random part of it (a torn tail), and a file never synced is emptied. Then: the next start
# recovers, the archives verify (exit 0), the unclean shutdown is declared, the stream is a
# gap-free prefix, and what was lost is bounded by the commit interval.
# First, the same at chosen moments (libfault's LOGSEAL_KILL: the process dies halfway through
# one write): mid-batch, mid-seal-trailer, mid-rotation (the new archive's header), and
# mid-key-transition (the next key's file, its certificate in the history, the erasure of the
# old key) and mid-epoch-close (the new key's close of the old epoch appended to the history) —
# these four in the signer process, after which logseald exits by itself.
#   argv: BUILD_DIR LIBFAULT_SO; LOGSEAL_POWERLOSS_ITERATIONS (default 8)
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

BUILD = os.path.abspath(sys.argv[1])
LIB = os.path.abspath(sys.argv[2])
if not os.path.exists(LIB):
    print("1..0 # SKIP libfault.so not built (sanitizer build)")
    sys.exit(77)
N = int(os.environ.get("LOGSEAL_POWERLOSS_ITERATIONS", "8"))
seed = int(os.environ.get("LOGSEAL_CRASH_SEED", str(int(time.time()))))
rnd = random.Random(seed)
print(f"# {N} iterations, seed {seed}")
t = Tap()
CONF = ("[batch]\nmax_latency = 100ms\n[archive]\nmax_age = 1s\nmax_size = 1M\n"
        "[keys]\nepoch_batches = 3\n")
pat = re.compile(rb"it=(\d+) n=(\d+)")


class Sender(threading.Thread):
    def __init__(self, port, it):
        super().__init__(daemon=True)
        self.port, self.it, self.sent, self.stop = port, it, 0, False
        self.t0 = time.time()

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            while not self.stop:
                batch = b""
                for _ in range(50):
                    m = b"<13>1 - power - - - - it=%d n=%d" % (self.it, self.sent)
                    batch += b"%d %s" % (len(m), m)
                    self.sent += 1
                try:
                    s.sendall(batch)
                except OSError:
                    self.sent -= 50
                    break
                time.sleep(0.002)
        except OSError:
            pass


durable = {}   # path -> size at its last sync, over the whole run


def power_cut(state, log):
    """Cuts every archive and WAL segment back to its last durable size plus a torn part."""
    if os.path.exists(log):
        for line in open(log):
            size, path = line.rstrip("\n").split(" ", 1)
            durable[path] = int(size)
        os.unlink(log)
    cut = 0
    for sub, ext in (("archives", ".lsa"), ("wal", ".wal")):
        d = os.path.join(state, sub)
        for f in os.listdir(d):
            if not f.endswith(ext):
                continue
            p = os.path.join(d, f)
            size = os.path.getsize(p)
            keep = durable.get(p, 0)
            if keep < size:
                new = keep + rnd.randrange(0, size - keep + 1)
                os.chmod(p, 0o640)
                with open(p, "r+b") as fh:
                    fh.truncate(new)
                cut += size - new
                durable[p] = min(keep, new)
    return cut


# (name, LOGSEAL_KILL): a skippable frame of 304 bytes is a batch header, of 280 the trailer.
# The third item: what the recovery must say (it took the path the case is about), if anything.
CASES = [
    ("mid-batch", "archives/:5b2a4d1830010000:%d" % rnd.randrange(4, 12), None),
    ("mid-seal-trailer", "archives/:5b2a4d1818010000:1", None),
    ("mid-rotation (the next archive's header)", "-00000001.lsa::1",
     "removed a torn archive header"),
    ("mid-key-transition (the next key's file)", "keys/.#signing.next.key.::1", None),
    ("mid-key-transition (its certificate appended to the history)", "history.lsk:894c5343:1",
     "cut a torn last item"),
    ("mid-epoch-close (the close appended to the history by the new key)",
     "history.lsk:894c5358:1", "cut a torn last item"),
    ("mid-key-transition (the old key's erasure)", "keys/signing.key::1",
     "completing the epoch change"),
]


def chosen_cut(name, spec, it, expect):
    a = Appliance(BUILD, extra_conf=CONF)
    dlog, flog = os.path.join(a.dir, "durable.log"), os.path.join(a.dir, "fault.log")
    env = dict(os.environ, LD_PRELOAD=LIB, LOGSEAL_DURABLE_LOG=dlog)
    try:
        a.start(env=dict(env, LOGSEAL_KILL=spec, LOGSEAL_FAULT_LOG=flog))
        snd = Sender(a.port, it)
        snd.start()
        try:
            rc_kill = a.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            a.proc.kill()
            rc_kill = None
        a.log.close()
        snd.stop = True
        snd.join()
        killed = os.path.exists(flog) and "kill" in open(flog).read()
        saved = dict(durable)
        durable.clear()
        cut = power_cut(a.state, dlog)
        durable.clear()
        durable.update(saved)
        a.start(env=env)
        rc_stop = a.stop()
        rc, report, records = a.verify()
        got = [tuple(map(int, m.groups())) for r in records if r["type"] == "syslog"
               for m in [pat.search(message_bytes(r) or b"")] if m]
        mine = [n for i, n in got if i == it]
        counts = report.get("events", {}).get("counts", {})
        ok = (killed and rc_kill is not None and rc_stop == 0 and rc == 0 and
              mine == list(range(len(mine))) and len(mine) > 0 and
              counts.get("unclean-shutdown") == 1 and (not expect or expect in a.logtext()))
        t.check(f"power cut {name} ({cut} bytes cut): the write was torn, recovery, verify exit "
                f"0, unclean shutdown declared, {len(mine)} of {snd.sent} archived as a gap-free "
                "prefix", ok,
                (killed, rc_kill, rc_stop, rc, len(mine), counts.get("unclean-shutdown"),
                 report.get("findings", [])[:3] if isinstance(report.get("findings"), list)
                 else report, a.logtext()[-2500:]))
    finally:
        a.close()


app = Appliance(BUILD, extra_conf=CONF)
log = os.path.join(app.dir, "durable.log")
env = dict(os.environ, LD_PRELOAD=LIB, LOGSEAL_DURABLE_LOG=log)
losses = []
try:
    for k, (name, spec, expect) in enumerate(CASES):
        chosen_cut(name, spec, 1000 + k, expect)
    for it in range(N):
        app.start(env=env)
        snd = Sender(app.port, it)
        snd.start()
        time.sleep(rnd.uniform(0.2, 1.5))
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait()
        app.log.close()
        snd.stop = True
        snd.join()
        rate = snd.sent / max(time.time() - snd.t0, 0.1)
        cut = power_cut(app.state, log)
        app.start(env=env)   # recovery after the power cut
        rc_stop = app.stop()
        rc, report, records = app.verify()
        got = [tuple(map(int, m.groups())) for r in records if r["type"] == "syslog"
               for m in [pat.search(message_bytes(r) or b"")] if m]
        mine = [n for i, n in got if i == it]
        prefix = mine == list(range(len(mine)))
        lost = snd.sent - len(mine)
        # commit interval: WAL fdatasync every 100 ms tick; plus what the kernel still held
        bound = int(rate * 0.5) + 20000
        losses.append((lost, cut))
        counts = report.get("events", {}).get("counts", {})
        ok = (rc_stop == 0 and rc == 0 and prefix and counts.get("unclean-shutdown") == it + 1
              and lost <= bound)
        t.check(f"power cut {it + 1} ({cut} bytes cut): recovery, verify exit 0, unclean shutdown "
                f"declared, gap-free prefix, {lost} of {snd.sent} not archived (bound {bound})", ok,
                (rc_stop, rc, prefix, counts.get("unclean-shutdown"), lost, bound,
                 report.get("findings", [])[:3] if isinstance(report.get("findings"), list)
                 else report, app.logtext()[-3000:]))
        if not ok:
            break
    print(f"# (messages not archived, bytes cut) per power cut: {losses}")
finally:
    if t.failed and os.environ.get("LOGSEAL_KEEP"):
        import shutil
        shutil.copytree(app.dir, os.environ["LOGSEAL_KEEP"], symlinks=True)
        print("# state kept in " + os.environ["LOGSEAL_KEEP"])
    app.close()
sys.exit(t.done())
