#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Crash recovery does not read as a gap (issue 12, item 10). Short epochs (epoch_batches = 3),
# small batches and a 1 s heartbeat interval (the heartbeat rule, SPEC §11, fires after 12 s of
# silence): a burst has been read (it is in the WAL) but the sealer is far behind when logseald
# is SIGKILLed; it stays down 20 s; the restart re-seals the backlog from the WAL over many
# batches and epoch changes. The UNCLEAN_SHUTDOWN record comes before the re-sealed records and
# ends the silence of the downtime: after a clean stop logseal-verify says INTACT (exit 0),
# with the crash declared once, counting exactly the records recovered, every message sealed
# once.
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
DOWN_S = float(os.environ.get("LOGSEAL_CRASH_DOWN", "20"))
t = Tap()
BURST = 20000
app = Appliance(BUILD, extra_conf="max_records = 20\n[keys]\nepoch_batches = 3\n"
                "[daemon]\nheartbeat_interval = 1s\n")


def send(tag, n):
    s = socket.create_connection(("127.0.0.1", app.port))
    msgs = [b"<13>1 - host app - - - %s %d" % (tag, i) for i in range(n)]
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
    s.close()
    return msgs


try:
    app.start()
    sent = send(b"early", 100)
    time.sleep(1.5)
    # a burst read at full speed while the sealer, with 20-record batches and a key change
    # every 3rd batch, falls far behind: kill once everything was read (it is in the WAL)
    sent += send(b"burst", BURST)
    st, deadline = {}, time.time() + 60
    while time.time() < deadline and st.get("received", 0) < len(sent):
        st = app.control("status")
    t.check("the daemon read the whole burst, the sealer is behind when it is killed",
            st.get("received") == len(sent) and st.get("sealed", 0) < len(sent) - 1000,
            {k: st.get(k) for k in ("received", "sealed", "batches")})
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    time.sleep(DOWN_S)
    app.start()
    deadline = time.time() + 120
    while time.time() < deadline and app.control("status").get("backlog_bytes", 1):
        time.sleep(0.2)
    sent += send(b"after", 30)
    time.sleep(2.5)
    rc = app.stop()
    t.check("clean stop", rc == 0, app.logtext()[-500:])
    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0), no gap on untouched evidence", rc == 0,
            (rc, report.get("findings", [])[:4]))
    events = report.get("events", {}).get("list", [])
    unclean = [e for e in events if e["type"] == "unclean-shutdown"]
    t.check("the crash is declared once", len(unclean) == 1, unclean)
    recovered = [r for r in records if "recovered" in r.get("flags", [])]
    t.check("records were re-sealed from the WAL (the scenario happened)", len(recovered) > 1000,
            len(recovered))
    t.check("UNCLEAN_SHUTDOWN counts exactly the records re-sealed from the WAL",
            len(unclean) == 1 and unclean[0]["fields"].get("count") == len(recovered),
            (unclean, len(recovered)))
    seqs = [r["seq"] for r in recovered]
    t.check("the UNCLEAN_SHUTDOWN record comes before every re-sealed record",
            len(unclean) == 1 and seqs and unclean[0]["seq"] < min(seqs), (unclean, seqs[:3]))
    kt = [e for e in events if e["type"] == "key-transition" and seqs and
          min(seqs) < e["seq"] < max(seqs)]
    t.check("epoch changes happened while re-sealing", len(kt) >= 1, len(kt))
    got = [message_bytes(r) for r in records if r["type"] == "syslog"]
    t.check("every message sealed exactly once, in order", got == sent, (len(got), len(sent)))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()

# A second crash before the first one's declaration is durable (3 s batch latency: the restart
# is killed while its first batch is still open): the next start declares both stops, in
# order, and the records of both runs follow them.
app = Appliance(BUILD)
try:
    with open(app.conf, "w") as f:
        f.write(app.run_as + "[batch]\nmax_latency = 3s\n")
    app.start()
    sent = send(b"sealed", 10)
    time.sleep(3.5)
    sent += send(b"walonly", 10)
    time.sleep(0.3)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    app.start()
    time.sleep(0.5)
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    app.log.close()
    app.start()
    sent += send(b"last", 5)
    time.sleep(0.5)
    t.check("clean stop after two crashes", app.stop() == 0, app.logtext()[-500:])
    rc, report, records = app.verify()
    t.check("intact (exit 0)", rc == 0, (rc, report.get("findings", [])[:4]))
    events = report.get("events", {}).get("list", [])
    unclean = [e for e in events if e["type"] == "unclean-shutdown"]
    recovered = [r for r in records if "recovered" in r.get("flags", [])]
    t.check("both crashes are declared, once each, before the re-sealed records",
            len(unclean) == 2 and recovered and unclean[1]["seq"] < min(r["seq"] for r in recovered),
            (unclean, [r["seq"] for r in recovered][:3]))
    t.check("the first declaration (the late one) counts nothing, the second every record "
            "re-sealed", len(unclean) == 2 and unclean[0]["fields"].get("count") == 0 and
            unclean[1]["fields"].get("count") == len(recovered), (unclean, len(recovered)))
    got = [message_bytes(r) for r in records if r["type"] == "syslog"]
    t.check("every message sealed exactly once, in order", got == sent, (len(got), len(sent)))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
