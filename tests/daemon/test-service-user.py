#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The daemon as the packages run it: logseald as an unprivileged user (not root, no
# capabilities) on a state directory that user owns, stopped and started again and again.
# SIGTERM seals the active archive read-only (0440); every later start must recover from it
# (issue 13, item 1: recovery opened the last archive for writing and failed with EACCES).
# Also: kill -9 while streaming (recovery of an open archive), archive rotation. In the end
# logseal-verify says INTACT and every TCP message is sealed exactly once, in order.
# Then item 4: a state directory that is not the service user's gets a message that names
# the chown (not "run logsealctl init"), and one made by `logsealctl init --user` runs.
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, free_port, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
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

# Ownership (issue 13, item 4): what the service user is told about a state directory that is
# not its own, and a directory made with `logsealctl init --user` that just works.
CTL = os.path.join(BUILD, "daemon", "logsealctl")
LOGSEALD = os.path.join(BUILD, "daemon", "logseald")
NAME = pwd.getpwuid(UID).pw_name


def run_as_user(args, timeout=30):
    return subprocess.run(["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--"]
                          + args, capture_output=True, timeout=timeout, cwd="/")


with tempfile.TemporaryDirectory(prefix="logseal-owner-") as work:
    os.chmod(work, 0o755)
    port = free_port()
    listen = ["--listen", f"tcp:127.0.0.1:{port}"]

    # init as root, then only the directory handed over (what tmpfiles.d + a root init left).
    s1 = os.path.join(work, "root-made")
    subprocess.run([CTL, "init", "--state-dir", s1, "--no-passphrase"], check=True,
                   capture_output=True)
    os.chown(s1, UID, UID)
    p = run_as_user([LOGSEALD, "--state-dir", s1] + listen)
    err = p.stderr.decode(errors="replace")
    t.check("a state directory with root's files: logseald refuses to start", p.returncode != 0,
            err)
    t.check("... and names the file and the chown, not `logsealctl init`",
            "chown -R " in err and "belongs to root" in err and "Run `logsealctl init" not in err,
            err)

    # A directory the user cannot even open.
    s2 = os.path.join(work, "root-dir")
    subprocess.run([CTL, "init", "--state-dir", s2, "--no-passphrase"], check=True,
                   capture_output=True)
    os.chmod(s2, 0o700)
    p = run_as_user([LOGSEALD, "--state-dir", s2] + listen)
    err = p.stderr.decode(errors="replace")
    t.check("a root-owned 0700 state directory: the message names the chown, not init",
            p.returncode != 0 and "chown -R " in err and "Run `logsealctl init" not in err, err)

    # A missing one: that is what init is for.
    p = run_as_user([LOGSEALD, "--state-dir", os.path.join(work, "missing")] + listen)
    err = p.stderr.decode(errors="replace")
    t.check("a missing state directory: the message says to run logsealctl init",
            p.returncode != 0 and "logsealctl init" in err, err)

    # `logsealctl init --user` as root: the service user runs it, stops, starts again.
    s3 = os.path.join(work, "init-user")
    p = subprocess.run([CTL, "init", "--state-dir", s3, "--no-passphrase", "--user", NAME],
                       capture_output=True)
    t.check(f"logsealctl init --user {NAME}", p.returncode == 0, p.stderr)

    def start_stop(state):
        """logseald as the user on state: up, then SIGTERM; (it listened, exit 0, its output)."""
        d = subprocess.Popen(["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
                              "--", LOGSEALD, "--state-dir", state] + listen,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")
        up = False
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                up = True
                break
            except OSError:
                if d.poll() is not None:
                    break
                time.sleep(0.05)
        d.send_signal(signal.SIGTERM)
        out = d.communicate(timeout=60)[0].decode(errors="replace")
        return up and d.returncode == 0, out[-400:]

    for k in range(2):
        ok, out = start_stop(s3)
        t.check(f"start {k + 1} as {NAME} on a directory from init --user, SIGTERM, exit 0",
                ok, out)

    # logsealctl as root on the user's state directory, the way an admin runs it: reindex and
    # query make the search index when there is none (derived data, removed here). What they
    # create is the user's: logseald writes the index, and refuses root's files at start.
    def foreign_in_index():
        ix = os.path.join(s3, "index")
        return [(n, os.lstat(os.path.join(ix, n) if n else ix).st_uid)
                for n in [""] + os.listdir(ix)
                if os.lstat(os.path.join(ix, n) if n else ix).st_uid != UID]

    for n in os.listdir(os.path.join(s3, "index")):
        os.unlink(os.path.join(s3, "index", n))
    p = subprocess.run([CTL, "reindex", "--state-dir", s3], capture_output=True)
    t.check("logsealctl reindex as root, no index: it makes one", p.returncode == 0, p.stderr)
    t.check(f"... and what it made belongs to {NAME}", not foreign_in_index(), foreign_in_index())
    ok, out = start_stop(s3)
    t.check(f"logseald as {NAME} runs after a reindex by root", ok, out)

    shutil.rmtree(os.path.join(s3, "index"))   # a state directory of a version without index/
    p = subprocess.run([CTL, "reindex", "--state-dir", s3], capture_output=True)
    t.check("logsealctl reindex as root, no index/: it makes one", p.returncode == 0, p.stderr)
    t.check(f"... index/ and what is in it belong to {NAME}",
            os.path.isdir(os.path.join(s3, "index")) and not foreign_in_index(),
            os.path.isdir(os.path.join(s3, "index")) and foreign_in_index())
    ok, out = start_stop(s3)
    t.check(f"logseald as {NAME} runs after that", ok, out)
    p = subprocess.run([CTL, "query", "--state-dir", s3], capture_output=True)
    t.check("logsealctl query as root, then: it finds the messages, the index is still "
            f"{NAME}'s", p.returncode == 0 and not foreign_in_index(), (p.stderr, foreign_in_index()))
    ok, out = start_stop(s3)
    t.check(f"logseald as {NAME} runs after a query by root", ok, out)

sys.exit(t.done())
