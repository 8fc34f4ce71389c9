# SPDX-License-Identifier: Apache-2.0
# Helpers for tests that drive the real logseald, logsealctl and logseal-verify.
import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        self.n += 1
        d = repr(detail)
        if len(d) > 400:
            d = d[:400] + "..."
        print(("ok" if cond else "not ok") + f" {self.n} - {name}" + ("" if cond else f": {d}"),
              flush=True)
        if not cond:
            self.failed += 1
        return cond

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    # the same number must also be free for UDP; try until it is
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        u.close()
        return free_port()
    u.close()
    return port


ROOT_START_USER = "nobody"


def run_as_conf(directory, user=None):
    """Started as root, logseald runs as an unprivileged user (logseald.conf(5), user; the
    packages' "logseal" need not exist here): nobody, which must reach the directory. The
    configuration lines that say so (start a configuration file with them), or ""."""
    if user is not None or os.geteuid() != 0:
        return ""
    os.chmod(directory, 0o755)
    return "[daemon]\nuser = %s\n" % ROOT_START_USER


class Appliance:
    """A state directory with keys and a logseald process."""

    def __init__(self, build, extra_conf="", user=None):
        """user: a numeric uid (its gid the same number) to run logseald as, the way the
        packages run it: the state directory and the socket directory are made its own."""
        self.build = build
        self.user = user
        self.tmp = tempfile.TemporaryDirectory(prefix="logseal-test-")
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        self.port = free_port()
        self.sock = os.path.join(self.dir, "log.sock")
        self.dsock = os.path.join(self.dir, "dgram.sock")
        self.conf = os.path.join(self.dir, "logseald.conf")
        self.run_as = run_as_conf(self.dir, user)
        with open(self.conf, "w") as f:
            f.write(self.run_as + "[batch]\nmax_latency = 200ms\n" + extra_conf)
        self.proc = None
        subprocess.run([self.ctl(), "init", "--state-dir", self.state, "--no-passphrase"],
                       check=True, capture_output=True)
        if user is not None:
            for d, dirs, files in os.walk(self.dir):
                for n in [d] + [os.path.join(d, f) for f in dirs + files]:
                    os.lchown(n, user, user)

    def daemon_uid(self):
        """The uid logseald runs as (started as root: nobody, see above)."""
        if self.user is not None:
            return self.user
        return pwd.getpwnam(ROOT_START_USER).pw_uid if os.geteuid() == 0 else os.geteuid()

    def own(self, *paths):
        """Makes files and directories the test made for the daemon (publish_dir, a
        publish_command) its own, recursively, as the service user's would be."""
        if os.geteuid() != 0:
            return
        uid = self.daemon_uid()
        gid = self.user if self.user is not None else pwd.getpwnam(ROOT_START_USER).pw_gid
        for p in paths:
            os.lchown(p, uid, gid)
            for d, dirs, files in os.walk(p):
                for n in dirs + files:
                    os.lchown(os.path.join(d, n), uid, gid)

    def ctl(self):
        return os.path.join(self.build, "daemon", "logsealctl")

    def start(self, env=None, wrapper=()):
        """wrapper: a command that execs logseald (e.g. tests/daemon/nolandlock.c)."""
        self.log = open(os.path.join(self.dir, "logseald.log"), "ab")
        # setpriv execs logseald itself, so self.proc is the daemon.
        prefix = [] if self.user is None else [
            "setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups", "--"]
        prefix = prefix + list(wrapper)
        self.proc = subprocess.Popen(
            prefix + [os.path.join(self.build, "daemon", "logseald"), "--config", self.conf,
             "--state-dir", self.state,
             "--listen", f"udp:127.0.0.1:{self.port}", "--listen", f"tcp:127.0.0.1:{self.port}",
             "--listen", f"unix:{self.sock}", "--listen", f"unix-dgram:{self.dsock}"],
            stdout=self.log, stderr=self.log, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if os.path.exists(self.sock) and os.path.exists(self.dsock):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("logseald exited: " + self.logtext())
            time.sleep(0.05)
        raise RuntimeError("logseald did not start: " + self.logtext())

    def stop(self, sig=signal.SIGTERM, timeout=60):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.log.close()
        return rc

    def logtext(self):
        try:
            return open(os.path.join(self.dir, "logseald.log"), errors="replace").read()
        except OSError:
            return ""

    def verify(self, *extra):
        p = subprocess.run([os.path.join(self.build, "verifier", "logseal-verify"), "--root-key",
                            os.path.join(self.state, "root.pub"), "--json", "--dump=json",
                            *extra, os.path.join(self.state, "archives")], capture_output=True)
        records = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        try:
            report = json.loads(p.stderr.decode())
        except ValueError:
            report = {"raw": p.stderr.decode()}
        return p.returncode, report, records

    def control(self, line, timeout=None):
        """One control-socket command (daemon/control.c); its JSON reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(os.path.join(self.state, "control.sock"))
            s.sendall(line.encode() + b"\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        return json.loads(data)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def message_bytes(rec):
    import base64
    if "message" in rec:
        return rec["message"].encode()
    if "message_base64" in rec:
        return base64.b64decode(rec["message_base64"])
    return None


def secret_seed(keyfile):
    """The Ed25519 seed inside a passphrase-less secret key file (SPEC §10.2, kdf 0: the box is
    keyed with 32 zero bytes), opened with libsodium through ctypes."""
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    if lib.sodium_init() < 0:
        raise RuntimeError("sodium_init failed")
    nonce, box = keyfile[48:72], keyfile[88:168]
    out = ctypes.create_string_buffer(64)
    rc = lib.crypto_secretbox_open_easy(out, box, ctypes.c_ulonglong(len(box)), nonce,
                                        bytes(32))
    if rc != 0:
        raise ValueError("not a passphrase-less secret key file")
    return out.raw[:32]


def files_containing(top, needles):
    """(path, index) for every file under top that contains one of the byte strings."""
    hits = []
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            try:
                data = open(p, "rb").read()
            except OSError:
                continue
            hits += [(p, i) for i, n in enumerate(needles) if n in data]
    return hits
