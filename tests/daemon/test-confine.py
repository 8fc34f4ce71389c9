#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# File-system confinement (daemon/confine.c): once started, logseald reaches STATE/archives,
# wal and index only, never keys/. The daemon reports it (`logsealctl status`, the control
# socket's status), sets no_new_privs, still takes TCP and UDP, indexes, publishes, stops
# cleanly and restarts; the publish_command it runs is confined too. With
# `[daemon] confine = no` nothing is enforced and the status says so.
#   argv: BUILD_DIR SRC_DIR; exit 77 when the kernel has no Landlock
import ctypes
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])

SYS_landlock_create_ruleset = 444  # the same number on every architecture
libc = ctypes.CDLL(None, use_errno=True)
kernel_abi = libc.syscall(ctypes.c_long(SYS_landlock_create_ruleset), None, ctypes.c_size_t(0),
                          ctypes.c_uint32(1))
if kernel_abi <= 0:
    print("1..0 # SKIP the kernel has no Landlock (errno %d)" % ctypes.get_errno())
    sys.exit(77)

t = Tap()


def status_json(app):
    return app.control("status")


def proc_status(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def send_tcp(app, msgs):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
    s.close()


def send_udp(app, msgs):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i, m in enumerate(msgs):
        u.sendto(m, ("127.0.0.1", app.port))
        if i % 10 == 9:
            time.sleep(0.01)
    u.close()


def bodies(records):
    return [message_bytes(r) for r in records if r.get("type") == "syslog"]


work = tempfile.mkdtemp(prefix="logseal-confine-")
pub = os.path.join(work, "published")
os.mkdir(pub)
# the command tries to read the signing key: it inherits the daemon's confinement
probe = os.path.join(work, "probe.sh")
app = Appliance(BUILD, extra_conf="[checkpoint]\npublish_dir = %s\npublish_command = %s\n"
                "publish_interval = 1s\n" % (pub, probe))
with open(probe, "w") as f:
    f.write("#!/bin/sh\ncat %s/keys/signing.key >%s/leak 2>/dev/null\necho $? >%s/probe.rc\n"
            "cp \"$1\" %s/ 2>/dev/null\necho $? >%s/outside.rc\n"
            % (app.state, pub, pub, work, pub))
os.chmod(probe, stat.S_IRWXU)
app.own(work)
off = None
try:
    app.start()
    st = status_json(app)
    conf = st.get("confinement", {})
    t.check("status reports the kernel's Landlock ABI", conf.get("landlock_abi") == kernel_abi,
            (conf, kernel_abi))
    t.check("status: confinement enforced", conf.get("enforced") is True, conf)
    t.check("status: the signing key is not readable by the daemon",
            conf.get("keys_readable") is False, conf)
    t.check("status: no_new_privs", conf.get("no_new_privs") is True, conf)
    t.check("status: the sealing thread (started after the confinement) cannot open the key "
            "either", conf.get("sealer_keys_readable") is False, conf)
    t.check("status: the signer process confined itself to keys/",
            conf.get("signer_confined") is True, conf)
    t.check("the signer has NoNewPrivs: 1 too",
            proc_status(conf.get("signer_pid", 0), "NoNewPrivs") == "1",
            proc_status(conf.get("signer_pid", 0), "NoNewPrivs"))
    t.check("the kernel agrees: NoNewPrivs: 1 in /proc/PID/status",
            proc_status(app.proc.pid, "NoNewPrivs") == "1", proc_status(app.proc.pid, "NoNewPrivs"))
    p = subprocess.run([app.ctl(), "status", "--state-dir", app.state], capture_output=True,
                       text=True)
    t.check("logsealctl status shows it",
            p.returncode == 0 and "confinement:     enforced (Landlock ABI %d); keys not readable"
            % kernel_abi in p.stdout, p.stdout + p.stderr)
    t.check("the daemon logged its confinement", "confined (Landlock ABI %d)" % kernel_abi
            in app.logtext(), app.logtext()[-500:])

    tcp = [b"<13>1 - conf app - - - tcp %d" % i for i in range(500)]
    udp = [b"<13>1 - conf app - - - udp %d" % i for i in range(50)]
    send_tcp(app, tcp)
    send_udp(app, udp)
    time.sleep(2.5)
    p = subprocess.run([app.ctl(), "reindex", "--state-dir", app.state], capture_output=True,
                       text=True)
    t.check("reindex while the confined daemon runs: exit 0", p.returncode == 0, p.stderr)
    q = subprocess.run([app.ctl(), "query", "--state-dir", app.state, "--host", "conf"],
                       capture_output=True)
    t.check("the index holds every message", q.returncode == 0 and
            q.stdout.count(b"\n") == len(tcp) + len(udp), (q.returncode, q.stdout.count(b"\n")))
    t.check("checkpoints are published to publish_dir",
            os.path.exists(os.path.join(pub, "latest.txt")), os.listdir(pub))
    rc_file = os.path.join(pub, "probe.rc")
    leak = os.path.join(pub, "leak")
    t.check("publish_command ran, confined: it cannot read keys/signing.key",
            os.path.exists(rc_file) and open(rc_file).read().strip() != "0"
            and os.path.exists(leak) and os.path.getsize(leak) == 0,
            (os.listdir(pub), open(rc_file).read() if os.path.exists(rc_file) else None))
    out_rc = os.path.join(pub, "outside.rc")
    t.check("nor write outside publish_dir",
            os.path.exists(out_rc) and open(out_rc).read().strip() != "0"
            and not any(f.startswith("checkpoint-") for f in os.listdir(work)),
            os.listdir(work))

    rc = app.stop()
    t.check("clean stop", rc == 0 and "stopped cleanly" in app.logtext(), app.logtext()[-500:])
    app.start()
    st = status_json(app)
    t.check("restart (over the control socket left behind): confined again",
            st.get("confinement", {}).get("enforced") is True, st.get("confinement"))
    more = [b"<13>1 - conf app - - - again %d" % i for i in range(100)]
    send_tcp(app, more)
    time.sleep(1.5)
    rc = app.stop()
    t.check("second clean stop", rc == 0, app.logtext()[-500:])

    rc, report, records = app.verify()
    got = bodies(records)
    t.check("logseal-verify: the chain verifies", rc == 0, report.get("findings"))
    t.check("every TCP message sealed, in order", [m for m in got if b" tcp " in m] == tcp,
            len([m for m in got if b" tcp " in m]))
    t.check("every UDP message sealed", sorted(m for m in got if b" udp " in m) == sorted(udp),
            len([m for m in got if b" udp " in m]))
    t.check("and those of the second run", [m for m in got if b" again " in m] == more)

    # the switch: [daemon] confine = no
    off = Appliance(BUILD, extra_conf="[daemon]\nconfine = no\n")
    off.start()
    conf = status_json(off).get("confinement", {})
    t.check("confine = no: not enforced, said so, the keys readable; no_new_privs all the same",
            conf.get("enforced") is False and conf.get("disabled") is True
            and conf.get("keys_readable") is True
            and conf.get("sealer_keys_readable") is True
            and conf.get("no_new_privs") is True and conf.get("landlock_abi") == kernel_abi, conf)
    p = subprocess.run([off.ctl(), "status", "--state-dir", off.state], capture_output=True,
                       text=True)
    t.check("logsealctl status says NOT enforced", "confinement:     NOT enforced" in p.stdout,
            p.stdout)
    t.check("and the daemon logged why", "confine = no" in off.logtext(), off.logtext()[-300:])
    send_tcp(off, tcp[:20])
    time.sleep(1)
    rc = off.stop()
    vrc, _, recs = off.verify()
    t.check("unconfined: clean stop, chain verifies, messages sealed",
            rc == 0 and vrc == 0 and [m for m in bodies(recs) if b" tcp " in m] == tcp[:20],
            (rc, vrc))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
    if off:
        off.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
