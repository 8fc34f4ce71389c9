#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The index finds records, the signatures vouch for them (issue 12 item 14): the real logseald
# seals a chain; one record of a sealed batch is then edited the way someone with write access
# to the archives would (payload recompressed, payload_hash fixed, the signature left as it
# was). `logsealctl reindex` refuses to index that batch and names its file and offset (exit
# 1); `logsealctl query` never prints its records, not even through an index that names the
# forged batch (exit 1). The untouched state directory indexes and queries every record with
# exit 0.
#   argv: BUILD_DIR SRC_DIR
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = sys.argv[1]
t = Tap()

SKIPPABLE = 0x184D2A5B
BATCH_MAGIC = b"\x89LSB\r\n\x1a\n"
HEADER_LEN = 304

zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
zstd.ZSTD_decompress.restype = ctypes.c_size_t
zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
zstd.ZSTD_compress.restype = ctypes.c_size_t
zstd.ZSTD_compress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                               ctypes.c_int]
zstd.ZSTD_compressBound.restype = ctypes.c_size_t
zstd.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
zstd.ZSTD_isError.restype = ctypes.c_uint
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]


def unzstd(src, raw_len):
    """A batch payload: raw_len bytes in the row layout; the column layout (format 3, SPEC
    §6) is another size, at most twice raw_len (the reader's bound)."""
    cap = 2 * raw_len + 4096
    dst = ctypes.create_string_buffer(cap)
    n = zstd.ZSTD_decompress(dst, cap, src, len(src))
    assert not zstd.ZSTD_isError(n), n
    return dst.raw[:n]


def rezstd(raw):
    cap = zstd.ZSTD_compressBound(len(raw))
    dst = ctypes.create_string_buffer(cap)
    n = zstd.ZSTD_compress(dst, cap, raw, len(raw), 3)
    assert not zstd.ZSTD_isError(n), n
    return dst.raw[:n]


def batches(data):
    """(offset, header, payload) of every batch frame of an archive (SPEC §8.1)."""
    off, out = 0, []
    while off + 16 <= len(data):
        magic, flen = struct.unpack_from("<II", data, off)
        assert magic == SKIPPABLE, (off, hex(magic))
        if data[off + 8:off + 16] == BATCH_MAGIC:
            header = data[off + 8:off + 8 + HEADER_LEN]
            plen = struct.unpack_from("<I", header, 184)[0]
            start = off + 8 + HEADER_LEN
            out.append((off, header, data[start:start + plen]))
            off = start + plen
        else:
            off += 8 + flen
    return out


def forge(path, old, new, cut_after=False):
    """Replaces the bytes `old` by `new` (same length) inside the record of the batch that
    holds them, recompresses the payload and fixes payload_len and payload_hash: the header
    signature no longer verifies. cut_after: the file ends after that batch (the newest batch
    of an open archive). Returns (offset, batch_no, forged header)."""
    assert len(old) == len(new)
    data = open(path, "rb").read()
    for off, header, payload in batches(data):
        raw_len = struct.unpack_from("<I", header, 60)[0]
        raw = unzstd(payload, raw_len)
        if old not in raw:
            continue
        payload2 = rezstd(raw.replace(old, new, 1))
        header2 = (header[:184] + struct.pack("<I", len(payload2)) + header[188:192] +
                   hashlib.sha256(payload2).digest() + header[224:])
        end = off + 8 + HEADER_LEN + len(payload)
        rest = b"" if cut_after else data[end:]
        open(path, "wb").write(data[:off + 8] + header2 + payload2 + rest)
        return off, struct.unpack_from("<Q", header, 40)[0], header2
    raise AssertionError("no batch holds %r" % old)


def ctl(state, *args):
    p = subprocess.run([app.ctl(), *args, "--state-dir", state], capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def query(state, *args):
    rc, out, err = ctl(state, "query", "--json", *args)
    return rc, [json.loads(l) for l in out.decode().splitlines() if l.strip()], err


def send(app, msgs):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
    s.close()
    time.sleep(0.8)  # a batch closes after 200 ms: each call is its own batch


def copy_state(name, index=False):
    d = os.path.join(app.dir, name)
    shutil.copytree(app.state, d, ignore=shutil.ignore_patterns("control.sock"))
    if not index:
        shutil.rmtree(os.path.join(d, "index"))
        os.mkdir(os.path.join(d, "index"), 0o750)
    return d


def archives(state):
    d = os.path.join(state, "archives")
    return [os.path.join(d, f) for f in sorted(os.listdir(d))]


TRUE = b"<38>1 2026-05-05T10:00:00Z gw sshd 77 - - login FAILED for user alice from 203.0.113.7"
FALSE = b"<38>1 2026-05-05T10:00:00Z gw sshd 77 - - login ACCEPT for user alice from 203.0.113.7"
before = [b"<13>1 - gw app - - - before %d" % i for i in range(40)]
after = [b"<13>1 - gw app - - - after %d" % i for i in range(40)]
later = [b"<13>1 - gw app - - - second run %d" % i for i in range(40)]
sent = before + [TRUE] + after + later

app = Appliance(BUILD, extra_conf="[keys]\nepoch_batches = 2\n")  # several keys in the chain
try:
    app.start()
    send(app, before)
    send(app, [TRUE])
    send(app, after)
    t.check("first run stops cleanly", app.stop() == 0, app.logtext()[-800:])
    app.start()
    send(app, later)
    t.check("second run stops cleanly", app.stop() == 0, app.logtext()[-800:])
    rc, report, records = app.verify()
    t.check("the genuine chain verifies (exit 0)", rc == 0, report.get("findings"))
    t.check("two archives at least", len(archives(app.state)) >= 2, archives(app.state))
    signing = [k for k in report.get("keys", []) if k["role"] == "signing"]
    t.check("several signing keys", len(signing) >= 3, report.get("keys"))

    # ---- untouched: every record, exit 0 ----
    rc, out, err = ctl(app.state, "reindex")
    t.check("untouched: reindex exit 0, every record of the chain",
            rc == 0 and out.startswith(b"Indexed %d records" % len(records)), (rc, out, err))
    rc, res, err = query(app.state)
    t.check("untouched: query exit 0 prints every message, byte for byte",
            rc == 0 and [message_bytes(r) for r in res] == sent, (rc, len(res), err))

    # ---- a record edited in the middle of a sealed archive ----
    f1 = copy_state("forged-middle")
    a0 = archives(f1)[0]
    off, bno, hdr = forge(a0, b"login FAILED", b"login ACCEPT")
    rc, out, err = ctl(f1, "reindex")
    t.check("forged batch: reindex exit 1", rc == 1, (rc, out, err))
    t.check("... naming the archive, the offset and the batch",
            os.path.basename(a0) in err and f"offset {off}" in err and f"batch {bno}" in err,
            err)
    t.check("... and why (its signature)", "signature" in err, err)
    db = sqlite3.connect(os.path.join(f1, "index", "index.sqlite"))
    indexed = db.execute("SELECT count(*) FROM batches WHERE batch_no = ?", (bno,)).fetchone()[0]
    db.close()
    t.check("... the forged batch is not in the index", indexed == 0, indexed)
    rc, res, err = query(f1)
    msgs = [message_bytes(r) for r in res]
    t.check("query on the forged chain: exit 1", rc == 1, (rc, err))
    t.check("... the forged record is not printed", FALSE not in msgs and TRUE not in msgs,
            msgs[-3:])
    t.check("... the records before it are", msgs[:len(before)] == before, len(msgs))
    t.check("... and it names the batch that failed", f"batch {bno}" in err, err)

    # ---- the newest batch forged (nothing after it links to it) ----
    f2 = copy_state("forged-newest")
    a0 = archives(f2)[0]
    for later_archive in archives(f2)[1:]:
        os.unlink(later_archive)
    off2, bno2, _ = forge(a0, b"login FAILED", b"login ACCEPT", cut_after=True)
    rc, out, err = ctl(f2, "reindex")
    t.check("forged newest batch: reindex exit 1, names file, offset and batch",
            rc == 1 and os.path.basename(a0) in err and f"offset {off2}" in err and
            f"batch {bno2}" in err, (rc, out, err))
    rc, res, err = query(f2)
    msgs = [message_bytes(r) for r in res]
    t.check("forged newest batch: query exit 1, the forged record not printed",
            rc == 1 and FALSE not in msgs and msgs == before, (rc, msgs[-3:], err))

    # ---- an index that names the forged batch (the index is not evidence) ----
    f3 = copy_state("forged-indexed", index=True)
    off3, bno3, hdr3 = forge(archives(f3)[0], b"login FAILED", b"login ACCEPT")
    db = sqlite3.connect(os.path.join(f3, "index", "index.sqlite"))
    db.execute("UPDATE batches SET header_hash = ? WHERE batch_no = ?",
               (hashlib.sha256(hdr3[:240]).digest(), bno3))
    db.commit()
    db.close()
    rc, res, err = query(f3, "--host", "gw")
    msgs = [message_bytes(r) for r in res]
    t.check("an index naming the forged batch: query still refuses its records (exit 1)",
            rc == 1 and FALSE not in msgs and TRUE not in msgs, (rc, msgs, err))
    t.check("... says they are not authentic, with file, offset and batch",
            "NOT AUTHENTIC" in err and os.path.basename(archives(f3)[0]) in err and
            f"offset {off3}" in err and f"batch {bno3}" in err, err)
    t.check("... and prints every other record", msgs == before + after + later,
            (len(msgs), len(before + after + later)))
    rc, res, err = query(f3, "--host", "gw", "--seq", "%d-%d" % (res[0]["seq"], res[0]["seq"]))
    t.check("a query that selects no forged record: exit 0", rc == 0 and len(res) == 1, (rc, err))

    # ---- the untouched state directory is still fine ----
    rc, res, err = query(app.state)
    t.check("untouched state: query exit 0 with every record",
            rc == 0 and [message_bytes(r) for r in res] == sent, (rc, len(res), err))

    # ---- while logseald seals and changes keys (every 2 batches), reindex and query agree ----
    app.start()
    results = []
    for i in range(6):
        send(app, [b"<13>1 - live app - - - live %d.%d" % (i, j) for j in range(20)])
        results.append(ctl(app.state, "reindex" if i % 2 else "query")[0])
    t.check("reindex and query while keys change under them: exit 0 each time",
            results == [0] * 6, results)
    t.check("third run stops cleanly", app.stop() == 0, app.logtext()[-800:])
    rc, res, err = query(app.state, "--host", "live")
    t.check("... and every live message is printed after the stop",
            rc == 0 and len(res) == 120, (rc, len(res), err))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
