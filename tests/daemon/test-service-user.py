#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The daemon as the packages run it: logseald as an unprivileged user (not root, no
# capabilities) on a state directory that user owns, stopped and started again and again.
# SIGTERM seals the active archive read-only (0440); every later start must recover from it
# (issue 13, item 1: recovery opened the last archive for writing and failed with EACCES).
# Also: kill -9 while streaming (recovery of an open archive), archive rotation. In the end
# logseal-verify says INTACT and every TCP message is sealed exactly once, in order.
import os
import signal
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = sys.argv[1]
UID = 65534  # nobody/nogroup on Debian: no file of this test's is its own but the state
t = Tap()

if os.geteuid() != 0:
    print("1..0 # SKIP not root (needs to run logseald as another user)")
    sys.exit(77)


def send_tcp(conn, msgs):
    conn.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))


def wait_status(app, key, n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if app.control("status").get(key, 0) >= n:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def proc_uid(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("Uid:"):
            return [int(x) for x in line.split()[1:]]
    return None


# max_age 1s: archives also rotate (and are sealed 0440) while the daemon runs.
app = Appliance(BUILD, extra_conf="[archive]\nmax_age = 1s\n", user=UID)
sent = []
try:
    rounds = 0
    for i in range(6):
        try:
            app.start()
        except RuntimeError as e:
            t.check(f"start {i + 1} as uid {UID}", False, str(e)[-300:])
            break
        if i == 0:
            t.check(f"logseald runs as uid {UID} (real, effective, saved, fs)",
                    proc_uid(app.proc.pid) == [UID] * 4, proc_uid(app.proc.pid))
        msgs = [b"<14>1 - h app - - - service-user round %d message %d %s" % (i, k, b"x" * 200)
                for k in range(400)]
        c = socket.create_connection(("127.0.0.1", app.port))
        ok = True
        if i in (1, 4):
            # Past max_age: the batch after the pause seals the archive (rotation), the
            # messages after it go to a new one.
            send_tcp(c, msgs[:100])
            time.sleep(1.5)
            send_tcp(c, msgs[100:200])
            ok = wait_status(app, "archives_sealed", 1)
        elif i == 3:
            # An open archive with batches in it, and records still only in the WAL, when
            # the daemon is killed below.
            send_tcp(c, msgs[:200])
            ok = wait_status(app, "sealed", 200)
        send_tcp(c, msgs[200 if i in (1, 3, 4) else 0:])
        c.close()
        sent += msgs
        ok = wait_status(app, "received", len(msgs)) and ok
        if i == 3:
            # Killed while the archive is open: the next start (as the service user) reopens
            # it for writing, seals it, and re-seals from the WAL what it did not hold.
            rc = app.stop(signal.SIGKILL)
            t.check(f"round {i + 1}: {len(msgs)} messages read, then kill -9", ok, rc)
        else:
            rc = app.stop()
            t.check(f"round {i + 1}: {len(msgs)} messages, SIGTERM, exit 0", ok and rc == 0,
                    (ok, rc, app.logtext()[-400:]))
            archives = os.listdir(os.path.join(app.state, "archives"))
            modes = {stat.S_IMODE(os.stat(os.path.join(app.state, "archives", a)).st_mode)
                     for a in archives}
            if i == 0:
                t.check("SIGTERM left every archive read-only (0440)", modes == {0o440},
                        sorted(oct(m) for m in modes))
        rounds += 1
    t.check("six starts as the service user, after SIGTERM, rotation and kill -9", rounds == 6,
            app.logtext()[-800:])

    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0)", rc == 0, report)
    got = [message_bytes(r) for r in records if r.get("type") == "syslog"]
    t.check(f"every one of the {len(sent)} TCP messages sealed exactly once, in order",
            got == sent, (len(got), len(sent),
                          next(((k, got[k][:60], sent[k][:60]) for k in range(min(len(got), len(sent)))
                                if got[k] != sent[k]), None)))
    narch = len(os.listdir(os.path.join(app.state, "archives")))
    t.check(f"archives rotated while running as the service user ({narch})", narch >= 7, narch)
finally:
    app.close()
sys.exit(t.done())
