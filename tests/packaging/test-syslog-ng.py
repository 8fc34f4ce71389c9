#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The shipped syslog-ng configurations (packaging/syslog-ng/) with the real syslog-ng 3.38 and
# the real logseald, instantiated from the shipped files by replacing only their @define
# placeholders (and system(), which a test cannot own, by a unix-dgram socket):
#   0. logseald's sender_identity rules, fed directly (no syslog-ng);
#   a. agency-forwarder.conf over plain TCP, logseald stopped in the middle: the reliable disk
#      buffer holds the messages and delivers them after the restart, none lost, none twice;
#   b. agency-forwarder-tls.conf -> appliance-frontend-tls.conf (mutual TLS) -> logseald's
#      sender_identity socket: sealed with the client certificate's subject and peer address;
#   c. clients with a certificate from another CA, or none, are refused: nothing sealed;
#   d. a trusted client forging [logseal-sender@32473 ...] is sealed with its real subject.
# usage: test-syslog-ng.py BUILD_DIR SOURCE_DIR
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time

BUILD, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "tests", "daemon"))
from daemonlib import Appliance, Tap, free_port, message_bytes  # noqa: E402

SNG = shutil.which("syslog-ng")
SNG_CTL = shutil.which("syslog-ng-ctl")
OPENSSL = shutil.which("openssl")
if not SNG or not SNG_CTL or not OPENSSL:
    print("1..0 # SKIP syslog-ng, syslog-ng-ctl or openssl not installed")
    sys.exit(77)

SHIPPED = os.path.join(SRC, "packaging", "syslog-ng")
SD_ID = "logseal-sender@32473"
T0 = time.monotonic()
t = Tap()
instances = []


def elapsed():
    return f"{time.monotonic() - T0:.1f}s"


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


# ---- certificates -------------------------------------------------------------------------

def openssl(*args):
    subprocess.run([OPENSSL, *args], check=True, capture_output=True)


def make_ca(pki, name, subject):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{pki}/{name}.key", "-out", f"{pki}/{name}.crt", "-days", "2",
            "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_cert(pki, name, subject, ca, ext):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{pki}/{name}.key", "-out", f"{pki}/{name}.csr", "-subj", subject)
    with open(f"{pki}/{name}.ext", "w") as f:
        f.write(ext)
    openssl("x509", "-req", "-in", f"{pki}/{name}.csr", "-CA", f"{pki}/{ca}.crt",
            "-CAkey", f"{pki}/{ca}.key", "-CAcreateserial", "-out", f"{pki}/{name}.crt",
            "-days", "2", "-extfile", f"{pki}/{name}.ext")


# ---- syslog-ng instances ------------------------------------------------------------------

def instantiate(shipped, out, defines, replace=()):
    """The shipped file with its @define placeholders set (each must exist exactly once)."""
    text = open(os.path.join(SHIPPED, shipped)).read()
    for name, value in defines.items():
        text, n = re.subn(r'^@define %s ".*"$' % re.escape(name),
                          lambda m: f'@define {name} "{value}"', text, flags=re.M)
        assert n == 1, f"{shipped}: @define {name} found {n} times"
    for old, new in replace:
        assert text.count(old) == 1, f"{shipped}: '{old}' found {text.count(old)} times"
        text = text.replace(old, new)
    with open(out, "w") as f:
        f.write(text)
    return out


class SyslogNg:
    """syslog-ng -F with its own persist file, control socket, pid file and disk-buffer dir."""

    def __init__(self, base, name):
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir)
        self.name = name
        self.ctl = os.path.join(self.dir, "ctl")
        self.proc = None

    def start(self, conf):
        self.conf = conf
        chk = subprocess.run([SNG, "--syntax-only", "-f", conf], capture_output=True, text=True)
        if chk.returncode != 0:
            raise RuntimeError(f"{self.name}: {conf}: {chk.stderr}")
        self.log = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen([SNG, "-F", "-f", conf,
                                      "--persist-file", os.path.join(self.dir, "persist"),
                                      "--control", self.ctl,
                                      "--pidfile", os.path.join(self.dir, "pid")],
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        instances.append(self)
        if not wait_for(lambda: os.path.exists(self.ctl) or self.proc.poll() is not None, 15) or \
                self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} did not start: {self.logtext()}")

    def stats(self):
        p = subprocess.run([SNG_CTL, "stats", "-c", self.ctl], capture_output=True, text=True,
                           timeout=10)
        return [l.split(";") for l in p.stdout.splitlines()[1:] if l.count(";") == 5]

    def queued(self):
        """Messages waiting in the destinations' queues (disk buffers), or None when unknown."""
        try:
            rows = self.stats()
        except (OSError, subprocess.SubprocessError):
            return None
        q = [int(r[5]) for r in rows if r[0].startswith("dst.") and r[4] == "queued"]
        return sum(q) if q else None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def logtext(self):
        try:
            return open(os.path.join(self.dir, "stderr.log"), errors="replace").read()
        except OSError:
            return ""


def LOCAL_SOURCE(path):
    """system() reads the host's /dev/log and kernel log: a test reads a socket of its own."""
    return ("source s_logseal_local { system(); internal(); };",
            f'source s_logseal_local {{ unix-dgram("{path}"); internal(); }};')


def status(app):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(os.path.join(app.state, "control.sock"))
        s.sendall(b"status\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        return json.loads(data)
    finally:
        s.close()


def received(app):
    try:
        return status(app)["received"]
    except (OSError, ValueError, KeyError):
        return -1


def bsd(tag, text):
    """What a local program writes to /dev/log."""
    return b"<13>" + time.strftime("%b %d %H:%M:%S").encode() + b" " + tag.encode() + \
        b"[4242]: " + text.encode()


def frame(m):
    return b"%d %s" % (len(m), m)


def tls_client(port, pki, cert, tls12_wait=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(f"{pki}/appliance-ca.crt")
    if cert:
        ctx.load_cert_chain(f"{pki}/{cert}.crt", f"{pki}/{cert}.key")
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname="localhost")
    if tls12_wait:
        # syslog-ng 3.38 attaches .tls.x509_* only to reads after the one that completes the
        # handshake (see appliance-frontend-tls.conf): do not send in that read.
        time.sleep(0.3)
    return s


app = Appliance(BUILD)
base = app.dir
pki = os.path.join(base, "pki")
os.makedirs(pki)
frontend_sock = os.path.join(base, "frontend.sock")
with open(app.conf, "a") as f:
    f.write(f"\n[listen frontend]\ntype = unix\npath = {frontend_sock}\n"
            "sender_identity = structured-data\n")
HOST1 = "subject=CN=host1.agency.example,OU=Operations,O=Example Agency peer=127.0.0.1"
HOST2 = "subject=CN=host2.agency.example,O=Example Agency peer=127.0.0.1"
expect_identity = {}      # marker -> identity (None: none)
expect_missing = 0        # records logseald should count as identity_missing
try:
    # ---- configuration errors -----------------------------------------------------------
    bad = os.path.join(base, "bad.conf")
    for body, want in ((f"[listen u]\nsender_identity = structured-data\ntype = udp\n"
                        "address = 127.0.0.1\nport = 1\n", "bad.conf:3: sender_identity is not allowed on udp"),
                       (f"[listen u]\ntype = udp\naddress = 127.0.0.1\nport = 1\n"
                        "sender_identity = structured-data\n", "bad.conf:5: sender_identity is not allowed on udp"),
                       (f"[listen t]\ntype = tcp\naddress = 127.0.0.1\nport = 1\n"
                        "sender_identity = tls\n", "bad.conf:5: sender_identity must be none or structured-data")):
        with open(bad, "w") as f:
            f.write(body)
        p = subprocess.run([os.path.join(BUILD, "daemon", "logseald"), "--config", bad, "--state-dir",
                            app.state, "--check-config"], capture_output=True, text=True)
        t.check(f"config error reported as FILE:LINE: {want.split(': ', 1)[1]}",
                p.returncode == 2 and want in p.stderr, (p.returncode, p.stderr))

    # ---- certificates ---------------------------------------------------------------------
    make_ca(pki, "agency-ca", "/O=Example Agency/CN=Example Agency Test CA")
    make_ca(pki, "appliance-ca", "/O=Logseal Test/CN=Appliance Test CA")
    make_ca(pki, "rogue-ca", "/O=Example Agency/CN=Example Agency Test CA")   # same name, other key
    make_cert(pki, "frontend", "/O=Logseal Test/CN=localhost", "appliance-ca",
              "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    make_cert(pki, "host1", "/O=Example Agency/OU=Operations/CN=host1.agency.example", "agency-ca",
              "extendedKeyUsage=clientAuth\n")
    make_cert(pki, "host2", "/O=Example Agency/CN=host2.agency.example", "agency-ca",
              "extendedKeyUsage=clientAuth\n")
    make_cert(pki, "rogue", "/O=Example Agency/OU=Operations/CN=host1.agency.example", "rogue-ca",
              "extendedKeyUsage=clientAuth\n")
    print(f"# certificates made ({elapsed()})")

    app.start()

    # ---- a. plain TCP, logseald stopped in the middle ---------------------------------------
    fwd = SyslogNg(base, "fwd-plain")
    fwd_in = os.path.join(fwd.dir, "in.sock")
    fwd.start(instantiate("agency-forwarder.conf", os.path.join(fwd.dir, "syslog-ng.conf"),
                          {"logseal_appliance": "127.0.0.1", "logseal_port": app.port,
                           "logseal_buffer_dir": fwd.dir},
                          [LOCAL_SOURCE(fwd_in)]))
    wait_for(lambda: os.path.exists(fwd_in), 10)
    dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    plain = [[f"plain-{b}-{i:03d}" for i in range(40)] for b in range(3)]

    def send_local(sock, path, markers):
        for m in markers:
            sock.sendto(bsd("agencyapp", m), path)

    r0 = received(app)
    send_local(dg, fwd_in, plain[0])
    wait_for(lambda: received(app) >= r0 + len(plain[0]) and fwd.queued() == 0, 15)
    app.stop()
    time.sleep(1)                       # the forwarder sees the connection close
    send_local(dg, fwd_in, plain[1])    # logseald is down
    held = wait_for(lambda: (fwd.queued() or 0) >= len(plain[1]), 10)
    rqf = [f for f in os.listdir(fwd.dir) if f.endswith(".rqf")]
    t.check("plain TCP: while logseald is down the reliable disk buffer holds the messages",
            held and rqf, (fwd.queued(), rqf))
    time.sleep(1.5)
    app.start()
    t.check("plain TCP: delivered after logseald restarts (time-reopen 5 s)",
            wait_for(lambda: fwd.queued() == 0, 20), fwd.queued())
    r0 = received(app)
    send_local(dg, fwd_in, plain[2])
    wait_for(lambda: received(app) >= r0 + len(plain[2]) and fwd.queued() == 0, 15)
    fwd.stop()
    print(f"# plain TCP done ({elapsed()})")

    # From here on logseald keeps running: its identity_missing counter covers what follows.

    # ---- 0. the identity rules, written straight to the sender_identity socket ------------
    ts = "2026-11-27T10:00:00.123Z"
    long_subject = "CN=" + "é" * 600            # 1203 bytes: cut inside a 2-byte character
    rules = [
        ("rule-ok", f'[{SD_ID} subject="CN=host1,O=Agency" peer="192.0.2.1:40001"]',
         "subject=CN=host1,O=Agency peer=192.0.2.1:40001"),
        ("rule-escaped", f'[x@1 a="b"][{SD_ID} peer="[2001:db8::1\\]:1" subject="CN=a\\"b\\\\c\\]d"]',
         'subject=CN=a"b\\c]d peer=[2001:db8::1]:1'),
        ("rule-no-peer", f'[{SD_ID} subject="CN=only"]', "subject=CN=only"),
        ("rule-no-sd", "-", None),
        ("rule-two", f'[{SD_ID} subject="CN=a"][{SD_ID} subject="CN=b"]', None),
        ("rule-no-subject", f'[{SD_ID} peer="192.0.2.1:1"]', None),
        ("rule-empty-subject", f'[{SD_ID} subject=""]', None),
        ("rule-two-subjects", f'[{SD_ID} subject="CN=a" subject="CN=b"]', None),
        ("rule-long", f'[{SD_ID} subject="{long_subject}" peer="192.0.2.1:1"]', "LONG"),
    ]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(frontend_sock)
    for marker, sd, ident in rules:
        s.sendall(frame(f"<13>1 {ts} host app - - {sd} {marker}".encode()))
        expect_identity[marker] = ident
        expect_missing += ident is None
    # not RFC 5424: parse-failed, no identity even with the element in the text
    s.sendall(frame(f'rule-unparsed [{SD_ID} subject="CN=x"]'.encode()))
    expect_identity["rule-unparsed"] = None
    expect_missing += 1
    s.close()
    # the same element on an ordinary listener means nothing and is not counted
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(app.sock)
    s.sendall(frame(f'<13>1 {ts} host app - - [{SD_ID} subject="CN=x"] rule-ordinary'.encode()))
    expect_identity["rule-ordinary"] = None
    s.close()
    t.check("sender_identity socket is mode 0660 (ordinary unix listeners stay 0666)",
            stat.S_IMODE(os.stat(frontend_sock).st_mode) == 0o660 and
            stat.S_IMODE(os.stat(app.sock).st_mode) == 0o666,
            (oct(os.stat(frontend_sock).st_mode), oct(os.stat(app.sock).st_mode)))

    # ---- b. mutual TLS: agency forwarder -> front end -> logseald ----------------------------
    # Deployed, the front end's socket is logseald-frontend.socket's: root:logseal 0660, so
    # that Debian's syslog-ng (root without CAP_DAC_OVERRIDE) can write to it as its owner
    # (docs/forwarding.md). logseald bound this one itself, as its user: give it the unit's
    # owner, as systemd would have made it.
    if app.user != os.geteuid():
        os.chown(frontend_sock, 0, app.user)
    tls_port = free_port()
    fe = SyslogNg(base, "frontend")
    fe.start(instantiate("appliance-frontend-tls.conf", os.path.join(fe.dir, "syslog-ng.conf"),
                         {"logseal_listen_ip": "127.0.0.1", "logseal_tls_port": tls_port,
                          "logseal_agency_ca": f"{pki}/agency-ca.crt",
                          "logseal_server_cert": f"{pki}/frontend.crt",
                          "logseal_server_key": f"{pki}/frontend.key",
                          "logseal_frontend_socket": frontend_sock,
                          "logseal_local_socket": app.sock, "logseal_buffer_dir": fe.dir}))

    def forwarder(name, cert):
        f = SyslogNg(base, name)
        path = os.path.join(f.dir, "in.sock")
        f.start(instantiate("agency-forwarder-tls.conf", os.path.join(f.dir, "syslog-ng.conf"),
                            {"logseal_appliance": "localhost", "logseal_tls_port": tls_port,
                             "logseal_ca_file": f"{pki}/appliance-ca.crt",
                             "logseal_cert_file": f"{pki}/{cert}.crt",
                             "logseal_key_file": f"{pki}/{cert}.key",
                             "logseal_buffer_dir": f.dir},
                            [LOCAL_SOURCE(path)]))
        wait_for(lambda: os.path.exists(path), 10)
        return f, path

    host1, host1_in = forwarder("fwd-host1", "host1")
    rogue, rogue_in = forwarder("fwd-rogue", "rogue")
    # the forwarder's own start-up messages go first: wait until they are through
    wait_for(lambda: host1.queued() == 0 and fe.queued() == 0, 15)
    tls_markers = [f"tls-host1-{i:03d}" for i in range(50)]
    for m in tls_markers:
        expect_identity[m] = HOST1
    rogue_markers = [f"tls-rogue-{i:03d}" for i in range(10)]
    send_local(dg, host1_in, tls_markers[:25])
    send_local(dg, rogue_in, rogue_markers)
    # a message as a local program wrote it, forging the element (RFC 5424 to /dev/log)
    dg.sendto(f'<13>1 {ts} host1 agencyapp 1 - [{SD_ID} subject="CN=someone-else"] '
              "tls-host1-forged-local".encode(), host1_in)
    expect_identity["tls-host1-forged-local"] = HOST1
    send_local(dg, host1_in, tls_markers[25:])

    # ---- c. no certificate, or one from another CA: refused ---------------------------------
    refused = []
    for cert in ("rogue", None):
        try:
            c = tls_client(tls_port, pki, cert)
            c.sendall(frame(f"<13>1 {ts} h app - - - tls-refused-{cert}".encode()))
            c.recv(1)
            c.close()
            refused.append(False)
        except (ssl.SSLError, OSError):
            refused.append(True)
    t.check("front end: TLS clients with a certificate of another CA, or none, are refused",
            all(refused), refused)

    # ---- d. a trusted client forging the element: real subject sealed -----------------------
    c = tls_client(tls_port, pki, "host2")
    forged = [
        ("tls-host2-forged", f'[{SD_ID} subject="CN=someone-else" peer="203.0.113.9:1"]'),
        ("tls-host2-forged-twice", f'[{SD_ID} subject="CN=someone-else"][x@1 a="b"]'
                                   f'[{SD_ID} subject="CN=third"]'),
        ("tls-host2-forged-param", f'[{SD_ID} subject="CN=someone-else" extra="x"]'),
        ("tls-host2-plain", "-"),
    ]
    for marker, sd in forged:
        c.sendall(frame(f"<13>1 {ts} host2 app - - {sd} {marker}".encode()))
        expect_identity[marker] = HOST2
    # a newline cannot start a second message with a forged element (octet counting)
    c.sendall(frame(f"<13>1 {ts} host2 app - - - tls-host2-newline\n<13>1 {ts} evil app - - "
                    f'[{SD_ID} subject="CN=someone-else"] injected'.encode()))
    expect_identity["tls-host2-newline"] = HOST2
    time.sleep(0.5)
    c.close()

    print(f"# TLS messages sent ({elapsed()})")
    t.check("TLS: forwarder and front end queues drain",
            wait_for(lambda: host1.queued() == 0 and fe.queued() == 0, 20),
            (host1.queued(), fe.queued()))
    time.sleep(1)
    st = status(app)
    rogue_queued = rogue.queued()
    for inst in list(instances):
        inst.stop()
    t.check("rogue forwarder: its messages stay in its own disk buffer (never accepted)",
            rogue_queued is not None and rogue_queued >= len(rogue_markers), rogue_queued)
    rc = app.stop()
    t.check("logseald exits 0 on SIGTERM", rc == 0, app.logtext()[-2000:])
    print(f"# all stopped ({elapsed()})")

    # ---- the sealed chain -------------------------------------------------------------------
    rc, report, records = app.verify()
    t.check("logseal-verify: intact (exit 0)", rc == 0, report.get("findings", report))
    syslog = [r for r in records if r["type"] == "syslog"]

    def body(r):
        return (message_bytes(r) or b"").decode("utf-8", "replace")

    def seq_ok(bodies):
        """Every body has a meta sequenceId, increasing (the forwarder's own messages are
        numbered too, so there may be holes)."""
        ids = [re.search(r'\[meta sequenceId="(\d+)"', b) for b in bodies]
        if not bodies or not all(ids):
            return False
        n = [int(i.group(1)) for i in ids]
        return all(b > a for a, b in zip(n, n[1:]))

    def with_marker(m):
        return [r for r in syslog if re.search(r"(^| )%s( |$|\n)" % re.escape(m), body(r))]

    # a
    got = [re.search(r"plain-\d-\d{3}$", body(r)).group(0) for r in syslog
           if r["transport"] == "tcp" and re.search(r"plain-\d-\d{3}$", body(r))]
    want = [m for b in plain for m in b]
    t.check("plain TCP: every message sealed exactly once, in order, across the restart",
            got == want, (len(got), len(want), [m for m in want if m not in got][:5]))
    t.check("plain TCP: RFC 5424 octet-counted from agency-forwarder.conf, no identity",
            all(body(r).startswith("<13>1 ") and "sender_identity" not in r for r in syslog
                if r["transport"] == "tcp" and "plain-" in body(r)))

    # 0, b, d
    wrong = []
    for marker, ident in expect_identity.items():
        rs = with_marker(marker)
        if len(rs) != 1:
            wrong.append((marker, f"{len(rs)} records"))
            continue
        got_ident = rs[0].get("sender_identity")
        if ident == "LONG":
            full = "subject=" + long_subject + " peer=192.0.2.1:1"
            ok = got_ident and len(got_ident.encode()) <= 1024 and \
                len(got_ident.encode()) >= 1023 and full.startswith(got_ident)
        else:
            ok = got_ident == ident
        if not ok:
            wrong.append((marker, got_ident, ident))
    t.check("identity rules: exactly one logseal-sender@32473 element with a subject -> "
            "'subject=S peer=P'; none, several, no subject, unparsed, ordinary listener -> none",
            not [w for w in wrong if w[0].startswith("rule-")],
            [w for w in wrong if w[0].startswith("rule-")])
    t.check("identity longer than 1024 bytes cut at a UTF-8 boundary",
            not [w for w in wrong if w[0] == "rule-long"])
    t.check("TLS: every host1 message sealed once with subject CN, OU, O and the peer address",
            not [w for w in wrong if w[0].startswith("tls-host1")],
            [w for w in wrong if w[0].startswith("tls-host1")][:5])
    t.check("TLS: the body is the front end's RFC 5424 message with the SD element, as written",
            all(body(r).startswith("<13>1 ") and f'[{SD_ID} subject="CN=host1.agency.example,'
                'OU=Operations,O=Example Agency" peer="127.0.0.1"]' in body(r)
                for m in tls_markers for r in with_marker(m)))
    t.check("TLS: the agency's [meta sequenceId] reaches logseald through the front end, "
            "numbers increasing (issue 13 item 3)",
            seq_ok([body(r) for m in tls_markers for r in with_marker(m)]),
            [body(r)[:120] for r in with_marker(tls_markers[0])])
    t.check("plain TCP: agency-forwarder.conf numbers its messages ([meta sequenceId])",
            seq_ok([body(r) for r in syslog if r["transport"] == "tcp" and "plain-" in body(r)],
))
    t.check("forgery: host2's own logseal-sender@32473 elements are replaced by its real subject",
            not [w for w in wrong if w[0].startswith("tls-host2")],
            [w for w in wrong if w[0].startswith("tls-host2")])
    t.check("forgery: no record anywhere carries the forged identity",
            not [r for r in syslog if "someone-else" in r.get("sender_identity", "") or
                 "CN=third" in r.get("sender_identity", "")])
    t.check("forgery: a newline in a message does not start a second message",
            not [r for r in syslog if body(r).startswith("<13>1 " + ts + " evil")])
    # c
    t.check("refused clients: none of their messages is sealed",
            not [r for r in syslog if "tls-rogue-" in body(r) or "tls-refused-" in body(r)])

    # identity_missing: the rule cases plus any front-end message without a subject (syslog-ng
    # 3.38 loses .tls.x509_* in the read that completes a handshake; TLS 1.2 makes it rare)
    via_frontend = [r for r in syslog if f"[{SD_ID} " in body(r)[:600] and "rule-" not in body(r)
                    and r["transport"] == "unix-stream"]
    no_subject = [r for r in via_frontend if "sender_identity" not in r]
    t.check("status JSON: identity_missing counts the records sealed without identity",
            st.get("identity_missing") == expect_missing + len(no_subject),
            (st.get("identity_missing"), expect_missing, [body(r)[:200] for r in no_subject]))
    if no_subject:
        print(f"# {len(no_subject)} front-end message(s) without subject (syslog-ng 3.38 race)")
    t.check("front end: every message it wrote carries a subject of a trusted certificate or none",
            all(r.get("sender_identity") in (None, HOST1, HOST2) for r in via_frontend))
    selfmsgs = [r for r in syslog if r["transport"] == "unix-stream" and
                " syslog-ng " in body(r)[:120] and f"[{SD_ID} " not in body(r)]
    t.check("front end: its own messages are sealed through the ordinary socket, without identity",
            selfmsgs and all("sender_identity" not in r for r in selfmsgs), len(selfmsgs))
    t.check("front end: the refused certificates and the client without one are on record",
            len([r for r in selfmsgs if "Certificate validation failed" in body(r) and
                 "CN=host1.agency.example" in body(r)]) >= 2 and
            [r for r in selfmsgs if "peer did not return a certificate" in body(r)],
            [body(r)[:160] for r in selfmsgs])
    if os.environ.get("DUMP"):
        for r in selfmsgs:
            print("# self:", body(r))
    print(f"# done ({elapsed()})")
finally:
    for inst in list(instances):
        try:
            inst.stop()
        except Exception as e:  # keep cleaning up
            print(f"# stopping {inst.name}: {e}")
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-3000:].replace("\n", "\n# "))
        for inst in instances:
            print(f"# {inst.name} stderr:\n# " + inst.logtext()[-1500:].replace("\n", "\n# "))
    app.close()
sys.exit(t.done())
