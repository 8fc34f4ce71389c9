#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# End to end: the real logseald receives syslog over UDP, TCP, unix stream and unix datagram
# (raw sockets, logger and a real syslog-ng forwarding RFC 5424 over TCP), stops cleanly, and
# logseal-verify proves every message sealed byte for byte, in per-connection order.
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap, message_bytes  # noqa: E402

BUILD, SRC = sys.argv[1], sys.argv[2]
DATA = os.environ.get("SHARED_DATA", os.path.join(SRC, "..", "shared", "data"))
t = Tap()


def loghub(name):
    p = os.path.join(DATA, "loghub", f"{name}_2k.log")
    if not os.path.exists(p):
        return None
    return [l.rstrip(b"\r") for l in open(p, "rb").read().split(b"\n") if l.strip()]


linux = loghub("Linux")
ssh = loghub("OpenSSH")
mac = loghub("Mac")
have_data = linux is not None
if not have_data:
    print("# ../shared/data absent: synthetic messages only")
    linux = [b"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: line %d" % i for i in range(2000)]
    ssh = [b"Dec 10 06:55:46 LabSZ sshd[24200]: attempt %d" % i for i in range(2000)]
    mac = [b"Jul  1 09:00:55 calvisitor kernel[0]: event %d \xff\xfe binary" % i for i in range(500)]

app = Appliance(BUILD)
try:
    app.start()
    sent = {}   # channel -> list of exact bodies, in order

    # UDP, one datagram per message (loopback, paced so the kernel does not drop)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent["udp"] = [b"<13>" + l for l in linux]
    for i, m in enumerate(sent["udp"]):
        u.sendto(m, ("127.0.0.1", app.port))
        if i % 200 == 199:
            time.sleep(0.02)
    u.close()

    # TCP, octet counting, two concurrent connections interleaved
    c1 = socket.create_connection(("127.0.0.1", app.port))
    c2 = socket.create_connection(("127.0.0.1", app.port))
    sent["tcp1"] = [b"<38>" + l + b"\r" for l in ssh[:1000]]          # CR kept: octet counting is exact
    sent["tcp2"] = [b"<38>" + l for l in ssh[1000:]]
    for a, b in zip(sent["tcp1"], sent["tcp2"]):
        c1.sendall(b"%d %s" % (len(a), a))
        c2.sendall(b"%d %s" % (len(b), b))
    c1.close()
    c2.close()

    # unix stream, LF framing, and a message split across writes
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(app.sock)
    sent["unix"] = [b"<14>" + l for l in mac]
    blob = b"".join(m + b"\n" for m in sent["unix"])
    for i in range(0, len(blob), 777):
        s.sendall(blob[i:i + 777])
    s.close()

    # unix datagram
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sent["dgram"] = [b"<15>dgram message %d" % i for i in range(100)]
    for m in sent["dgram"]:
        d.sendto(m, app.dsock)
    d.close()

    # logger over UDP, TCP (octet counting) and the unix datagram socket
    logger = shutil.which("logger")
    logger_lines = {}
    if logger:
        for mode, args in (("logger-udp", ["-d", "-n", "127.0.0.1", "-P", str(app.port)]),
                           ("logger-tcp", ["-T", "--octet-count", "-n", "127.0.0.1", "-P", str(app.port)]),
                           ("logger-unix", ["-u", app.dsock])):
            lines = [l.decode("utf-8", "replace") for l in linux[:300]]
            subprocess.run([logger, *args, "-t", "lg", "--prio-prefix"], input=
                           "\n".join("<13>" + x for x in lines).encode(), check=True)
            logger_lines[mode] = lines
            time.sleep(0.2)

    # RFC 5424 time stamps of every form: format 3 keeps them as numbers beside the text and
    # must give back every byte (SPEC §6.4)
    sent["stamps"] = [b"<13>1 2026-12-03T13:07:02.123456+00:00 h app - - - six digits",
                      b"<13>1 2026-12-03T13:07:02Z h app - - - Z",
                      b"<13>1 2026-12-03T13:07:02.1-05:00 h app - - - negative zone",
                      b"<13>1 2026-02-29T00:00:00Z h app - - - not a date: stays text",
                      b"<13>1 2024-02-29T00:00:00.000001Z h app - - - leap day",
                      b"<13>1 1970-01-01T00:00:00.5+14:00 h app - - - long ago",
                      b"<13>1 2026-12-03T13:07:02.123456+00:00"]
    c = socket.create_connection(("127.0.0.1", app.port))
    c.sendall(b"".join(b"%d %s" % (len(m), m) for m in sent["stamps"]))
    c.close()

    # oversize message: sealed truncated, with its original length
    big = b"<13>" + b"A" * 100000
    c = socket.create_connection(("127.0.0.1", app.port))
    c.sendall(b"%d %s" % (len(big), big))
    c.close()

    # a real syslog-ng 3.38 forwarding octet-counted RFC 5424 over TCP
    sng = shutil.which("syslog-ng")
    sng_msgs = []
    if sng:
        # the forwarder's files in a directory of its own (root's): syslog-ng drops
        # CAP_DAC_OVERRIDE, and app.dir is the daemon's user's
        sdir = os.path.join(app.dir, "syslog-ng")
        os.mkdir(sdir)
        src = os.path.join(sdir, "sng-input.log")
        with open(src, "wb") as f:
            for l in ssh[:500]:
                f.write(l + b"\n")
        sng_msgs = ssh[:500]
        conf = os.path.join(sdir, "sng.conf")
        with open(conf, "w") as f:
            f.write(f"""@version: 3.38
options {{ stats_freq(0); keep-hostname(yes); }};
source s_file {{ file("{src}" flags(no-parse) follow-freq(1)); }};
destination d_seal {{ syslog("127.0.0.1" transport("tcp") port({app.port})
                      disk-buffer(reliable(yes) dir("{sdir}") disk-buf-size(1048576))); }};
log {{ source(s_file); destination(d_seal); flags(flow-control); }};
""")
        p = subprocess.Popen([sng, "-F", "-f", conf, "-R", os.path.join(sdir, "sng.persist"),
                              "-p", os.path.join(sdir, "sng.pid"), "-c", os.path.join(sdir, "sng.ctl")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        p.terminate()
        p.wait(timeout=30)

    time.sleep(1)
    st = subprocess.run([app.ctl(), "status", "--state-dir", app.state], capture_output=True)
    out = st.stdout.decode()
    t.check("logsealctl status reaches the running daemon (live counters, last checkpoint)",
            st.returncode == 0 and "daemon:          running" in out and "last checkpoint:" in out, out)
    rc = app.stop()
    t.check("logseald exits 0 on SIGTERM", rc == 0, app.logtext()[-2000:])

    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0)", rc == 0, report.get("findings", report)[:3]
            if isinstance(report.get("findings", report), list) else report)
    syslog = [r for r in records if r["type"] == "syslog"]
    bodies = [message_bytes(r) for r in syslog]
    counts = report.get("events", {}).get("counts", {})
    t.check("start and stop recorded in the chain", counts.get("start") == 1 and counts.get("stop") == 1,
            counts)
    t.check("first record is the key certificate", records and records[0].get("control") == "key-transition")

    def channel(pred):
        return [message_bytes(r) for r in syslog if pred(r)]

    got_udp = channel(lambda r: r["transport"] == "udp" and message_bytes(r).startswith(b"<13>") and
                      not b" lg" in message_bytes(r)[:60])
    udp_expected = [m for m in sent["udp"]]
    t.check("UDP: every datagram sealed byte for byte, in order",
            [m for m in got_udp if m in set(udp_expected)] == udp_expected,
            (len(got_udp), len(udp_expected)))
    by_conn = {}
    for r in syslog:
        if r["transport"] == "tcp":
            by_conn.setdefault(r["connection"], []).append(message_bytes(r))
    conns = list(by_conn.values())
    t.check("TCP: connection 1 sealed byte for byte in order (CR kept)", sent["tcp1"] in conns,
            [len(c) for c in conns])
    t.check("TCP: connection 2 sealed byte for byte in order", sent["tcp2"] in conns)
    t.check("RFC 5424 time stamps of every form sealed byte for byte", sent["stamps"] in conns,
            [c[:1] for c in conns])

    def batch_flags(path):
        d, i, flags = open(path, "rb").read(), 0, []
        while i + 8 <= len(d):
            magic, ln = struct.unpack_from("<II", d, i)
            if magic != 0x184D2A5B:
                i += plen  # the payload frame after a batch header
                continue
            if d[i + 8:i + 12] == b"\x89LSB":
                flags.append(struct.unpack_from("<H", d, i + 8 + 12)[0])
                plen = struct.unpack_from("<I", d, i + 8 + 184)[0]
            i += 8 + ln
        return flags
    adir = os.path.join(app.state, "archives")
    flags = [f for n in sorted(os.listdir(adir)) for f in batch_flags(os.path.join(adir, n))]
    # bit 1 DICT (format 4): batches of archives after the first use its dictionary
    t.check("logseald writes format 3: every batch payload in the column layout (COLUMNS flag)",
            flags and all(f & ~2 == 1 for f in flags), flags)
    got_unix = channel(lambda r: r["transport"] == "unix-stream")
    t.check("unix stream: every message byte for byte, in order", got_unix == sent["unix"],
            (len(got_unix), len(sent["unix"])))
    t.check("unix stream records carry the sender's pid/uid", all("uid" in r for r in syslog
                                                                 if r["transport"] == "unix-stream"))
    got_dgram = channel(lambda r: r["transport"] == "unix-dgram" and message_bytes(r).startswith(b"<15>dgram"))
    t.check("unix datagram: every message, in order", got_dgram == sent["dgram"])
    trunc = [r for r in syslog if "truncated" in r["flags"]]
    t.check("oversize message sealed truncated with its original length",
            len(trunc) == 1 and trunc[0]["original_length"] == len(big) and
            len(message_bytes(trunc[0])) == 65536, [(r["original_length"]) for r in trunc])
    for mode, lines in logger_lines.items():
        tr = {"logger-udp": "udp", "logger-tcp": "tcp", "logger-unix": "unix-dgram"}[mode]
        got = [message_bytes(r).decode("utf-8", "replace") for r in syslog
               if r["transport"] == tr and b" lg" in message_bytes(r)[:80]]
        ok = len(got) == len(lines) and all(g.endswith(l) for g, l in zip(got, lines))
        t.check(f"{mode}: {len(lines)} messages sealed in order", ok, (len(got), len(lines),
                                                                       got[:1], lines[:1]))
    if sng:
        tcp_msgs = [m for c in conns for m in c]
        stripped = [m.rstrip(b"\n") for m in tcp_msgs]
        matched = sum(1 for x in sng_msgs if any(m.endswith(b"] " + x) for m in stripped))
        t.check("syslog-ng 3.38 forwarding (RFC 5424, octet counting, disk-buffer): all 500 sealed",
                matched == 500, (matched, tcp_msgs[-1:] if tcp_msgs else None))
    t.check("parse failures are flagged, not dropped",
            all("parse-failed" in r["flags"] for r in syslog if message_bytes(r).startswith(b"not syslog")))
    t.check("the report lists the archive with a SHA-256", report.get("archives") and
            len(report["archives"][0]["sha256"]) == 64)
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
