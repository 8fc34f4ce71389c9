#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# [batch] compression_level = auto (the default, issue 16 item 1), through the real logseald as
# an unprivileged user: small batches (a quiet appliance) are compressed at a high zstd level,
# a backlog (a flood the sealer cannot keep up with) drops to level 1 at once, and the level
# climbs back once the flood is over; a fixed level is kept as configured. The archives of the
# same trickle are smaller with auto than at level 1, and every chain verifies (batches of one
# archive compressed at different levels, with and without the archive's dictionary).
import glob
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = sys.argv[1]
t = Tap()
# A dictionary early (the flood passes 256 KiB at once), so that later batches use one.
CONF = "[archive]\ndictionary_after = 256K\n"

random.seed(7)
WORDS = ("session opened closed user root sshd kernel eth0 link up down accepted failed "
         "password for invalid from port ssh2 disconnect timeout connection reset by peer "
         "cron job started finished exit status DHCPREQUEST DHCPACK lease renew").split()


def line(i):
    host = f"host{i % 7}"
    app = random.choice(("sshd", "kernel", "CRON", "dhclient", "systemd"))
    text = " ".join(random.choice(WORDS) for _ in range(random.randint(6, 18)))
    return f"<38>1 2026-12-03T10:00:{i % 60:02d}.{i % 1000:03d}Z {host} {app} {1000 + i % 300} - - {text} {i}".encode()


TRICKLE = [line(i) for i in range(4000)]


def send(app, msgs):
    with socket.create_connection(("127.0.0.1", app.port)) as s:
        s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))


def trickle(app, bursts=20, per=100, gap=0.25):
    """Bursts a batch apart (max_latency 200 ms in tests): batches of about 10 KB."""
    for k in range(bursts):
        send(app, TRICKLE[k * per:(k + 1) * per])
        time.sleep(gap)


def status(app):
    return app.control("status")


def archive_bytes(app):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(app.state, "archives", "*")))


def flood(port, deadline):
    blob = b"".join(b"%d %s" % (len(m), m) for m in
                    (b"<13>1 2026-01-01T00:00:00Z flood app - - - " + os.urandom(480).hex().encode()
                     for _ in range(2000)))
    with socket.create_connection(("127.0.0.1", port)) as s:
        while time.monotonic() < deadline:
            s.sendall(blob)


# ---- auto: high level when quiet, 1 under a backlog, back up after ----
app = Appliance(BUILD, extra_conf=CONF)
try:
    app.start()
    trickle(app, bursts=12)
    st = status(app)
    t.check("auto: the default; a quiet appliance compresses at level 19",
            st.get("compression_auto") is True and st.get("compression_level") == 19,
            {k: st.get(k) for k in ("compression_auto", "compression_level")})
    out = subprocess.run([app.ctl(), "status", "--state-dir", app.state], capture_output=True,
                         text=True).stdout
    t.check("auto: logsealctl status names the level and why",
            "zstd level 19 (auto: by batch size and backlog)" in out, out)

    deadline = time.monotonic() + 6
    ths = [threading.Thread(target=flood, args=(app.port, deadline)) for _ in range(2)]
    for th in ths:
        th.start()
    seen, backlog_max = set(), 0
    while time.monotonic() < deadline:
        st = status(app)
        seen.add(st.get("compression_level"))
        backlog_max = max(backlog_max, st.get("backlog_bytes", 0))
        time.sleep(0.05)
    for th in ths:
        th.join()
    print(f"# levels seen during the flood: {sorted(x for x in seen if x)}, backlog up to "
          f"{backlog_max} bytes")
    t.check("auto: under a backlog the sealer compresses at level 1",
            1 in seen, (sorted(x for x in seen if x), backlog_max))
    # The flood drains, then a trickle: a higher level after AUTO_RISE (8) calm batches.
    for _ in range(120):
        if status(app).get("backlog_bytes", 1) == 0:
            break
        time.sleep(0.5)
    trickle(app, bursts=14)
    st = status(app)
    t.check("auto: back to level 19 once the backlog is gone and batches are small again",
            st.get("compression_level") == 19, st.get("compression_level"))
    rc = app.stop()
    t.check("auto: logseald stops cleanly", rc == 0, app.logtext()[-800:])
    rc, report, records = app.verify()
    t.check("auto: the chain verifies intact (levels 1 to 19 in one archive, with a dictionary)",
            rc == 0, (rc, report.get("verdict"), report.get("findings", [])[:3]))
    n = sum(1 for r in records if r.get("type") == "syslog")
    t.check("auto: every message sealed", n >= 2600, n)
finally:
    app.close()

# ---- the same trickle at a fixed level 1 and at auto: auto's archives are smaller ----
sizes = {}
for level in ("1", "auto"):
    app = Appliance(BUILD, extra_conf=CONF)
    with open(app.conf, "a") as f:
        f.write(f"[batch]\ncompression_level = {level}\n")
    try:
        app.start()
        trickle(app, bursts=40)
        st = status(app)
        if level == "1":
            t.check("fixed: compression_level = 1 is kept, status says so",
                    st.get("compression_level") == 1 and st.get("compression_auto") is False,
                    {k: st.get(k) for k in ("compression_auto", "compression_level")})
        rc = app.stop()
        rc2, report, _ = app.verify()
        t.check(f"level {level}: stops cleanly and verifies", rc == 0 and rc2 == 0,
                (rc, rc2, report.get("verdict")))
        sizes[level] = archive_bytes(app)
    finally:
        app.close()
print(f"# archive bytes for the same 4,000 messages: level 1 {sizes.get('1')}, auto "
      f"{sizes.get('auto')}")
t.check("auto: the same trickle takes fewer archive bytes than level 1",
        sizes.get("auto", 1 << 60) < sizes.get("1", 0), sizes)
sys.exit(t.done())
