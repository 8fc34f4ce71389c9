#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# UNCLEAN_SHUTDOWN records state facts (issue 12, item 9b): a start that fails before ingest
# (its TCP port is taken) did not run, so the next start seals no "previous run ended without
# a clean stop" — neither as the first event of a brand-new appliance nor after a clean stop.
# A real crash (SIGKILL) is still declared, also when a failed start comes in between.
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
t = Tap()
app = Appliance(BUILD)


def send(tag, n=10):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - host app - - - %s %d" % (tag, i) for i in range(n))))
    s.close()


def failed_start(what):
    """logseald while another socket holds its TCP port: it must exit non-zero."""
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", app.port))
    blocker.listen(1)
    try:
        p = subprocess.run(app.as_user([os.path.join(BUILD, "daemon", "logseald"), "--config",
                                        app.conf, "--state-dir", app.state,
                                        "--listen", f"tcp:127.0.0.1:{app.port}"]),
                           capture_output=True, text=True, timeout=60)
    finally:
        blocker.close()
    t.check(f"{what}: logseald refuses to start when its port is taken (and frees what it "
            "made: no sanitizer report)",
            p.returncode != 0 and "listeners" in p.stderr and "Sanitizer" not in p.stderr,
            (p.returncode, p.stderr[-600:]))


def unclean_events():
    rc, report, _ = app.verify()
    return rc, report, [e for e in report.get("events", {}).get("list", [])
                        if e["type"] == "unclean-shutdown"]


try:
    # a brand-new appliance: the first start fails
    failed_start("new appliance")
    app.start()
    send(b"one")
    time.sleep(0.6)
    t.check("clean stop", app.stop() == 0, app.logtext()[-500:])
    rc, report, unclean = unclean_events()
    t.check("after a failed first start: intact, and no UNCLEAN_SHUTDOWN record", rc == 0 and
            not unclean, (rc, report.get("findings"), unclean))

    # after a clean stop: a failed start, then a good one
    failed_start("after a clean stop")
    app.start()
    send(b"two")
    time.sleep(0.6)
    t.check("clean stop", app.stop() == 0, app.logtext()[-500:])
    rc, report, unclean = unclean_events()
    t.check("after a clean stop and a failed start: no UNCLEAN_SHUTDOWN record",
            rc == 0 and not unclean, (rc, unclean))

    # a real crash, then a failed start, then a good one: declared, once
    before = len(unclean)
    app.start()
    send(b"three")
    time.sleep(0.6)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    failed_start("after a SIGKILL")
    app.start()
    send(b"four")
    time.sleep(0.6)
    t.check("clean stop", app.stop() == 0, app.logtext()[-500:])
    rc, report, unclean = unclean_events()
    t.check("a SIGKILL is declared exactly once (UNCLEAN_SHUTDOWN), the failed start "
            "after it changes nothing", len(unclean) - before == 1, (rc, unclean))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
