#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Least privilege that fails closed (issue 14, items 5 and 6), through the real binaries.
#  - Started as root (as ./quickstart does), logseald runs as its user ([daemon] user; the
#    harness names nobody): uid, gid, no capability in any set (bounding and ambient too),
#    no_new_privs, for the ingest process and the signer; the state directory root made
#    becomes the user's (root.key stays root's); its Landlock rules grant /dev/null and
#    /dev/urandom, not the rest of /dev: a publish_command (which inherits all of it) cannot
#    read a block device, /dev/mem or even /dev/zero. Signing, a key rotation and a restart
#    still work; the START record says how the run was confined (SPEC §4.5).
#  - Without a user to run as (the default `logseal` missing), a root start is refused.
#  - Landlock unavailable (tests/daemon/nolandlock.c: a seccomp filter makes the Landlock
#    system calls fail with ENOSYS, EOPNOTSUPP or EPERM): the start is refused; with
#    `confine = no` it runs, and status and the START record say so.
#   argv: BUILD_DIR SRC_DIR NOLANDLOCK
import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import ROOT, ROOT_START_USER, Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
NOLANDLOCK = os.path.abspath(sys.argv[3])
LOGSEALD = os.path.join(BUILD, "daemon", "logseald")

if os.geteuid() != 0:
    print("1..0 # SKIP not root (the test is about a start as root)")
    sys.exit(77)

# SPEC §4.5 CONFINEMENT bits
LANDLOCK, DISABLED, NO_CAPS, BOUNDING_EMPTY, NNP, SIGNER = 1, 2, 4, 8, 16, 32
USER = pwd.getpwnam(ROOT_START_USER)
t = Tap()


def proc_status(pid):
    out = {}
    for line in open("/proc/%d/status" % pid):
        k, v = line.split(":", 1)
        out[k] = v.split()
    return out


def no_caps(st):
    return all(int(st[k][0], 16) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))


def send_tcp(app, msgs):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
    s.close()


def start_records(records_report):
    return [e for e in records_report.get("events", {}).get("list", []) if e["type"] == "start"]


def wait_for(path, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


work = tempfile.mkdtemp(prefix="logseal-priv-")
os.chmod(work, 0o755)
pub = os.path.join(work, "published")
os.mkdir(pub)
probe = os.path.join(work, "probe.sh")
devices = sorted(set(glob.glob("/dev/[vsh]d[a-z]") + glob.glob("/dev/nvme[0-9]n[0-9]")
                     + glob.glob("/dev/loop[0-9]") + glob.glob("/dev/zram[0-9]")
                     + [p for p in ("/dev/mem", "/dev/kmem", "/dev/port") if os.path.exists(p)]))
app = Appliance(BUILD, extra_conf="[checkpoint]\npublish_dir = %s\npublish_command = %s\n"
                "publish_interval = 1s\n" % (pub, probe), user=ROOT)
with open(probe, "w") as f:
    # runs as the daemon runs (its user, its confinement): one line per file it tries
    # (not >/dev/null: some machines have a /dev/null only root and tty may open)
    f.write("#!/bin/sh\nout=${PROBE_OUT:-%s/probe.out}; : >$out.tmp\n"
            "for d in %s /dev/zero /dev/urandom /dev/null %s/keys/signing.key; do\n"
            "  if head -c 1 \"$d\" >$out.junk 2>&1; then echo \"$d readable\"; "
            "else echo \"$d denied\"; fi >>$out.tmp\n"
            "done\nid -u >>$out.tmp\nmv $out.tmp $out\n" % (pub, " ".join(devices), app.state))
os.chmod(probe, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
app.own(pub)
apps = [app]
try:
    # ---- a root start, as ./quickstart does: `logsealctl init` and logseald as root ----
    t.check("the state directory was made by root (logsealctl init as root)",
            os.stat(app.state).st_uid == 0 and os.stat(os.path.join(app.state, "keys",
                                                                    "signing.key")).st_uid == 0)
    app.start()
    st = app.control("status")
    pid = app.proc.pid
    ps = proc_status(pid)
    t.check("logseald runs as %s: real, effective, saved and fs uid and gid" % ROOT_START_USER,
            ps["Uid"] == [str(USER.pw_uid)] * 4 and ps["Gid"] == [str(USER.pw_gid)] * 4,
            (ps["Uid"], ps["Gid"]))
    t.check("no supplementary groups", ps.get("Groups", []) == [], ps.get("Groups"))
    t.check("no capabilities: effective, permitted, inheritable, bounding, ambient all empty",
            no_caps(ps), {k: ps[k] for k in ps if k.startswith("Cap")})
    t.check("NoNewPrivs: 1", ps["NoNewPrivs"] == ["1"], ps["NoNewPrivs"])
    conf = st.get("confinement", {})
    sp = conf.get("signer_pid", 0)
    ss = proc_status(sp) if sp else {}
    t.check("the signer process too: the user, no capabilities, NoNewPrivs",
            ss and ss["Uid"] == [str(USER.pw_uid)] * 4 and no_caps(ss)
            and ss["NoNewPrivs"] == ["1"], ss and (ss["Uid"], ss["CapEff"], ss["CapBnd"]))
    t.check("status reports the uid, no capabilities, an empty bounding set, Landlock enforced",
            conf.get("uid") == USER.pw_uid and conf.get("no_capabilities") is True
            and conf.get("bounding_set_empty") is True and conf.get("enforced") is True
            and conf.get("disabled") is False, conf)
    p = subprocess.run([app.ctl(), "status", "--state-dir", app.state], capture_output=True,
                       text=True)
    t.check("logsealctl status shows it",
            "privileges:      uid %d, no capabilities" % USER.pw_uid in p.stdout, p.stdout)
    t.check("the state directory, keys/ and the key are the user's now; root.key stays root's",
            all(os.stat(os.path.join(app.state, n)).st_uid == USER.pw_uid
                for n in (".", "keys", "keys/signing.key", "keys/history.lsk", "archives", "wal",
                          "chain.id"))
            and os.stat(os.path.join(app.state, "root.key")).st_uid == 0)
    t.check("the control socket is the user's, mode 0600",
            os.stat(os.path.join(app.state, "control.sock")).st_uid == USER.pw_uid
            and stat.S_IMODE(os.stat(os.path.join(app.state, "control.sock")).st_mode) == 0o600)
    msgs = [b"<13>1 - priv app - - - root start %d" % i for i in range(300)]
    send_tcp(app, msgs)
    out = os.path.join(pub, "probe.out")
    t.check("publish_command ran (as the daemon runs)", wait_for(out), os.listdir(pub))
    res = dict(l.rsplit(" ", 1) for l in open(out).read().split("\n") if " " in l) \
        if os.path.exists(out) else {}
    uid_line = open(out).read().split("\n")[-2] if os.path.exists(out) else ""
    t.check("it runs as the user", uid_line == str(USER.pw_uid), uid_line)
    for dev in devices:
        t.check("%s cannot be read by the daemon" % dev, res.get(dev) == "denied", res.get(dev))
    t.check("no block device to try on this machine" if not any(
        d.startswith(("/dev/vd", "/dev/sd", "/dev/hd", "/dev/nvme")) for d in devices)
        else "a disk was among them (%s)" % ", ".join(devices), True)
    # the same probe as the user, unconfined: what the file modes alone allow
    plain = os.path.join(pub, "plain.out")
    subprocess.run(["setpriv", "--reuid=%d" % USER.pw_uid, "--regid=%d" % USER.pw_gid,
                    "--clear-groups", "--", probe], env=dict(os.environ, PROBE_OUT=plain),
                   cwd="/")
    base = dict(l.rsplit(" ", 1) for l in open(plain).read().split("\n") if " " in l) \
        if os.path.exists(plain) else {}
    t.check("/dev/zero, readable by the user, is out of reach of the daemon: /dev is no longer "
            "granted as a whole", base.get("/dev/zero") == "readable"
            and res.get("/dev/zero") == "denied", (base, res))
    t.check("/dev/urandom and /dev/null: as the file modes allow (granted by the rules)",
            res.get("/dev/urandom") == base.get("/dev/urandom") == "readable"
            and res.get("/dev/null") == base.get("/dev/null"), (base, res))
    t.check("keys/signing.key is not", res.get(app.state + "/keys/signing.key") == "denied", res)

    # signing goes on through a key rotation (the signer runs as the user and writes keys/)
    p = subprocess.run([app.ctl(), "key", "rotate", "--state-dir", app.state, "--root-key",
                        os.path.join(app.state, "root.key")], capture_output=True, text=True)
    t.check("key rotate (as root) with a daemon that dropped to its user",
            p.returncode == 0 and "took over at batch" in p.stdout, p.stdout + p.stderr)
    more = [b"<13>1 - priv app - - - after rotation %d" % i for i in range(100)]
    send_tcp(app, more)
    time.sleep(1.5)
    rc = app.stop()
    t.check("clean stop", rc == 0 and "stopped cleanly" in app.logtext(), app.logtext()[-800:])
    t.check("keys/ is still the user's after the rotation",
            all(os.stat(p).st_uid == USER.pw_uid
                for p in glob.glob(os.path.join(app.state, "keys", "*"))),
            [(p, os.stat(p).st_uid) for p in glob.glob(os.path.join(app.state, "keys", "*"))])
    # root writes into the state directory between runs (a file of root's): adopted again
    app.start()
    t.check("second root start", proc_status(app.proc.pid)["Uid"] == [str(USER.pw_uid)] * 4)
    send_tcp(app, [b"<13>1 - priv app - - - second run"])
    time.sleep(1)
    rc = app.stop()
    vrc, report, records = app.verify()
    got = [message_bytes(r) for r in records if r.get("type") == "syslog"]
    t.check("logseal-verify: intact", vrc == 0, report.get("findings"))
    t.check("every message sealed", [m for m in got if b" root start " in m] == msgs
            and [m for m in got if b"after rotation" in m] == more
            and any(b"second run" in m for m in got), len(got))
    starts = start_records(report)
    full = LANDLOCK | NO_CAPS | BOUNDING_EMPTY | NNP | SIGNER
    t.check("each START record: CONFINEMENT = Landlock, no capabilities, empty bounding set, "
            "no_new_privs, signer confined (%d), UID the user's" % full,
            len(starts) == 2 and all(s["fields"].get("confinement") == full
                                     and s["fields"].get("uid") == USER.pw_uid for s in starts),
            [s["fields"] for s in starts])

    # ---- no user to run as: refused ----
    if not any(u.pw_name == "logseal" for u in pwd.getpwall()):
        bare = os.path.join(work, "bare.conf")
        with open(bare, "w") as f:
            f.write("[batch]\nmax_latency = 200ms\n")
        p = subprocess.run([LOGSEALD, "--config", bare, "--state-dir", app.state, "--listen",
                            "tcp:127.0.0.1:%d" % app.port], capture_output=True, text=True,
                           timeout=30)
        t.check("started as root without a user to run as (default logseal, missing): refused, "
                "naming useradd", p.returncode != 0 and "useradd" in p.stderr
                and "user =" in p.stderr, p.stderr)
    root_conf = os.path.join(work, "root.conf")
    with open(root_conf, "w") as f:
        f.write("[daemon]\nuser = root\n")
    p = subprocess.run([LOGSEALD, "--config", root_conf, "--state-dir", app.state, "--listen",
                        "tcp:127.0.0.1:%d" % app.port], capture_output=True, text=True, timeout=30)
    t.check("user = root is refused", p.returncode != 0 and "does not run as root" in p.stderr,
            p.stderr)

    # ---- Landlock unavailable: fail closed ----
    off = Appliance(BUILD, user=ROOT)
    apps.append(off)
    for err in ("ENOSYS", "EOPNOTSUPP", "EPERM"):
        try:
            off.start(wrapper=[NOLANDLOCK, err])
            started = True
            off.stop(timeout=30)
        except RuntimeError:
            started = False
        log = off.logtext()
        t.check("Landlock failing with %s: the start is refused" % err,
                not started and "refusing to run without file-system confinement" in log
                and "confine = no" in log, log[-600:])
    with open(off.conf, "a") as f:
        f.write("[daemon]\nconfine = no\n")
    off.start(wrapper=[NOLANDLOCK, "ENOSYS"])
    conf = off.control("status").get("confinement", {})
    t.check("with confine = no it starts; status: not enforced, disabled, no Landlock",
            conf.get("enforced") is False and conf.get("disabled") is True
            and conf.get("landlock_abi") == 0 and conf.get("signer_confined") is False, conf)
    p = subprocess.run([off.ctl(), "status", "--state-dir", off.state], capture_output=True,
                       text=True)
    t.check("logsealctl status: NOT enforced: confine = no",
            "confinement:     NOT enforced: confine = no" in p.stdout, p.stdout)
    t.check("and it dropped its privileges all the same",
            no_caps(proc_status(off.proc.pid)) and conf.get("uid") == USER.pw_uid, conf)
    send_tcp(off, [b"<13>1 - priv app - - - unconfined"])
    time.sleep(1)
    rc = off.stop()
    vrc, report, records = off.verify()
    starts = start_records(report)
    t.check("the refused starts sealed nothing: one START, the unconfined run's",
            rc == 0 and vrc == 0 and len(starts) == 1, (rc, vrc, len(starts)))
    f = starts[0]["fields"] if starts else {}
    t.check("its START record says so: CONFINEMENT without Landlock, with DISABLED, and a text",
            f.get("confinement", 0) & (LANDLOCK | DISABLED | SIGNER) == DISABLED
            and f.get("confinement", 0) & NO_CAPS and "confine = no" in f.get("text", ""), f)
    notes = [x for x in report.get("findings", []) if x.get("check") == "confinement"]
    t.check("logseal-verify notes the unconfined run once (class note: the verdict stays intact)",
            vrc == 0 and len(notes) == 1 and notes[0].get("class") == "note"
            and "confine = no" in notes[0].get("detail", ""), report.get("findings"))
finally:
    if t.failed:
        for a in apps:
            print("# logseald log:\n# " + a.logtext()[-3000:].replace("\n", "\n# "))
    for a in apps:
        a.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
