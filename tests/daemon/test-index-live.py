#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The live index takes each batch's keys from what ingest parsed (daemon/batchkeys.h) instead
# of reading the batch back from the archive; the index must be exactly what reading the
# archives gives. The real logseald (as an unprivileged user) receives real loghub lines
# (wrapped as RFC 5424, and raw BSD lines) and hostile bodies (parse failures, a framing
# error, PRI out of range, years guessed from the receive time, long and odd host names,
# sender identities from a front end, oversize messages sealed truncated) over TCP, UDP, a
# unix datagram socket and a front-end socket; it is killed mid-run (the records re-sealed
# from the WAL are indexed from the archive), restarted cleanly, and each run's own indexing
# thread catches up. Its batches and batch_keys rows must equal, row for row, those
# `logsealctl reindex` makes from the archives alone; the daemon's log must show both
# paths were taken (the carried keys while it ran, the archive after the crash).
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
DATA = os.path.join(os.environ.get("SHARED_DATA", os.path.join(sys.argv[2], "..", "shared",
                                                                "data")), "loghub")
if not os.path.isdir(DATA):
    print(f"1..0 # SKIP {DATA} is absent")
    sys.exit(77)

t = Tap()
SD = "logseal-sender@32473"
MAXMSG = 600
app = None


def loghub():
    """(host, app, line) of every loghub file, interleaved (bench/realsend.py)."""
    streams = []
    for f in sorted(os.listdir(DATA)):
        if not f.endswith(".log"):
            continue
        name = f.split("_")[0]
        with open(os.path.join(DATA, f), "rb") as fh:
            lines = [l.rstrip(b"\r") for l in fh.read().split(b"\n") if l.strip()]
        streams.append((b"host-" + name.lower().encode(), name.encode(), lines))
    out = []
    for i in range(max(len(s[2]) for s in streams)):
        for host, name, lines in streams:
            if i < len(lines):
                out.append((host, name, lines[i]))
    return out


def wrapped(lines, sev_seed=0):
    out = []
    for i, (host, name, line) in enumerate(lines):
        pri = ((i * 7 + sev_seed) % 24) * 8 + (i + sev_seed) % 8
        out.append(b"<%d>1 2026-01-01T00:00:%02d.%06dZ %s %s - - - %s"
                   % (pri, i % 60, i % 1000000, host, name, line))
    return out


def hostile(tag):
    tag = tag.encode()
    return [
        b"", b" ", b"\x00\x00", b"no pri at all " + tag, b"<999>1 - - - - - - out of range",
        b"<13>", b"<13>1", b"<191>1 - - - - - -", b"<0>1 - - - - - - emerg kern",
        b"<13>Feb 29 12:00:00 leaphost app[1]: leap day, year from the receive time " + tag,
        b"<13>Dec 31 23:59:59 dechost app: december",
        b"<13>Jan  1 00:00:00 janhost app: january",
        b"<13>1 2026-13-45T99:99:99Z badtime app - - - bad timestamp " + tag,
        b"<13>1 2026-01-01T00:00:00Z " + b"h" * 300 + b" longhost - - - long host",
        b"<13>1 2026-01-01T00:00:00Z caf\xc3\xa9 \xff\xfeapp - - - odd bytes " + tag,
        b"<13>1 2026-01-01T00:00:00Z host\x00nul app - - - a NUL in the host",
        b"<13>1 2026-01-01T00:00:00Z broken app - - [unterminated sd",
        b"<13>1 2026-01-01T00:00:00Z over app - - - " + b"x" * (MAXMSG * 2) + tag,
        b"<13>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: " + b"y" * (MAXMSG + 50),
        b"<86>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown " + tag,
        b"\xef\xbb\xbf<13>1 - bom app - - - leading BOM",
        b"1 2026-01-01T00:00:00Z nopri app - - - missing PRI",
        b"Jun 14 15:16:01 combo nopri: BSD without PRI",
    ]


def fronted(tag):
    """Messages from the front end: identities (valid, cut, refused)."""
    tag = tag.encode()
    return [
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s subject="CN=alice" peer="192.0.2.1:5"] a %s'
        % (SD.encode(), tag),
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s subject="CN=bob"] b' % SD.encode(),
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s subject="%s"] long' % (SD.encode(),
                                                                         b"\xc3\xa9" * 700),
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s peer="192.0.2.1:5"] no subject'
        % SD.encode(),
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s subject="a"][%s subject="b"] two'
        % (SD.encode(), SD.encode()),
        b'<13>1 2026-01-01T00:00:00Z fe app - - [%s subject="CN=\\"q\\\\" x="1"] escaped'
        % SD.encode(),
        b"<13>Jun 14 15:16:01 fe bsd: a BSD message has no identity",
        b"garbage from the front end",
    ]


def octet(msgs):
    return b"".join(b"%d %s" % (len(m), m) for m in msgs)


def send_all(lines, tag):
    """Everything, over every kind of socket."""
    c = socket.create_connection(("127.0.0.1", app.port))
    c.sendall(octet(wrapped(lines, len(tag))))
    c.sendall(octet(hostile(tag)))
    c.close()
    c = socket.create_connection(("127.0.0.1", app.port))      # LF framing, raw BSD lines
    c.sendall(b"".join(l + b"\n" for _, _, l in lines[:2000]))
    c.sendall(b"<13>Jun 14 15:16:01 lf app: after\n12x not an octet count\n")
    c.close()
    c = socket.create_connection(("127.0.0.1", app.port))      # a framing error
    c.sendall(b"<13>1 - - - - - - before\n")
    c.sendall(b"99999999999 <13>1 - framehost app - - - count too large\n")
    c.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i, m in enumerate(hostile(tag + "-udp")):
        u.sendto(m or b"-", ("127.0.0.1", app.port))
        if i % 20 == 19:
            time.sleep(0.01)
    u.close()
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for m in hostile(tag + "-dgram")[:10]:
        d.sendto(m or b"-", app.dsock)
    d.close()
    f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    f.connect(frontend)
    f.sendall(octet(fronted(tag) * 3))
    f.close()


def index_path(state):
    return os.path.join(state, "index", "index.sqlite")


def durable_tree_size():
    st = app.control("status")
    return st.get("last_checkpoint", {}).get("tree_size", 0)


def indexed_to(state):
    try:
        db = sqlite3.connect(f"file:{index_path(state)}?mode=ro", uri=True, timeout=10)
        n = db.execute("SELECT coalesce(max(first_seq + record_count), 0) FROM batches")
        v = n.fetchone()[0]
        db.close()
        return v
    except sqlite3.Error:
        return 0


def wait_indexed(label, timeout=120):
    """Until the daemon's own indexer has every durable batch (no new records arrive)."""
    deadline = time.time() + timeout
    size = 0
    while time.time() < deadline:
        time.sleep(0.5)
        size = durable_tree_size()
        if size and indexed_to(app.state) >= size and durable_tree_size() == size:
            return t.check(f"{label}: the daemon indexed all {size} durable records", True)
    return t.check(f"{label}: the daemon indexed the durable records", False,
                   (size, indexed_to(app.state)))


def rows(path, upto=None):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    cond = "" if upto is None else f" WHERE batch_no <= {int(upto)}"
    b = db.execute("SELECT batch_no, archive_no, offset, first_seq, record_count, min_time,"
                   " max_time, hex(header_hash) FROM batches" + cond + " ORDER BY batch_no")
    b = b.fetchall()
    k = db.execute("SELECT kind, CAST(name AS BLOB), batch_no FROM batch_keys" + cond +
                   " ORDER BY batch_no, kind, CAST(name AS BLOB)").fetchall()
    db.close()
    return b, k


def snapshot(name):
    dst = os.path.join(app.dir, name)
    src = sqlite3.connect(f"file:{index_path(app.state)}?mode=ro", uri=True, timeout=10)
    out = sqlite3.connect(dst)
    src.backup(out)
    out.close()
    src.close()
    return dst


def stop_counts(before):
    """The '... carried ..., ... read ...' line of each clean stop since the log had `before`
    characters."""
    text = app.logtext()[before:]
    return [(int(a), int(b)) for a, b in re.findall(
        r"indexing thread: (\d+) batches indexed with the keys carried from ingest, "
        r"(\d+) read from the archives", text)]


try:
    lines = loghub()
    app = Appliance(BUILD, extra_conf=(
        f"max_records = 700\n[daemon]\nmax_message_size = {MAXMSG}\n"
        "[listen frontend]\ntype = unix\npath = FRONTEND\nsender_identity = structured-data\n"))
    frontend = os.path.join(app.dir, "frontend.sock")
    conf = open(app.conf).read().replace("FRONTEND", frontend)
    open(app.conf, "w").write(conf)

    # 1. a run with everything, caught up while running, then a crash mid-send
    app.start()
    send_all(lines, "run1")
    wait_indexed("run 1")
    logpos = len(app.logtext())
    received = app.control("status")["received"]
    c = socket.create_connection(("127.0.0.1", app.port))
    c.sendall(octet(wrapped(lines[:8000], 3)))
    c.sendall(octet(hostile("crash")))
    c.close()
    # killed once it has read them, before the last batch's latency (200 ms) seals them
    deadline = time.time() + 5
    while time.time() < deadline and app.control("status")["received"] < received + 8000:
        time.sleep(0.005)
    app.stop(signal.SIGKILL)

    # 2. after the crash: the WAL's records are re-sealed (their batches from the archive)
    app.start()
    send_all(lines[5000:12000], "run2")
    wait_indexed("run 2 (after the crash)")
    live2 = snapshot("live2.sqlite")
    app.stop()
    counts2 = stop_counts(logpos)
    print("# run 2 (carried, read):", counts2)
    t.check("after the crash, batches were read from the archives (WAL replay) and others "
            "indexed from the carried keys", len(counts2) == 1 and counts2[0][0] > 0 and
            counts2[0][1] > 0, (counts2, app.logtext()[-3000:]))

    # 3. a clean restart: what the last run sealed at its stop is read from the archive
    logpos = len(app.logtext())
    app.start()
    send_all(lines[:3000], "run3")
    wait_indexed("run 3 (after a restart)")
    live = snapshot("live3.sqlite")
    app.stop()
    counts3 = stop_counts(logpos)
    print("# run 3 (carried, read):", counts3)
    t.check("a run after a clean restart indexed batches from the carried keys",
            len(counts3) == 1 and counts3[0][0] > 0, counts3)

    # 4. the same chain reindexed from its archives alone
    copy = os.path.join(app.dir, "copy")
    shutil.copytree(app.state, copy, symlinks=True, ignore=shutil.ignore_patterns("*.sock"))
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(index_path(copy) + suffix)
        except FileNotFoundError:
            pass
    p = subprocess.run([app.ctl(), "reindex", "--state-dir", copy], capture_output=True)
    t.check("logsealctl reindex of a copy: exit 0", p.returncode == 0, p.stderr)
    for label, snap in (("run 2", live2), ("run 3", live)):
        lb, lk = rows(snap)
        upto = lb[-1][0] if lb else -1
        rb, rk = rows(index_path(copy), upto)
        t.check(f"{label}: the live index has every batch up to its last ({len(lb)})",
                [b[0] for b in lb] == list(range(len(lb))), [b[0] for b in lb][:20])
        t.check(f"{label}: batches rows identical to the reindex ({len(lb)} rows)",
                lb == rb, [x for x in zip(lb, rb) if x[0] != x[1]][:3])
        t.check(f"{label}: batch_keys rows identical to the reindex ({len(lk)} rows)",
                lk == rk, (sorted(set(lk) ^ set(rk)))[:6])
        kinds = {k[0] for k in lk}
        t.check(f"{label}: the keys include hosts, apps, identities, facilities, severities",
                kinds == {0, 1, 2, 3, 4}, kinds)
    rc, report, recs = app.verify()
    t.check("the archives verify", rc == 0, report)
    flags = {}
    for r in recs:
        for f in r.get("flags", []):
            flags[f] = flags.get(f, 0) + 1
    ids = sum(1 for r in recs if r.get("sender_identity"))
    t.check("the chain holds records recovered from the WAL, truncated, parse-failed, and "
            "with identities", all(flags.get(f) for f in ("recovered", "truncated",
                                                          "parse-failed")) and ids > 0,
            (flags, ids))
finally:
    if app:
        app.close()
sys.exit(t.done())
