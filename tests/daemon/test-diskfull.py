#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Disk full: the archive volume (a 64 MiB tmpfs in a private mount namespace) fills up while
# TCP and UDP senders run. logseald must keep running, stop reading TCP (back-pressure) rather
# than drop, let the kernel drop UDP and declare exactly that loss, resume by itself when space
# returns, and leave archives that verify. Skipped (77) where mount namespaces are unavailable.
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = sys.argv[1]
if "--inner" not in sys.argv:
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        print("1..0 # SKIP needs root and mount namespaces")
        sys.exit(77)
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable,
                          os.path.abspath(__file__), BUILD, "--inner"])

t = Tap()
app = Appliance(BUILD, extra_conf="[daemon]\nqueue_max_size = 1M\n")
arch = os.path.join(app.state, "archives")
# the archive volume is the daemon's user's, as the state directory it is mounted in
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=64m,mode=0750,uid={app.user},gid={app.user}",
                "tmpfs", arch], check=True)
filler = os.path.join(arch, "filler")
try:
    with open(filler, "wb") as f:
        f.write(os.urandom(64 * 1024 * 1024 - 300 * 1024))  # leave ~300 KiB
except OSError:
    pass
try:
    app.start()
    N_TCP = 30000
    tcp_msgs = [b"<13>1 - host app - - - tcp %06d " % i + os.urandom(300).hex().encode()
                for i in range(N_TCP)]
    progress = {"sent": 0, "done": False}

    def tcp_sender():
        s = socket.create_connection(("127.0.0.1", app.port))
        for i, m in enumerate(tcp_msgs):
            s.sendall(b"%d %s" % (len(m), m))
            progress["sent"] = i + 1
        s.close()
        progress["done"] = True

    th = threading.Thread(target=tcp_sender, daemon=True)
    th.start()
    # Wait for the archive volume to fill and the sender to stall.
    stalled_at = None
    for _ in range(300):
        time.sleep(0.1)
        if "No space left" in app.logtext():
            stalled_at = progress["sent"]
            break
    t.check("the archive write failure is reported (disk full)", stalled_at is not None,
            app.logtext()[-500:])
    time.sleep(3)
    t.check("TCP is back-pressured, not dropped: the sender stalls while the disk is full",
            not progress["done"] and progress["sent"] < N_TCP, progress)
    # UDP while full: the daemon does not read, the kernel drops and counts.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n_udp = 0
    for i in range(12000):
        u.sendto(b"<13>udp while full %06d " % i + b"x" * 900, ("127.0.0.1", app.port))
        n_udp += 1
    t.check("logseald is still running while the disk is full", app.proc.poll() is None)
    os.unlink(filler)
    th.join(timeout=120)
    t.check("ingest resumes by itself when space returns", progress["done"], progress)
    # one more datagram after resuming carries the kernel's drop counter
    time.sleep(1.5)
    u.sendto(b"<13>udp after", ("127.0.0.1", app.port))
    n_udp += 1
    time.sleep(2.5)
    rc = app.stop()
    t.check("clean stop after the disk-full episode", rc == 0, app.logtext()[-800:])
    rc, report, records = app.verify()
    t.check("archives verify (exit 0)", rc == 0, report.get("findings", report))
    got_tcp = [message_bytes(r) for r in records if r["type"] == "syslog" and r["transport"] == "tcp"]
    t.check("every TCP message sealed, in order", got_tcp == tcp_msgs, (len(got_tcp), N_TCP))
    got_udp = sum(1 for r in records if r["type"] == "syslog" and r["transport"] == "udp")
    losses = [e for e in report["events"]["list"] if e["type"] == "loss"]
    declared = sum(e["fields"]["count"] for e in losses if e["fields"].get("cause") == "udp-overflow")
    print(f"# UDP sent {n_udp}, sealed {got_udp}, declared lost {declared}")
    t.check("UDP loss declared in the chain, matching the kernel's drop count exactly",
            declared > 0 and got_udp + declared == n_udp, (n_udp, got_udp, declared))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    if app.proc and app.proc.poll() is None:
        app.proc.kill()
    subprocess.run(["umount", "-l", arch])
    app.close()
sys.exit(t.done())
