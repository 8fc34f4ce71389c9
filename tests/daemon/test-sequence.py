#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Per-sender sequence numbers (issue 13, item 3): a message lost where no transport reports
# it (a front end restarting, a TCP connection reset) shows as a number skipped in the
# RFC 5424 `[meta sequenceId="N"]` that syslog-ng's syslog() destination writes. logseald
# tracks the last number per sender and declares in the chain a gap (LOSS, cause
# sequence-gap, with the sender, the first number missing, the number after the last one
# missing, and how many) when the numbers have not come within 5 s (syslog-ng sends its own
# messages a little out of order around a reconnection: numbers that come late are no
# loss), and a numbering that begins again at 1 (a sender restart: SEQUENCE_RESET, not a
# loss). The tracking, pending gaps included, survives a clean restart of logseald and a
# kill -9 (the state is saved in the state directory, and the WAL keeps what it does not
# cover yet). logseald runs as an unprivileged user.
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
UID = 65534
t = Tap()

if os.geteuid() != 0:
    print("1..0 # SKIP not root (needs to run logseald as another user)")
    sys.exit(77)


def msg(host, seq, text):
    sd = f'[meta sequenceId="{seq}"]' if seq is not None else "-"
    return f"<13>1 2026-12-03T10:00:00Z {host} app - - {sd} {text}".encode()


def frame(m):
    return b"%d %s" % (len(m), m)


def send_tcp(app, msgs):
    with socket.create_connection(("127.0.0.1", app.port)) as c:
        c.sendall(b"".join(frame(m) for m in msgs))


def send_unix(app, msgs):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(app.sock)
        c.sendall(b"".join(frame(m) for m in msgs))


def wait_received(app, n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if app.control("status").get("received", 0) >= n:
                return True
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return False


app = Appliance(BUILD, user=UID)
frontend_sock = os.path.join(app.dir, "frontend.sock")
with open(app.conf, "a") as f:
    f.write(f"\n[listen frontend]\ntype = unix\npath = {frontend_sock}\n"
            "sender_identity = structured-data\n")


def fe(host, seq, text, subject="CN=h1,O=Agency"):
    """A message as the TLS front end writes it: the agency's meta sequenceId kept, the
    sender element added (without subject when syslog-ng had not attached the certificate)."""
    subj = f' subject="{subject}"' if subject else ""
    return (f'<13>1 2026-12-03T10:00:00Z {host} app - - [meta sequenceId="{seq}"]'
            f'[logseal-sender@32473{subj} peer="192.0.2.7"] {text}').encode()


def send_frontend(msgs):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(frontend_sock)
        c.sendall(b"".join(frame(m) for m in msgs))


try:
    app.start()
    total = 0
    run1 = [msg("hostA", n, f"A{n}") for n in (1, 2, 3, 4, 5, 8, 9)]   # 6, 7 missing
    run1 += [msg("hostB", n, f"B{n}") for n in (10, 11, 12, 15)]       # 13, 14 missing
    run1 += [msg("hostA", n, f"A{n}-again") for n in (1, 2, 3)]        # hostA restarted
    run1 += [msg("hostA", None, "no number"), msg("hostA", "0", "zero"),
             msg("hostA", "12x", "junk")]                              # not numbers: ignored
    send_tcp(app, run1)
    send_unix(app, [msg("hostC", n, f"C{n}") for n in (1, 2, 4)])      # 3 missing
    # Two agency hosts through the front end with the same HOSTNAME: told apart by their
    # certificates. h1's 3 and 4 arrive without identity (syslog-ng had not attached the
    # certificate yet): not missing. h1's 6 is missing. h2 numbers on undisturbed.
    send_frontend([fe("agency", 1, "F1"), fe("agency", 2, "F2"),
                   fe("agency", 50, "G50", "CN=h2,O=Agency"),
                   fe("agency", 3, "F3-noid", None), fe("agency", 4, "F4-noid", None),
                   fe("agency", 5, "F5"), fe("agency", 51, "G51", "CN=h2,O=Agency"),
                   fe("agency", 7, "F7")])
    # Numbers out of order, none missing: nothing to declare.
    send_tcp(app, [msg("hostD", n, f"D{n}") for n in (1, 2, 4, 3, 5)])
    # The numbers wrap from 2147483647 to 1 (no restart); a gap across the wrap counts both.
    send_tcp(app, [msg("hostE", n, f"E{n}") for n in (2147483646, 2147483647, 1, 2)])
    send_tcp(app, [msg("hostF", n, f"F{n}") for n in (2147483646, 2)])
    total += len(run1) + 3 + 8 + 5 + 4 + 2
    t.check("first run: everything received", wait_received(app, total))
    time.sleep(6.5)  # the gaps' window passes
    t.check("clean stop", app.stop() == 0, app.logtext()[-2000:])

    # A clean restart: hostA continues at 4 (no event), hostB at 16, then hostA skips 5, 6.
    app.start()
    send_tcp(app, [msg("hostA", 4, "A4-after-restart"), msg("hostB", 16, "B16"),
                   msg("hostA", 7, "A7")])
    t.check("second run: received", wait_received(app, 3))
    # kill -9 at once, before the state is saved again (once a second): the WAL has it.
    send_tcp(app, [msg("hostB", 17, "B17")])
    t.check("second run: B17 received", wait_received(app, 4))
    app.stop(signal.SIGKILL)
    app.start()
    send_tcp(app, [msg("hostB", 18, "B18"), msg("hostB", 20, "B20")])  # 19 missing
    t.check("third run: received", wait_received(app, 2))
    time.sleep(6.5)
    t.check("clean stop", app.stop() == 0, app.logtext()[-2000:])

    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0)", rc == 0,
            (rc, {k: v for k, v in report.items() if k not in ("tool", "trust_anchor")}))
    fields = {e["seq"]: e["fields"] for e in report.get("events", {}).get("list", [])}
    seqrec = []
    for i, r in enumerate(records):
        if r.get("control") in ("loss", "sequence-reset"):
            r = dict(r, **fields.get(r["seq"], {}))
        if r.get("control") == "loss" and r.get("cause") == "sequence-gap":
            nxt = records[i + 1] if i + 1 < len(records) else {}
            seqrec.append(("gap", r.get("source"), r.get("seq_expected"), r.get("seq_got"),
                           r.get("count"), (message_bytes(nxt) or b"").split(b" ")[-1]))
        elif r.get("control") == "sequence-reset":
            nxt = records[i + 1] if i + 1 < len(records) else {}
            seqrec.append(("reset", r.get("source"), r.get("seq_expected"), r.get("seq_got"),
                           None, (message_bytes(nxt) or b"").split(b" ")[-1]))
    A, B = "tcp peer=127.0.0.1 host=hostA", "tcp peer=127.0.0.1 host=hostB"
    expect = [
        ("gap", A, 6, 8, 2),
        ("reset", A, 10, 1, None),
        ("gap", B, 13, 15, 2),
        ("gap", "unix host=hostC", 3, 4, 1),
        ("gap", "unix subject=CN=h1,O=Agency host=agency", 6, 7, 1),
        ("gap", A, 5, 7, 2),   # seen in the second run, kept through kill -9
        ("gap", B, 19, 20, 1),
        ("gap", "tcp peer=127.0.0.1 host=hostF", 2147483647, 2, 2),
    ]
    got = [x[:5] for x in seqrec]
    t.check("exactly the expected gaps and resets: late numbers, orphans and the numbering "
            "after a restart of logseald are no loss",
            sorted(got, key=repr) == sorted(expect, key=repr), seqrec)
    t.check("a restart of the numbering first declares the gap still open, then the reset, "
            "right before the message that shows it",
            [x for x in seqrec if x[1] == A][:2] ==
            [("gap", A, 6, 8, 2, b""), ("reset", A, 10, 1, None, b"A1-again")],
            seqrec)
    loss = [f for f in fields.values() if f.get("cause") == "sequence-gap"]
    t.check("gap records carry first/last time", all("first_time" in r and "last_time" in r
                                                    for r in loss), loss[:1])
    st = os.path.join(app.state, "wal", "senders.state")
    t.check("the sender state is in the state directory, owned by the service user",
            os.path.exists(st) and os.stat(st).st_uid == UID)
finally:
    app.close()
sys.exit(t.done())
