#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Epoch closes (formats/SPEC.md §9.4) through the real binaries. Every key change — scheduled
# epochs and an admin rotation, while a sender streams — puts exactly one close, signed by the
# new key, first in the new key's first batch and in the key history, with the old epoch's last
# batch, tree head and exact latest record time; logseal-verify finds the evidence intact with and
# without the exported history. A SIGKILL right after a key change (the close in the history but
# not yet sealed, or the signer killed halfway through writing it) is completed by the next start.
# The latest time of an epoch survives a restart when an earlier batch holds it (the wall clock
# stepped back). A copy of an erased epoch key signs a batch dated after its epoch's end: caught
# with the history.
#   argv: BUILD_DIR CLOSE_TOOL [LIBCLOCK_SO LIBFAULT_SO] (not built with sanitizers)
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
TOOL = os.path.abspath(sys.argv[2])
LIBCLOCK = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
LIBFAULT = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
VERIFY = os.path.join(BUILD, "verifier", "logseal-verify")
t = Tap()
CLOSE_MAGIC = b"\x89LSX\r\n\x1a\n"


class Sender(threading.Thread):
    """Streams numbered messages over TCP at a steady pace until stopped."""

    def __init__(self, port, tag):
        super().__init__(daemon=True)
        self.port, self.tag, self.sent, self.stop = port, tag, [], threading.Event()

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            i = 0
            while not self.stop.is_set():
                m = b"<13>1 - host app - - - %s %d" % (self.tag, i)
                s.sendall(b"%d %s" % (len(m), m))
                self.sent.append(m)
                i += 1
                if i % 10 == 0:
                    time.sleep(0.02)
            s.close()
        except OSError:
            pass


def parse_close(b):
    """The fields of SPEC §9.4 a test looks at."""
    assert len(b) == 248 and b[:8] == CLOSE_MAGIC
    return {"closed_key_id": b[32:40].hex(), "closed_epoch": struct.unpack_from("<Q", b, 40)[0],
            "last_batch_no": struct.unpack_from("<Q", b, 48)[0],
            "tree_size": struct.unpack_from("<Q", b, 56)[0],
            "max_time_ns": struct.unpack_from("<Q", b, 128)[0], "prev_close_hash": b[136:168],
            "issuer_key_id": b[176:184].hex(), "hash": __import__("hashlib").sha256(b[:184]).digest()}


def history_items(path):
    """(kind, bytes) of a key history file (SPEC §10.3)."""
    p, out, o = open(path, "rb").read(), [], 0
    while o < len(p):
        kind = chr(p[o + 3])
        n = {"C": 168, "X": 248}.get(kind) or 136 + struct.unpack_from("<H", p, o + 10)[0]
        out.append((kind, p[o:o + n]))
        o += n
    return out


def chain(archives):
    """Batches [(batch_no, archive_no, key_id, epoch, max_time_ns, tree_size)] and closes
    [(batch_no, index, bytes)] of an archive directory (close-tool)."""
    p = subprocess.run([TOOL, "batches", archives], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    batches, closes = [], []
    for line in p.stdout.splitlines():
        f = line.split()
        if f[0] == "batch":
            batches.append((int(f[1]), int(f[2]), f[3], int(f[4]), int(f[5]), int(f[6])))
        else:
            closes.append((int(f[1]), int(f[2]), bytes.fromhex(f[3])))
    return batches, closes


def verify(app, *extra, archives=None, show=False):
    p = subprocess.run([VERIFY, "--root-key", os.path.join(app.state, "root.pub"), *extra,
                        archives or os.path.join(app.state, "archives")], capture_output=True,
                       text=True)
    out = p.stdout + p.stderr
    if show:
        lines = out.splitlines()
        keep = [x for x in lines if "VERDICT" in x or "LIMIT" in x]
        if "Findings" in out:
            keep += lines[[i for i, x in enumerate(lines) if x.startswith("Findings")][0]:][:4]
        print("# " + "\n# ".join(keep)[:1500])
    return p.returncode, out


def export_history(app):
    out = os.path.join(app.dir, "history-%d.lsk" % time.monotonic_ns())
    subprocess.run([app.ctl(), "key", "export-history", "--state-dir", app.state, "--out", out],
                   check=True, capture_output=True)
    return out


def check_closes(app, label):
    """Every key change in the chain has exactly one close, first in the new key's first batch,
    equal to the one in the exported history, stating the old epoch's end exactly; the closes
    link; logseal-verify: intact with and without the history. Returns (batches, closes)."""
    batches, closes = chain(os.path.join(app.state, "archives"))
    hist = export_history(app)
    changes = [i for i in range(1, len(batches)) if batches[i][2] != batches[i - 1][2]]
    by_batch = {}
    for b, idx, x in closes:
        by_batch.setdefault(b, []).append((idx, x))
    t.check(f"{label}: one close per key change ({len(changes)}), the first record of the new "
            "key's first batch",
            len(closes) == len(changes) and
            all(by_batch.get(batches[i][0], [(None, None)])[0][0] == 0 and
                len(by_batch[batches[i][0]]) == 1 for i in changes),
            (len(closes), len(changes), sorted(by_batch)))
    exact = []
    for i in changes:
        prev_key, prev_epoch = batches[i - 1][2], batches[i - 1][3]
        c = parse_close(by_batch[batches[i][0]][0][1])
        epoch_max = max(b[4] for b in batches[:i] if b[2] == prev_key)
        exact.append(c["closed_key_id"] == prev_key and c["closed_epoch"] == prev_epoch and
                     c["last_batch_no"] == batches[i - 1][0] and
                     c["tree_size"] == batches[i - 1][5] and c["max_time_ns"] == epoch_max and
                     c["issuer_key_id"] == batches[i][2])
    t.check(f"{label}: each close names the old key, its last batch and tree size, is signed by "
            "the new key, and its end time is exactly the epoch's largest batch time",
            exact and all(exact), exact)
    in_hist = [x for k, x in history_items(hist) if k == "X"]
    t.check(f"{label}: the exported history holds exactly the closes sealed in the chain",
            sorted(in_hist) == sorted(x for _, _, x in closes), (len(in_hist), len(closes)))
    parsed = sorted((parse_close(x) for _, _, x in closes), key=lambda c: c["closed_epoch"])
    t.check(f"{label}: each close links to the close of the epoch before",
            all(parsed[j]["prev_close_hash"] == parsed[j - 1]["hash"] for j in range(1, len(parsed)))
            and (not parsed or parsed[0]["prev_close_hash"] == bytes(32)))
    rc, out = verify(app)
    t.check(f"{label}: logseal-verify without the history: intact (exit 0)", rc == 0, out[-1500:])
    rc, out = verify(app, "--keys", hist)
    t.check(f"{label}: logseal-verify --keys with the exported history: intact (exit 0)", rc == 0,
            out[-1500:])
    return batches, closes, hist


def status_epoch(app):
    try:
        return (app.control("status").get("last_checkpoint") or {}).get("epoch", -1)
    except (OSError, ValueError):
        return -1


def wait_epoch(app, target, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if status_epoch(app) >= target:
            return True
        time.sleep(0.05)
    return False


def closes_in_history(app):
    try:
        return sum(1 for k, _ in history_items(os.path.join(app.state, "keys", "history.lsk"))
                   if k == "X")
    except (OSError, struct.error, TypeError):
        return -1


def skip(name, why):
    t.n += 1
    print(f"ok {t.n} - {name} # SKIP {why}", flush=True)


apps = []
try:
    # ---- scheduled epochs and an admin rotation while a sender streams ----
    app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 3\n[archive]\nmax_age = 1s\n")
    apps.append(app)
    app.start()
    snd = Sender(app.port, b"stream")
    snd.start()
    t.check("scheduled epochs while streaming", wait_epoch(app, 3), status_epoch(app))
    p = subprocess.run([app.ctl(), "key", "rotate", "--state-dir", app.state, "--root-key",
                        os.path.join(app.state, "root.key")], capture_output=True, text=True)
    t.check("admin rotation", p.returncode == 0, p.stdout + p.stderr)
    e = status_epoch(app)
    t.check("more scheduled epochs after it", wait_epoch(app, e + 2), status_epoch(app))
    snd.stop.set()
    snd.join()
    time.sleep(0.5)
    t.check("clean stop", app.stop() == 0, app.logtext()[-800:])
    batches, closes, hist = check_closes(app, "epochs and an admin rotation")
    p = subprocess.run([VERIFY, "--root-key", os.path.join(app.state, "root.pub"), "--json",
                        "--dump=json", os.path.join(app.state, "archives")], capture_output=True)
    got = [message_bytes(__import__("json").loads(line))
           for line in p.stdout.decode().splitlines() if b"stream" in line.encode()]
    t.check("no message lost", got == snd.sent, (len(got), len(snd.sent)))
    root_issued = [c for _, _, c in closes
                   if any(b[0] == parse_close(c)["last_batch_no"] + 1 for b in batches)]
    lst = subprocess.run([app.ctl(), "key", "list", "--state-dir", app.state], capture_output=True,
                         text=True).stdout
    rows = {line.split()[0]: line.split() for line in lst.splitlines()[1:] if line.strip()}
    t.check("key list shows each closed epoch's last batch and end time",
            all(rows.get(parse_close(c)["closed_key_id"], [None] * 5)[4] ==
                str(parse_close(c)["last_batch_no"]) for _, _, c in closes) and
            "LAST BATCH" in lst, lst)

    # ---- SIGKILL right after a key change, before the close is sealed ----
    app = Appliance(BUILD, extra_conf="[batch]\nmax_latency = 300ms\n[keys]\nepoch_batches = 2\n")
    apps.append(app)
    hits = {"close in the history only": 0, "close sealed too": 0}
    # With libclock, each restart comes 5 minutes later by the wall clock: the close made before
    # the crash keeps its time, so the downtime reads as the declared crash, not a heartbeat gap.
    shift = os.path.join(app.dir, "clock-shift")
    env = dict(os.environ, LD_PRELOAD=LIBCLOCK, LOGSEAL_CLOCK_SHIFT=shift) if LIBCLOCK else None
    for k in range(4):
        open(shift, "w").write("%d\n" % (300 * k))
        app.start(env=env)
        snd = Sender(app.port, b"kill%d" % k)
        snd.start()
        n0, deadline = closes_in_history(app), time.time() + 30
        while closes_in_history(app) <= n0 and time.time() < deadline:
            time.sleep(0.002)
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait()
        app.log.close()
        snd.stop.set()
        snd.join()
        _, sealed = chain(os.path.join(app.state, "archives"))
        hits["close sealed too" if len(sealed) == closes_in_history(app) else
             "close in the history only"] += 1
    print(f"# SIGKILLs right after a close was written: {hits}")
    open(shift, "w").write("%d\n" % 1200)
    app.start(env=env)
    time.sleep(0.5)
    t.check("restart after the kills, clean stop", app.stop() == 0, app.logtext()[-800:])
    check_closes(app, "SIGKILL right after key changes" +
                 (", each restart 5 min later" if LIBCLOCK else ""))
    t.check("at least one kill came before the close was sealed (the next start sealed the "
            "same close)", hits["close in the history only"] > 0, hits)

    if LIBFAULT:
        # ---- the signer dies halfway through appending the close ----
        app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 2\n")
        apps.append(app)
        flog = os.path.join(app.dir, "fault.log")
        app.start(env=dict(os.environ, LD_PRELOAD=LIBFAULT, LOGSEAL_FAULT_LOG=flog,
                           LOGSEAL_KILL="history.lsk:" + CLOSE_MAGIC[:4].hex() + ":1"))
        snd = Sender(app.port, b"torn")
        snd.start()
        try:
            rc = app.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        app.log.close()
        snd.stop.set()
        snd.join()
        t.check("the signer was killed writing the first close; logseald exited",
                rc not in (None, 0) and "kill" in open(flog).read(), rc)
        app.start()
        time.sleep(0.5)
        t.check("the next start cut the torn close and sealed the close", app.stop() == 0 and
                "cut a torn last item" in app.logtext() and
                "signing epoch 0 closed at batch" in app.logtext(), app.logtext()[-1200:])
        check_closes(app, "signer killed mid-close")
    else:
        skip("the signer killed writing the close", "libfault.so not built (sanitizer build)")

    if LIBCLOCK:
        # ---- an epoch's latest time across a restart: an earlier batch holds it ----
        app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 0\nepoch_interval = 0\n")
        apps.append(app)
        shift = os.path.join(app.dir, "clock-shift")
        env = dict(os.environ, LD_PRELOAD=LIBCLOCK, LOGSEAL_CLOCK_SHIFT=shift)
        open(shift, "w").write("3600\n")          # the wall clock one hour ahead ...
        app.start(env=env)
        snd = Sender(app.port, b"ahead")
        snd.start()
        time.sleep(1.0)
        snd.stop.set()
        snd.join()
        time.sleep(0.5)
        t.check("first run, the wall clock an hour ahead: clean stop", app.stop() == 0)
        open(shift, "w").write("0\n")             # ... then set right (an NTP step back)
        app.start(env=env)
        snd = Sender(app.port, b"right")
        snd.start()
        time.sleep(1.0)
        p = subprocess.run([app.ctl(), "key", "rotate", "--state-dir", app.state, "--root-key",
                            os.path.join(app.state, "root.key")], capture_output=True, text=True)
        t.check("second run, same epoch, then an admin rotation", p.returncode == 0, p.stderr)
        time.sleep(0.5)
        snd.stop.set()
        snd.join()
        t.check("clean stop", app.stop() == 0)
        batches, closes, _ = check_closes(app, "latest time across a restart")
        e0 = [b for b in batches if b[3] == 0]
        t.check("epoch 0's latest time is in an earlier batch than its last, sealed before the "
                "restart (the case an understated close would turn into tampered evidence)",
                len(closes) == 1 and max(b[4] for b in e0) > e0[-1][4] + 3000 * 10**9 and
                parse_close(closes[0][2])["max_time_ns"] == max(b[4] for b in e0),
                [(b[0], b[4]) for b in e0])
    else:
        skip("an epoch's latest time across a restart", "libclock.so not built (sanitizer build)")

    # ---- the forgery: a copy of epoch 0's key signs a batch dated after epoch 0 ended ----
    app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 12\n[archive]\nmax_age = 1s\n")
    apps.append(app)
    stolen = os.path.join(app.dir, "stolen-epoch0.key")
    shutil.copy(os.path.join(app.state, "keys", "signing.key"), stolen)   # a backup, say
    app.start()
    snd = Sender(app.port, b"genuine")
    snd.start()
    t.check("epoch 0 ends (its key erased) while streaming", wait_epoch(app, 2))
    snd.stop.set()
    snd.join()
    t.check("clean stop", app.stop() == 0)
    batches, closes, hist = check_closes(app, "before the forgery")
    close0 = parse_close([c for _, _, c in closes if parse_close(c)["closed_epoch"] == 0][0])
    last0 = close0["last_batch_no"]
    # archives that end inside epoch 0, before its last batch
    ends = {}
    for b in batches:
        ends[b[1]] = b
    inside = [a for a, b in sorted(ends.items()) if b[3] == 0 and b[0] < last0]
    t.check("epoch 0 spans several archives", inside, sorted((a, b[0], b[3]) for a, b in ends.items()))
    later = close0["max_time_ns"] + 3600 * 10**9
    arch = os.path.join(app.state, "archives")
    names = sorted(os.listdir(arch))

    def forged_set(upto, tag):
        d = os.path.join(app.dir, tag)
        os.mkdir(d)
        for f in names[:upto + 1]:
            shutil.copy(os.path.join(arch, f), d)
        p = subprocess.run([TOOL, "forge", stolen, d, str(upto), str(later)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        return d, int(p.stdout.split()[1])

    if inside:
        d, fb = forged_set(inside[-1], "forged-inside")
        rc, out = verify(app, archives=d, show=True)
        t.check(f"forged batch {fb} (epoch 0, after genuine archive {inside[-1]}, dated after epoch "
                "0's end) without the history: not excluded, and the report says so (LIMIT)",
                rc == 0 and "LIMIT" in out, out[-1500:])
        rc, out = verify(app, "--keys", hist, archives=d, show=True)
        t.check("... with the exported history: tampered (exit 1), the epoch close refutes it",
                rc == 1 and "dated after the end its epoch's signed close states" in out,
                out[-2500:])
        d2 = os.path.join(app.dir, "genuine-cut")
        os.mkdir(d2)
        for f in names[:inside[-1] + 1]:
            shutil.copy(os.path.join(arch, f), d2)
        rc, out = verify(app, "--keys", hist, archives=d2, show=True)
        t.check("the genuine archives cut inside epoch 0, with the history: a gap (exit 3), "
                "the close shows the chain went on", rc == 3, out[-1500:])
    after0 = max(a for a, b in ends.items() if b[0] >= last0 and
                 min(x[0] for x in batches if x[1] == a) <= last0)
    d, fb = forged_set(after0, "forged-after")
    for extra in ([], ["--keys", hist]):
        rc, out = verify(app, *extra, archives=d, show=True)
        t.check(f"forged batch {fb} by the epoch-0 key after genuine archive {after0} (which holds "
                f"epoch 0's last batch {last0}){' with the history' if extra else ''}: tampered",
                rc == 1, out[-1500:])
finally:
    if t.failed:
        for a in apps:
            print("# logseald log:\n# " + a.logtext()[-2500:].replace("\n", "\n# "))
    for a in apps:
        a.close()
sys.exit(t.done())
