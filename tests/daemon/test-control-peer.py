#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The control socket (issue 14, item 7), through the real binaries: it serves root and the
# daemon's user only (SO_PEERCRED; another uid that gets past the socket's mode, here with
# CAP_DAC_OVERRIDE, is refused and logged); a CUSTODY record a client sends is checked field
# by field (SPEC §4.4: text without controls, bidirectional formatting or invalid UTF-8, only
# the fields a client may state, an action a client performs) and sealed with the PID and
# UID the kernel gives for the client, and the command line logsealctl states.
#   argv: BUILD_DIR SRC_DIR NOLANDLOCK
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
if os.geteuid() != 0:
    print("1..0 # SKIP not root (connects as other users)")
    sys.exit(77)
if not shutil.which("setpriv"):
    print("1..0 # SKIP no setpriv")
    sys.exit(77)

OTHER = 4242   # a uid that is neither root nor the daemon's
COUNT, TEXT, CASE_ID, EXAMINER, FILTER, MANIFEST_HASH, ACTION = 1, 5, 11, 12, 13, 14, 15
PID, UID, COMMAND, UNKNOWN = 26, 30, 31, 40
t = Tap()


def body(*fields):
    """A CUSTODY control body (SPEC §4): (tag, bytes) in increasing tag order."""
    b = struct.pack("<HH", 8, 0)
    for tag, v in fields:
        b += struct.pack("<HH", tag, len(v)) + v
    return b


def action(a):
    return (ACTION, struct.pack("<H", a))


def as_user(uid, line, caps=False):
    """One control-socket request from a process of uid (with CAP_DAC_OVERRIDE when caps);
    its reply and that process's pid."""
    code = ("import json,os,socket,sys\n"
            "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
            "s.sendall(sys.argv[2].encode()+b'\\n'); d=b''\n"
            "while True:\n  x=s.recv(65536)\n  if not x: break\n  d+=x\n"
            "print(json.dumps({'pid': os.getpid(), 'reply': d.decode()}))\n")
    cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
    if caps:
        cmd += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    p = subprocess.run(cmd + ["--", py, "-c", code,
                              os.path.join(app.state, "control.sock"), line],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return {"connect_error": p.stderr.strip().splitlines()[-1:]}, None
    out = json.loads(p.stdout)
    return json.loads(out["reply"] or "{}"), out["pid"]


app = Appliance(BUILD)
daemon_uid = app.daemon_uid()
try:
    app.start()
    # ---- who may talk to it ----
    st = app.control("status")
    t.check("root is served", "chain_id" in st, st)
    r, _ = as_user(daemon_uid, "status")
    t.check("the daemon's own user (uid %d) is served" % daemon_uid, "chain_id" in r, r)
    r, _ = as_user(OTHER, "status")
    t.check("another uid cannot even connect (socket mode 0600)", "connect_error" in r, r)
    r, _ = as_user(OTHER, "status", caps=True)
    t.check("another uid past the mode (CAP_DAC_OVERRIDE) is refused by SO_PEERCRED",
            "permission denied" in r.get("error", "") and "chain_id" not in r, r)
    hexed = body((CASE_ID, b"forged-case"), (EXAMINER, b"nobody"), action(1)).hex()
    r, _ = as_user(OTHER, "custody " + hexed, caps=True)
    t.check("and cannot seal a custody record", "permission denied" in r.get("error", ""), r)
    t.check("the daemon logged the refusal", "refused uid %d" % OTHER in app.logtext(),
            app.logtext()[-400:])

    # ---- what a custody record may hold ----
    bad = [
        ("a right-to-left override in the examiner",
         body((EXAMINER, "Judge \u202eeoD nhoJ\u202c".encode()), action(4))),
        ("an escape sequence in the case", body((CASE_ID, b"\x1b[2Jcase"), action(4))),
        ("a C1 control in the text", body((TEXT, "x\u009by".encode()), action(4))),
        ("invalid UTF-8 in the filter", body((FILTER, b"host=\xff\xfe"), action(2))),
        ("a newline in the command", body(action(2), (COMMAND, b"logsealctl\nVERDICT: INTACT"))),
        ("the daemon's own action (checkpoint published)", body((COUNT, b"\0" * 8), action(5))),
        ("an unknown action", body(action(77))),
        ("a PID of the client's choosing", body(action(4), (PID, struct.pack("<I", 1)))),
        ("a UID of the client's choosing", body(action(4), (UID, struct.pack("<I", 0)))),
        ("a field no custody record has", body(action(4), (UNKNOWN, b"x"))),
        ("an over-long examiner", body((EXAMINER, b"e" * 257), action(4))),
    ]
    for name, b in bad:
        r = app.control("custody " + b.hex())
        t.check("refused: " + name, "error" in r and "ok" not in r, r)
    good = body((TEXT, "verification run".encode()), (CASE_ID, b"C-2026-7"),
                (EXAMINER, "J. M\u00fcller".encode()), action(4))
    r, client_pid = as_user(daemon_uid, "custody " + good.hex())
    t.check("a clean record from the daemon's user is sealed", r.get("ok") is True, r)

    # logsealctl states its command line; the daemon adds who ran it
    hostile = subprocess.run([app.ctl(), "verify", "--state-dir", app.state, "--case", "C-9",
                              "--examiner", "Judge \u202eeoD nhoJ"], capture_output=True,
                             text=True, timeout=120)
    t.check("logsealctl verify with a bidi override in the examiner: NOT sealed, it says so",
            "was NOT sealed" in hostile.stderr and "custody record refused" in hostile.stderr,
            hostile.stderr)
    p = subprocess.Popen([app.ctl(), "verify", "--state-dir", app.state, "--case", "C\\2026-8",
                          "--examiner", "E. Xaminer"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    t.check("logsealctl verify seals its custody record", "custody record (verify) sealed" in err,
            err)
    time.sleep(1)
    rc = app.stop()
    vrc, report, records = app.verify()
    t.check("clean stop, the chain verifies", rc == 0 and vrc == 0, (rc, vrc))
    cust = [e["fields"] for e in report.get("events", {}).get("list", [])
            if e["type"] == "custody"]
    t.check("exactly the two accepted custody records are in the chain",
            [c.get("case_id") for c in cust] == ["C-2026-7", "C\\2026-8"], cust)
    c1 = cust[0] if cust else {}
    t.check("the raw one carries the client's uid and pid from the kernel",
            c1.get("uid") == daemon_uid and c1.get("pid") == client_pid
            and c1.get("examiner") == "J. M\u00fcller", c1)
    c2 = cust[1] if len(cust) > 1 else {}
    t.check("logsealctl's carries uid 0, its pid and its command line",
            c2.get("uid") == 0 and c2.get("pid") == p.pid
            and c2.get("command", "").endswith("logsealctl verify --state-dir %s --case "
                                               "C\\\\2026-8 --examiner 'E. Xaminer'"
                                               % app.state), c2)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
