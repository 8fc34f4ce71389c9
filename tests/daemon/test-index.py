#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The search index is derived, the archives are the evidence (ARCHITECTURE invariant 1):
# the real logseald seals messages from several hosts (RFC 5424 and BSD, TCP and UDP, over
# restarts and a SIGKILL); `logsealctl reindex` builds index.sqlite from the archives alone;
# `logsealctl query` counts per host and prints the messages byte for byte as sent, re-read
# from the archives; deleting the index and reindexing gives the same answers; a falsified
# index changes which records are selected but never what is printed; damaged archives are
# named with their offset; torn tails stop indexing cleanly; the archives are never touched.
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD, SRC = sys.argv[1], sys.argv[2]
t = Tap()
# the index has a row per batch, not per record: the records it covers
NRECORDS = "SELECT coalesce(sum(record_count), 0) FROM batches"


def ctl(app, *args, state=None):
    p = subprocess.run([app.ctl(), *args, "--state-dir", state or app.state], capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def query(app, *args, state=None):
    rc, out, err = ctl(app, "query", "--json", *args, state=state)
    return rc, [json.loads(l) for l in out.decode().splitlines() if l.strip()], err


def qmsg(rec):
    if "message" in rec:
        return rec["message"].encode()
    return base64.b64decode(rec["message_base64"])


def archive_hashes(state):
    d = os.path.join(state, "archives")
    return {f: hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest()
            for f in sorted(os.listdir(d))}


def remove_index(state):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(os.path.join(state, "index", "index.sqlite" + suffix))
        except FileNotFoundError:
            pass


def udp_send(app, msgs):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i, m in enumerate(msgs):
        u.sendto(m, ("127.0.0.1", app.port))
        if i % 50 == 49:
            time.sleep(0.02)
    u.close()


def tcp_octet(app, msgs):
    c = socket.create_connection(("127.0.0.1", app.port))
    for m in msgs:
        c.sendall(b"%d %s" % (len(m), m))
    c.close()


def tcp_lf(app, msgs):
    c = socket.create_connection(("127.0.0.1", app.port))
    c.sendall(b"".join(m + b"\n" for m in msgs))
    c.close()


# host -> exact bodies sent, in sending order (one channel per host, so seq order = send order)
sent = {
    # RFC 5424 over TCP, octet counting: quotes, backslashes, tabs, UTF-8 and a raw LF survive
    "alpha": [b'<34>1 2026-01-01T00:00:%02d.000001Z alpha app1 %d ID47 [x@32473 k="v\\"q"] '
              b'alpha message %d \t "quoted" \\ back \xc3\xa9t\xc3\xa9' % (i % 60, 1000 + i, i)
              for i in range(300)] + [b"<34>1 2026-01-01T00:01:00Z alpha app1 - - - two\nlines"],
    # RFC 5424 over UDP
    "beta": [b"<165>1 2026-01-01T01:00:00.5+02:00 beta app2 - - - beta udp %d" % i
             for i in range(200)],
    # BSD over UDP, one not valid UTF-8 (base64 in JSON)
    "gamma": [b"<13>Jan  5 10:00:%02d gamma sshd[99]: bsd udp %d" % (i % 60, i) for i in range(150)]
             + [b"<13>Jan  5 10:01:00 gamma sshd[99]: binary \xff\xfe\x00 end"],
    # BSD over TCP, LF framing
    "delta": [b"<38>Feb 11 12:34:56 delta cron[7]: bsd tcp %d" % i for i in range(100)],
}
second_run = {"epsilon": [b"<13>1 2026-02-02T00:00:00Z epsilon app3 - - - second run %d" % i
                          for i in range(120)]}
killed_run = {"zeta": [b"<13>1 2026-03-03T00:00:00Z zeta app4 - - - killed run %d" % i
                       for i in range(80)]}
late = {"eta": [b"<13>1 2026-04-04T00:00:00Z eta app5 - - - after reindex %d" % i
                for i in range(50)]}

app = Appliance(BUILD)
try:
    # ---- a chain of several archives: a clean run, another clean run, a SIGKILL ----
    app.start()
    tcp_octet(app, sent["alpha"])
    udp_send(app, sent["beta"])
    udp_send(app, sent["gamma"])
    tcp_lf(app, sent["delta"])
    time.sleep(1)
    t.check("first run stops cleanly", app.stop() == 0, app.logtext()[-1000:])
    app.start()
    tcp_octet(app, second_run["epsilon"])
    time.sleep(1)
    t.check("second run stops cleanly", app.stop() == 0)
    app.start()
    tcp_octet(app, killed_run["zeta"])
    time.sleep(1.5)  # sealed and durable, then killed: the next start seals this archive
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    app.start()
    time.sleep(0.5)
    t.check("run after SIGKILL stops cleanly", app.stop() == 0)
    sent.update(second_run)
    sent.update(killed_run)

    rc, report, records = app.verify()
    t.check("the chain verifies (exit 0)", rc == 0, report.get("findings"))
    narch = len(os.listdir(os.path.join(app.state, "archives")))
    t.check("the chain has several archives", narch >= 4, narch)
    by_seq = {r["seq"]: r for r in records}
    before = archive_hashes(app.state)

    # ---- a daemon that indexes as it seals has the same rows as the chain ----
    if os.path.exists(os.path.join(app.state, "index", "index.sqlite")):
        db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
        n0 = db.execute(NRECORDS).fetchone()[0]
        rc, out, err = query(app)  # indexes what the daemon left (its last batches)
        n1 = db.execute(NRECORDS).fetchone()[0]
        db.close()
        t.check("the daemon's live index, completed by query, holds every record once",
                0 < n0 <= n1 and rc == 0 and n1 == len(records), (n0, n1, len(records), err))
        t.check("the daemon logged no index error", "logseald: index:" not in app.logtext(),
                app.logtext()[-1000:])
        remove_index(app.state)

    # ---- reindex ----
    rc, out, err = query(app)
    t.check("query without an index: exit 1, says to reindex", rc == 1 and "reindex" in err, err)
    rc, out, err = ctl(app, "reindex")
    t.check("reindex: exit 0", rc == 0, err)
    t.check("reindex reports every record of the chain and its speed",
            out.startswith(b"Indexed %d records in " % len(records)) and b"records/s" in out,
            (out, len(records)))

    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    db.text_factory = bytes
    chain_id = open(os.path.join(app.state, "chain.id")).read().strip()
    meta = dict((k.decode(), v.decode()) for k, v in db.execute("SELECT key, value FROM meta"))
    t.check("meta: schema version 3 and the chain id", meta.get("schema_version") == "3" and
            meta.get("chain_id") == chain_id, meta)
    t.check("journal_mode is WAL", db.execute("PRAGMA journal_mode").fetchone()[0] == b"wal")
    tables = {r[0].decode() for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    idx = {r[0].decode() for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    t.check("no row per record: batches and their keys, an index on the batches' times",
            "records" not in tables and {"batches", "batch_keys"} <= tables and
            "batches_time" in idx, (tables, idx))
    nrows = db.execute(NRECORDS).fetchone()[0]
    t.check("the batches count every record", nrows == len(records), (nrows, len(records)))
    nbatches = db.execute("SELECT count(*) FROM batches").fetchone()[0]
    t.check("one row per batch", nbatches == report["chain"]["batches_verified"],
            (nbatches, report.get("chain")))
    # the keys of each batch are exactly the hosts, apps and identities of its records
    # (the hosts and apps as `logsealctl query` derives them from the archive's records)
    want = set()
    brows = db.execute("SELECT batch_no, first_seq, record_count FROM batches").fetchall()
    _, qall, _ = query(app)
    for r_ in qall:
        bno = next(b_ for b_, first, count in brows if first <= r_["seq"] < first + count)
        if r_.get("host"):
            want.add((0, r_["host"].encode(), bno))
        if r_.get("app"):
            want.add((1, r_["app"].encode(), bno))
    got = set(db.execute("SELECT kind, name, batch_no FROM batch_keys WHERE kind < 2"))
    t.check("batch_keys: the host and app names of each batch's records, once each",
            got == want and len(got) < nrows, (len(got), len(want), sorted(got ^ want)[:5]))
    row = db.execute("SELECT count(*) FROM batch_keys WHERE kind = 0 AND name = 'alpha'").fetchone()
    t.check("a host's batches are found by its key", row[0] > 0, row)
    blob = open(os.path.join(app.state, "index", "index.sqlite"), "rb").read()
    blob += open(os.path.join(app.state, "index", "index.sqlite-wal"), "rb").read() \
        if os.path.exists(os.path.join(app.state, "index", "index.sqlite-wal")) else b""
    t.check("the index holds no message text", b"bsd tcp 42" not in blob and b"beta udp 7" not in blob)
    db.close()

    # ---- query: counts per host, byte-identical messages ----
    def check_hosts(label):
        ok_counts, ok_bytes, ok_verified = True, True, True
        detail = None
        for host, msgs in sent.items():
            rc, res, err = query(app, "--host", host)
            got = [qmsg(r) for r in sorted(res, key=lambda r: r["seq"])]
            if rc != 0 or len(res) != len(msgs):
                ok_counts = False
                detail = (host, rc, len(res), len(msgs), err)
            elif got != msgs:
                ok_bytes = False
                detail = (host, [(a, b) for a, b in zip(got, msgs) if a != b][:2])
            for r in res:
                v = by_seq.get(r["seq"])
                if not v or message_bytes(v) != qmsg(r) or r["host"] != host:
                    ok_verified = False
                    detail = (r, v)
        t.check(f"{label}: query --host counts every host's messages", ok_counts, detail)
        t.check(f"{label}: query prints the messages byte for byte as sent", ok_bytes, detail)
        t.check(f"{label}: each printed record is the verifier's record of that seq", ok_verified,
                detail)

    check_hosts("after reindex")
    rc, res, err = query(app)
    nsyslog = sum(1 for r in records if r["type"] == "syslog")
    t.check("query without filters: every syslog message", rc == 0 and len(res) == nsyslog,
            (len(res), nsyslog, err))
    full = res
    times = [r["time"] for r in res]
    t.check("results come in receive-time order", times == sorted(times))
    r0 = [r for r in res if r.get("host") == "gamma"][-1]
    t.check("a non-UTF-8 message is given in base64, exactly",
            "message_base64" in r0 and qmsg(r0) == sent["gamma"][-1], r0)
    t.check("JSON lines carry seq, time, host, app, peer, message",
            all(k in full[0] for k in ("seq", "time", "host", "app", "peer")) and
            all("message" in r or "message_base64" in r for r in full), full[0])

    p = subprocess.run([app.ctl(), "query", "--state-dir", app.state, "--host", "delta"],
                       capture_output=True)
    t.check("raw output: one message per line, exact bytes",
            p.returncode == 0 and p.stdout == b"".join(m + b"\n" for m in sent["delta"]),
            p.stdout[:200])
    rc, res, err = query(app, "--app", "app2")
    t.check("query --app", rc == 0 and [qmsg(r) for r in res] == sent["beta"], (rc, len(res), err))
    rc, res, err = query(app, "--facility", "auth")
    t.check("query --facility (the batches' facility keys, then the records)",
            rc == 0 and sorted(qmsg(r) for r in res) == sorted(sent["alpha"] + sent["delta"]),
            (rc, len(res), err))
    rc, res, err = query(app, "--severity", "crit")
    t.check("query --severity crit: as severe or more",
            rc == 0 and [qmsg(r) for r in res] == sent["alpha"], (rc, len(res), err))
    rc, res, err = query(app, "--severity", "notice", "--host", "gamma")
    t.check("query --severity with --host", rc == 0 and [qmsg(r) for r in res] == sent["gamma"],
            (rc, len(res), err))
    rc, res, err = query(app, "--host", "alpha", "--limit", "7")
    t.check("query --limit", rc == 0 and len(res) == 7, len(res))

    # time ranges: receive times from the verifier's own dump
    alpha_seqs = sorted(r["seq"] for r in full if r["host"] == "alpha")
    mid = by_seq[alpha_seqs[150]]
    rc, res, err = query(app, "--host", "alpha", "--from", mid["time"])
    expect = [s for s in alpha_seqs if by_seq[s]["time"] >= mid["time"]]
    t.check("query --from RFC 3339 (inclusive)", rc == 0 and sorted(r["seq"] for r in res) == expect,
            (len(res), len(expect), err))
    rc, res, err = query(app, "--host", "alpha", "--to", mid["time"])
    t.check("query --to RFC 3339 (exclusive)", rc == 0 and len(res) == len(alpha_seqs) - len(expect),
            (len(res), err))
    ns = next(r for r in full if r["seq"] == alpha_seqs[10])["time"]
    rc, res1, _ = query(app, "--from", ns, "--to", "2100-01-01T00:00:00Z")
    rc2, res2, _ = query(app, "--from", ns, "--limit", "3")
    t.check("--from/--to/--limit together", rc == 0 and rc2 == 0 and len(res2) == 3 and
            res2 == res1[:3], (len(res1), len(res2)))
    rc, res, err = query(app, "--to", "2000-01-01T00:00:00Z")
    t.check("query before the chain began: nothing, exit 0", rc == 0 and res == [], err)
    rc, res, err = query(app, "--from", "@0", "--to", "@99999999999999999999")
    t.check("@NANOSECONDS out of range is a usage error", rc == 2, err)
    rc, res, err = query(app, "--from", "@0", "--host", "beta")
    t.check("--from @NANOSECONDS", rc == 0 and len(res) == len(sent["beta"]), (len(res), err))
    rc, res, err = query(app, "--from", "yesterday")
    t.check("a bad time is a usage error (exit 2)", rc == 2 and "RFC 3339" in err, err)

    # ---- idempotent: reindex again, catch-up adds nothing ----
    rc, out, err = ctl(app, "reindex")
    t.check("second reindex: same record count", rc == 0 and out.startswith(b"Indexed %d records" %
                                                                           len(records)), out)
    rc, res, err = query(app)
    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    n2 = db.execute(NRECORDS).fetchone()[0]
    db.close()
    t.check("query's catch-up adds nothing twice", rc == 0 and res == full and n2 == len(records),
            (n2, len(records)))

    # ---- delete the index, rebuild: the same answers ----
    remove_index(app.state)
    rc, out, err = ctl(app, "reindex")
    t.check("reindex after deleting index.sqlite: exit 0, same count",
            rc == 0 and out.startswith(b"Indexed %d records" % len(records)), (out, err))
    rc, res, err = query(app)
    t.check("rebuilt index: identical query output", rc == 0 and res == full)
    check_hosts("rebuilt")

    # ---- a falsified index selects differently but cannot change what is printed ----
    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    db.execute("UPDATE batch_keys SET name = 'evil' WHERE kind = 0 AND name = 'alpha'")
    db.execute("UPDATE batches SET min_time = 0, max_time = 0 WHERE batch_no IN "
               "(SELECT batch_no FROM batch_keys WHERE kind = 0 AND name = 'beta')")
    db.commit()
    db.close()
    rc, res, err = query(app)
    t.check("falsified host/time rows: the unfiltered query still prints the archive bytes",
            sorted((r["seq"], qmsg(r)) for r in res) ==
            sorted((r["seq"], qmsg(r)) for r in full), err)
    t.check("... with host and time as the archives say",
            sorted((r["seq"], r["host"], r["time"]) for r in res) ==
            sorted((r["seq"], r["host"], r["time"]) for r in full))
    t.check("... and says the index is out of step (exit 1, reindex)",
            rc == 1 and "out of step" in err and "reindex" in err, (rc, err))
    rc, res, err = query(app, "--host", "evil")
    t.check("query --host evil prints nothing the archives do not say, exit 1, says reindex",
            rc == 1 and res == [] and "reindex" in err, (rc, len(res), err))
    rc, res, err = query(app, "--host", "beta", "--to", "1970-01-02T00:00:00Z")
    t.check("falsified times are checked against the archive too", rc == 1 and res == [], err)

    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    db.execute("UPDATE batches SET offset = offset + 1")
    db.commit()
    db.close()
    rc, res, err = query(app, "--host", "gamma")
    t.check("falsified batch offsets: no record printed, each one reported, exit 1",
            rc == 1 and res == [] and "offset" in err and "reindex" in err, err[:300])
    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    db.execute("UPDATE meta SET value = '00000000000000000000000000000000' WHERE key = 'chain_id'")
    db.commit()
    db.close()
    rc, res, err = query(app)
    t.check("an index of another chain is refused", rc == 1 and "not of this chain" in err, err)
    rc, out, err = ctl(app, "reindex")
    t.check("reindex refuses it as well (never deletes another chain's index)", rc == 1, (out, err))
    remove_index(app.state)
    with open(os.path.join(app.state, "index", "index.sqlite"), "wb") as f:
        f.write(b"this is not an SQLite database" * 100)
    rc, out, err = ctl(app, "reindex")
    t.check("reindex replaces a file that is not an index", rc == 0 and "recreating" in err,
            (out, err))
    check_hosts("after repair")

    # ---- the archives were never touched; the verifier never needed the index ----
    t.check("archives byte-identical after reindexing and queries", archive_hashes(app.state) == before)
    remove_index(app.state)
    rc, report2, _ = app.verify()
    t.check("the chain verifies without any index", rc == 0, report2.get("findings"))

    # ---- a later run: query catches up from the stored position ----
    rc, out, err = ctl(app, "reindex")
    app.start()
    tcp_octet(app, late["eta"])
    time.sleep(1)
    t.check("later run stops cleanly", app.stop() == 0)
    rc, res, err = query(app, "--host", "eta")
    t.check("query indexes new archives first (resume, no reindex)",
            rc == 0 and [qmsg(r) for r in res] == late["eta"], (rc, len(res), err))
    rc, _, all_records = app.verify()
    db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
    n3 = db.execute(NRECORDS).fetchone()[0]
    db.close()
    t.check("after resuming: one row per record of the chain", n3 == len(all_records),
            (n3, len(all_records)))
    sent.update(late)

    # ---- an index of schema version 2 (a row per record), as an upgrade finds it: the
    # daemon's indexer empties it, makes it version 3 and indexes the archives again ----
    ixfile = os.path.join(app.state, "index", "index.sqlite")
    owner = os.stat(ixfile)
    db = sqlite3.connect(ixfile)
    db.executescript("""
        DROP TABLE batch_keys;
        DROP INDEX batches_time;
        CREATE TABLE records(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,
          batch_no INTEGER NOT NULL, archive_no INTEGER NOT NULL, type INTEGER NOT NULL,
          transport INTEGER NOT NULL, peer TEXT, port INTEGER, conn_id INTEGER,
          flags INTEGER NOT NULL, facility INTEGER, severity INTEGER, host TEXT, app TEXT,
          procid TEXT, msgid TEXT, msg_time_ns INTEGER, identity TEXT);
        CREATE INDEX records_time ON records(time_ns);
        CREATE INDEX records_host_time ON records(host, time_ns);
        CREATE INDEX records_app_time ON records(app, time_ns);
        INSERT INTO records SELECT first_seq, min_time, batch_no, archive_no, 1, 2, '127.0.0.1',
          514, NULL, 0, 1, 5, 'stale', 'old', NULL, NULL, NULL, NULL FROM batches;
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()
    for f in os.listdir(os.path.dirname(ixfile)):
        os.chown(os.path.join(os.path.dirname(ixfile), f), owner.st_uid, owner.st_gid)
    theta = [b"<13>1 2026-05-05T00:00:00Z theta app6 - - - after the upgrade %d" % i
             for i in range(40)]
    app.start()
    tcp_octet(app, theta)
    time.sleep(1.5)
    t.check("run on a schema 2 index stops cleanly", app.stop() == 0)
    rc, _, all_records = app.verify()
    db = sqlite3.connect(ixfile)
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    n4 = db.execute(NRECORDS).fetchone()[0]
    db.close()
    rc, res, err = query(app, "--host", "theta")  # indexes what the daemon left (its last batch)
    db = sqlite3.connect(ixfile)
    n5 = db.execute(NRECORDS).fetchone()[0]
    db.close()
    t.check("schema 2 index: logseald migrated it (version 3, no records table, same owner)",
            version == ("3",) and "records" not in tables and "batch_keys" in tables and
            os.stat(ixfile).st_uid == owner.st_uid, (version, tables))
    t.check("... and indexed the chain again, without an index error; query completes it",
            0 < n4 <= n5 == len(all_records) and "logseald: index:" not in app.logtext(),
            (n4, n5, len(all_records), app.logtext()[-600:]))
    t.check("... query finds the new messages", rc == 0 and [qmsg(r) for r in res] == theta,
            (rc, len(res), err))
    rc, res, err = query(app, "--host", "stale")
    t.check("... and nothing of the old rows", rc == 0 and res == [], (rc, len(res), err))
    sent["theta"] = theta
    by_seq = {r["seq"]: r for r in all_records}
    check_hosts("after the migration from schema 2")

    # ---- damaged and torn archives (on copies of the state directory) ----
    def copy_state(name):
        d = os.path.join(app.dir, name)
        # the confined daemon leaves its control socket behind at a stop (logseald(8))
        shutil.copytree(app.state, d, ignore=shutil.ignore_patterns("control.sock"))
        remove_index(d)
        return d

    def archive_files(state):
        d = os.path.join(state, "archives")
        return [os.path.join(d, f) for f in sorted(os.listdir(d))]

    def batch_offsets(state, archive_no):
        db = sqlite3.connect(os.path.join(app.state, "index", "index.sqlite"))
        rows = db.execute("SELECT offset, batch_no FROM batches WHERE archive_no = ? ORDER BY offset",
                          (archive_no,)).fetchall()
        db.close()
        return rows

    dmg = copy_state("damaged")
    first = archive_files(dmg)[0]
    offs = batch_offsets(app.state, 0)
    off, bno = offs[len(offs) // 2]
    with open(first, "r+b") as f:
        f.seek(off + 8 + 304 + 10)
        b = f.read(1)
        f.seek(off + 8 + 304 + 10)
        f.write(bytes([b[0] ^ 0x40]))
    rc, out, err = ctl(app, "reindex", state=dmg)
    name = os.path.basename(first)
    t.check("damaged payload: reindex exit 1 naming the file, offset and batch",
            rc == 1 and name in err and f"offset {off}" in err and f"batch {bno}" in err, err)
    t.check("... and how many records were indexed before it", "indexed before the error" in err, err)
    rc, res, err = query(app, state=dmg)
    t.check("query on a damaged chain: what precedes the damage, a warning naming it, exit 1",
            rc == 1 and 0 < len(res) < nsyslog and f"offset {off}" in err, (rc, len(res), err))

    torn = copy_state("torn")
    last = archive_files(torn)[-1]
    loffs = batch_offsets(app.state, len(archive_files(torn)) - 1)
    cut = loffs[-1][0] + 8 + 304 + 5  # inside the last batch's payload: no trailer any more
    os.truncate(last, cut)
    rc, out, err = ctl(app, "reindex", state=torn)
    db = sqlite3.connect(os.path.join(torn, "index", "index.sqlite"))
    ntorn = db.execute(NRECORDS).fetchone()[0]
    db.close()
    t.check("torn tail of the open archive: reindex stops cleanly (exit 0) before it",
            rc == 0 and 0 < ntorn < len(all_records), (rc, ntorn, err))
    # the daemon finishes (here: recovery seals) the archive; indexing resumes where it stopped
    os.truncate(last, loffs[-1][0])
    rc, out, err = ctl(app, "reindex", state=torn)
    t.check("an open archive without a torn tail indexes up to its end", rc == 0, err)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
