#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Terminal and bidi injection (issue 14 item 8) and the investigator nits of issue 13 item 7,
# through the real daemon (run as an unprivileged user): hostile senders (clear screen, OSC 52
# clipboard write, a fake "VERDICT: INTACT" line after a newline, the C1 CSI U+009B, U+202E,
# bytes that are not UTF-8), a hostile sender identity and hostile case fields. Every text
# output a person reads (query, query --text, logseal-verify's text report of the archives and
# of an exported bundle, its --dump, export's report.txt, key list) shows them escaped and
# holds no raw control, C1 or bidi character; the JSON outputs keep them exact; Spanish text
# prints as written. Also: query --text/--json show the sender identity, query --identity
# selects on it, key list prints revocation times in RFC 3339, --raw refuses a terminal.
import base64
import json
import os
import pty
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
t = Tap()
work = tempfile.mkdtemp(prefix="logseal-text-")
frontend = os.path.join(work, "frontend.sock")
os.chown(work, 65534, 65534)
app = Appliance(BUILD, user=65534, extra_conf=(
    f"\n[listen frontend]\ntype = unix\npath = {frontend}\nsender_identity = structured-data\n"))
verify_bin = os.path.join(BUILD, "verifier", "logseal-verify")
SD = "logseal-sender@32473"
TS = "2026-12-03T10:00:00.000Z"

# what the senders write (after "<13>1 TS evil app - - - ")
HOSTILE = {
    "clear": b"\x1b[2J\x1b[Hscreen cleared",
    "osc52": b"clip \x1b]52;c;ZWNobyBwd25lZAo=\x07 written",
    "verdict": b"innocent\nVERDICT: INTACT (exit 0)",
    "c1": "csi \u009b31m red".encode(),
    "bidi": "Judge \u202eeoD nhoJ\u202c said".encode(),
    "bad": b"bytes \xff\xfe\xc0\xaf cut \xe2\x82",
    "spanish": "Lic. Ana Pérez firmó el acta en Peñalolén".encode(),
}
IDENT_EVIL = "CN=\x1b[31mred\u202etxt.exe] fake"
IDENT_ES = "CN=Peña,O=Fiscalía"
CASE = "CASO-Peña-\x1b]0;pwned\x07-2026"
EXAMINER = "Judge \u202eeoD nhoJ\u202c"
CASE_OK, EXAMINER_OK = "CASO-Peña-2026", "Lic. Ana Pérez"
# the escaped forms a person must see
SHOWN = {
    "clear": "\\x1b[2J\\x1b[Hscreen cleared",
    "osc52": "clip \\x1b]52;c;ZWNobyBwd25lZAo=\\x07 written",
    "verdict": "innocent\\x0aVERDICT: INTACT (exit 0)",
    "c1": "csi \\u009B31m red",
    "bidi": "Judge \\u202EeoD nhoJ\\u202C said",
    "bad": "bytes \\xff\\xfe\\xc0\\xaf cut \\xe2\\x82",
    "spanish": "Lic. Ana Pérez firmó el acta en Peñalolén",
}


def frame(m):
    return b"%d %s" % (len(m), m)


def ctl(*args, **kw):
    return subprocess.run([app.ctl(), *args], capture_output=True, **kw)


def verify(*args):
    return subprocess.run([verify_bin, "--root-key", os.path.join(app.state, "root.pub"), *args],
                          capture_output=True)


BAD_CHAR = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2069\ufeff\ufff9-\ufffb]")


def clean(out):
    """(ok, why): out is UTF-8 and holds no raw control (but newline/tab), C1 or bidi."""
    try:
        s = out.decode("utf-8")
    except UnicodeDecodeError as e:
        return False, f"not UTF-8: {e}"
    m = BAD_CHAR.search(s)
    return (m is None), (repr(s[max(0, m.start() - 40):m.end() + 40]) if m else "")


def check_text(name, out, want=SHOWN.values(), lines=True):
    ok, why = clean(out)
    t.check(f"{name}: no raw control, C1, bidi or invalid UTF-8", ok, why)
    s = out.decode("utf-8", "replace")
    missing = [w for w in want if w not in s]
    t.check(f"{name}: the hostile text is shown escaped, Spanish as written", not missing,
            (missing, s[:3000]))
    if lines:
        fake = [l for l in s.splitlines() if l.startswith("VERDICT: INTACT (exit 0)")]
        t.check(f"{name}: no line of its own starts with the fake VERDICT", not fake, fake)


def strings(doc):
    """Every string in a JSON document."""
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from strings(v)


def on_terminal(argv):
    """Exit status and output of argv with its stdout on a pseudo-terminal."""
    master, slave = pty.openpty()
    p = subprocess.run(argv, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    os.close(master)
    return p.returncode, p.stderr.decode()


try:
    app.start()
    s = socket.create_connection(("127.0.0.1", app.port))
    for k, m in HOSTILE.items():
        s.sendall(frame(f"<13>1 {TS} evil app - - - ".encode() + m))
    s.close()
    f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    f.connect(frontend)
    evil_sd = IDENT_EVIL.replace("]", "\\]")      # RFC 5424 PARAM-VALUE escaping
    f.sendall(frame(f'<13>1 {TS} fronted app - - [{SD} subject="{evil_sd}" '
                    f'peer="192.0.2.7:5000"] identity evil'.encode()))
    f.sendall(frame(f'<13>1 {TS} fronted app - - [{SD} subject="{IDENT_ES}" '
                    f'peer="192.0.2.8:5001"] identity spanish'.encode()))
    f.close()

    deadline, js = time.time() + 30, []
    while time.time() < deadline and len(js) < len(HOSTILE) + 2:
        p = ctl("query", "--state-dir", app.state, "--json", "--app", "app")
        js = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        time.sleep(0.3)
    t.check("every message sealed and indexed", len(js) == len(HOSTILE) + 2, js)

    # ---- JSON stays exact -------------------------------------------------------------------
    def body(r):
        return (r["message"].encode() if "message" in r else base64.b64decode(r["message_base64"]))
    sent = [f"<13>1 {TS} evil app - - - ".encode() + m for m in HOSTILE.values()]
    t.check("query --json: every hostile message exact (base64 when not UTF-8)",
            all(m in [body(r) for r in js] for m in sent), [body(r) for r in js])
    ids = {r.get("sender_identity") for r in js}
    t.check("query --json: the sender identity, exact",
            f"subject={IDENT_EVIL} peer=192.0.2.7:5000" in ids and
            f"subject={IDENT_ES} peer=192.0.2.8:5001" in ids, ids)

    # ---- query: default, --text, --raw ------------------------------------------------------
    p = ctl("query", "--state-dir", app.state, "--host", "evil")
    t.check("query: exit 0", p.returncode == 0, p.stderr)
    check_text("query (default)", p.stdout)
    t.check("query (default): one line per message", p.stdout.count(b"\n") == len(HOSTILE),
            p.stdout)
    p = ctl("query", "--state-dir", app.state, "--text")
    check_text("query --text", p.stdout,
               list(SHOWN.values()) + ["[subject=CN=\\x1b[31mred\\u202Etxt.exe\\x5d fake peer=192.0.2.7:5000] ",
                                       f"[subject={IDENT_ES} peer=192.0.2.8:5001] "])
    p = ctl("query", "--state-dir", app.state, "--host", "evil", "--raw")
    t.check("query --raw to a pipe: the bytes as received",
            p.returncode == 0 and p.stdout == b"".join(m + b"\n" for m in sent), p.stdout)
    rc, err = on_terminal([app.ctl(), "query", "--state-dir", app.state, "--raw"])
    t.check("query --raw to a terminal: refused (exit 2)", rc == 2 and "terminal" in err, (rc, err))

    # ---- query --identity -------------------------------------------------------------------
    for sel, want in ((IDENT_ES, [b"identity spanish"]),
                      (f"subject={IDENT_ES} peer=192.0.2.8:5001", [b"identity spanish"]),
                      (IDENT_EVIL, [b"identity evil"]),
                      ("CN=Peña", []), ("192.0.2.8:5001", [])):
        p = ctl("query", "--state-dir", app.state, "--identity", sel)
        got = [l.split(b" - - ")[-1] for l in p.stdout.splitlines()]
        got = [g.split(b"] ")[-1] for g in got]
        t.check(f"query --identity {sel!r}: {len(want)} message(s)",
                p.returncode == 0 and got == want, (p.returncode, p.stdout, p.stderr))

    # ---- export with hostile case fields; the bundle's text report ---------------------------
    bundle = os.path.join(work, "bundle")
    # The daemon refuses hostile case fields (SPEC §4.4: nothing a person reads may hold
    # controls or bidi overrides); the export then leaves nothing behind.
    p = ctl("export", "--state-dir", app.state, "--case", CASE, "--examiner", EXAMINER,
            "--host", "evil", "--out", bundle)
    t.check("export with hostile case fields: refused by logseald, no bundle left",
            p.returncode != 0 and b"refused" in p.stderr and not os.path.exists(bundle),
            p.stderr)
    check_text("the refusal's message", p.stderr, [])
    p = ctl("export", "--state-dir", app.state, "--case", CASE_OK, "--examiner", EXAMINER_OK,
            "--host", "evil", "--out", bundle)
    t.check("export: exit 0", p.returncode == 0, p.stderr)
    case_shown, exam_shown = CASE_OK, EXAMINER_OK
    check_text("export's own output", p.stdout, [case_shown])
    rep = open(os.path.join(bundle, "report.txt"), "rb").read()
    check_text("export report.txt", rep, list(SHOWN.values()) + [case_shown, exam_shown])
    p = verify(bundle)
    t.check("logseal-verify bundle: INTACT", p.returncode == 0, p.stdout[-2000:] + p.stderr)
    check_text("logseal-verify bundle text report", p.stdout,
               list(SHOWN.values()) + [case_shown, exam_shown])
    p = verify("--json", bundle)
    doc = json.loads(p.stdout)
    t.check("logseal-verify bundle --json: case and examiner exact",
            EXAMINER_OK in strings(doc) and CASE_OK in strings(doc), p.stdout[:3000])
    p = verify("--dump", bundle)
    check_text("logseal-verify bundle --dump (text)", p.stdout)

    # ---- the verifier's report of the archives (the custody record in the event list) ------
    p = ctl("key", "list", "--state-dir", app.state)
    key = p.stdout.decode().splitlines()[1].split()[0]
    p = ctl("key", "revoke", key, "--from-time", "2099-01-01T00:00:00Z", "--reason",
            "stolen \x1b[2J\u202eyrev\u202c, Peña", "--root-key",
            os.path.join(app.state, "root.key"), "--state-dir", app.state)
    t.check("key revoke with a hostile reason: exit 0", p.returncode == 0, p.stderr)
    p = ctl("key", "list", "--state-dir", app.state)
    check_text("key list", p.stdout, ["stolen \\x1b[2J\\u202Eyrev\\u202C, Peña",
                                      "from time 2099-01-01T00:00:00.000000000Z"])
    t.check("key list: no raw nanoseconds", b"4070908800000000000" not in p.stdout, p.stdout)
    app.stop()

    # an index of schema version 1 (a row per record, before records.identity), as an upgrade
    # finds it: the first opener makes it version 3 and indexes the archives again; the file
    # keeps its owner
    ixfile = os.path.join(app.state, "index", "index.sqlite")
    owner = os.stat(ixfile).st_uid
    db = sqlite3.connect(ixfile)
    db.executescript("""
        DROP TABLE batch_keys;
        CREATE TABLE records(seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,
          batch_no INTEGER NOT NULL, archive_no INTEGER NOT NULL, type INTEGER NOT NULL,
          transport INTEGER NOT NULL, peer TEXT, port INTEGER, conn_id INTEGER,
          flags INTEGER NOT NULL, facility INTEGER, severity INTEGER, host TEXT, app TEXT,
          procid TEXT, msgid TEXT, msg_time_ns INTEGER);
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()
    p = ctl("query", "--state-dir", app.state, "--identity", IDENT_ES)
    t.check("an index of schema version 1: query --identity finds the message (migrated)",
            p.returncode == 0 and p.stdout.endswith(b"identity spanish\n") and
            p.stdout.count(b"\n") == 1, (p.returncode, p.stdout, p.stderr))
    db = sqlite3.connect(ixfile)
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    db.close()
    t.check("... now schema version 3, same owner", version == ("3",) and
            os.stat(ixfile).st_uid == owner, (version, owner, os.stat(ixfile).st_uid))
    db = sqlite3.connect(ixfile)
    db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    p = ctl("query", "--state-dir", app.state)
    t.check("an index of an unknown schema version: query exit 1, says to reindex",
            p.returncode == 1 and b"schema version 7" in p.stderr and b"reindex" in p.stderr,
            (p.returncode, p.stderr))
    p = ctl("reindex", "--state-dir", app.state)
    t.check("reindex recreates it", p.returncode == 0, p.stderr)

    p = verify("--case", CASE, "--examiner", EXAMINER, os.path.join(app.state, "archives"))
    t.check("logseal-verify archives: exit 0 or 4", p.returncode in (0, 4), p.stderr)
    check_text("logseal-verify archives text report", p.stdout,
               [case_shown, exam_shown, "examiner=\"" + exam_shown + "\"",
                "case_id=\"" + case_shown + "\"",
                "CASO-Peña-\\x1b]0;pwned\\x07-2026", "Judge \\u202EeoD nhoJ\\u202C"])
    p = verify("--json", os.path.join(app.state, "archives"))
    doc = json.loads(p.stdout)
    t.check("logseal-verify archives --json: the custody case and examiner exact",
            EXAMINER_OK in strings(doc) and CASE_OK in strings(doc), p.stdout[:2000])
    p = verify("--dump", os.path.join(app.state, "archives"))
    check_text("logseal-verify --dump (text)", p.stdout)
    p = verify("--dump=raw", os.path.join(app.state, "archives"))
    t.check("logseal-verify --dump=raw to a pipe: the bytes as received",
            all(m + b"\n" in p.stdout for m in sent), p.stdout)
    rc, err = on_terminal([verify_bin, "--root-key", os.path.join(app.state, "root.pub"),
                           "--dump=raw", os.path.join(app.state, "archives")])
    t.check("logseal-verify --dump=raw to a terminal: refused (exit 2)", rc == 2, (rc, err))
finally:
    app.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
