#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# CLOCK_STEP records state facts (issue 12, item 9a): a daemon stopped for 3 s (SIGSTOP, as a
# loaded machine or a paused VM would) seals no "wall clock stepped" record; a real step of the
# wall clock (CLOCK_REALTIME moved against CLOCK_BOOTTIME, simulated by the clockshift.so
# preload when the build has no sanitizer) is sealed once, with its size.
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
SHIM = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "none" else None
STEP_S = 7
t = Tap()
app = Appliance(BUILD)


def send(tag, n=20):
    s = socket.create_connection(("127.0.0.1", app.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in
                       (b"<13>1 - host app - - - %s %d" % (tag, i) for i in range(n))))
    s.close()


try:
    shift = os.path.join(app.dir, "clock-shift")
    with open(shift, "w") as f:
        f.write("0\n")
    env = dict(os.environ)
    if SHIM:
        env["LD_PRELOAD"] = SHIM
        env["LOGSEAL_CLOCK_SHIFT"] = shift
    app.start(env=env)
    send(b"before")
    time.sleep(1)
    app.proc.send_signal(signal.SIGSTOP)
    time.sleep(3)
    app.proc.send_signal(signal.SIGCONT)
    time.sleep(1.5)
    send(b"after-stall")
    time.sleep(1)
    if SHIM:
        with open(shift, "w") as f:
            f.write("%d\n" % STEP_S)
        time.sleep(1.5)
        send(b"after-step")
        time.sleep(1)
    rc = app.stop()
    t.check("clean stop", rc == 0, app.logtext()[-500:])
    rc, report, _ = app.verify()
    t.check("the chain verifies (exit 0)", rc == 0, report.get("findings"))
    steps = [e for e in report.get("events", {}).get("list", []) if e["type"] == "clock-step"]
    if not SHIM:
        t.check("a 3 s stall (SIGSTOP) seals no CLOCK_STEP record", not steps, steps)
        print("# no clockshift.so (sanitizer build): the real-step half is skipped")
    else:
        t.check("a 3 s stall (SIGSTOP) seals no CLOCK_STEP record, a real step exactly one",
                len(steps) == 1, steps)
        delta = steps[0]["fields"].get("clock_delta") if len(steps) == 1 else None
        t.check(f"the CLOCK_STEP record says +{STEP_S} s",
                delta is not None and abs(int(delta) - STEP_S * 10**9) < 5 * 10**8, steps)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
