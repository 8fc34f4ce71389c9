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


# The user logseald runs as in these tests when they run as root: nobody:nogroup on Debian, which
# owns no file of the test's but the state directory and the socket directory, as the packages
# run it (the `logseal` system user). Tests about root itself pass user=ROOT.
SERVICE_UID = 65534
ROOT = 0


def service_user():
    """The uid an Appliance runs logseald as by default: SERVICE_UID when the tests run as root,
    the invoking user otherwise (who cannot become another)."""
    return SERVICE_UID if os.geteuid() == 0 else os.geteuid()


# Started as root (user=ROOT), logseald runs as an unprivileged user of its configuration
# (logseald.conf(5), user; the packages' "logseal" need not exist here): nobody.
ROOT_START_USER = "nobody"


def run_as_conf(directory):
    """The configuration lines (first in the file) for a daemon started as root, which must
    reach the directory."""
    os.chmod(directory, 0o755)
    return "[daemon]\nuser = %s\n" % ROOT_START_USER


def give_to_service_user(path):
    """A directory logseald writes outside its state (publish_dir), made the service user's
    as an admin would; as another user than root, it is already theirs."""
    if os.geteuid() == 0:
        os.chown(path, SERVICE_UID, SERVICE_UID)


def as_user(uid, args):
    """A command line that runs args as uid (its gid the same number, no other groups), the way
    systemd runs the service: setpriv execs args, so a Popen's pid is args' own."""
    if uid == os.geteuid():
        return list(args)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"] + list(args)


class Appliance:
    """A state directory with keys and a logseald process."""

    def __init__(self, build, extra_conf="", user=None, init_args=("--no-passphrase",)):
        """user: the numeric uid (its gid the same number) to run logseald as; None (the
        default) is service_user(): an unprivileged user whenever the test runs as root, as the
        packages run it. ROOT runs it as root (only for tests about root). The state directory
        is made the way an admin does (docs/packaging.md): `logsealctl init --user NAME` as
        root, and the temporary directory (the socket directory) is the user's."""
        self.build = build
        self.user = service_user() if user is None else user
        self.tmp = tempfile.TemporaryDirectory(prefix="logseal-test-")
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        self.port = free_port()
        self.sock = os.path.join(self.dir, "log.sock")
        self.dsock = os.path.join(self.dir, "dgram.sock")
        self.conf = os.path.join(self.dir, "logseald.conf")
        root_start = self.user == ROOT and os.geteuid() == 0
        self.run_as = run_as_conf(self.dir) if root_start else ""
        with open(self.conf, "w") as f:
            f.write(self.run_as + "[batch]\nmax_latency = 200ms\n" + extra_conf)
        self.proc = None
        self.init(init_args)

    def init(self, init_args):
        """`logsealctl init` of self.state for self.user. The temporary directory, which holds
        the sockets, becomes theirs and 0755 like /run/logseal (packaging/tmpfiles.d): a
        TemporaryDirectory is root's 0700, they could not even reach the state directory."""
        args = [self.ctl(), "init", "--state-dir", self.state, *init_args]
        if self.user != os.geteuid():
            os.chown(self.dir, self.user, self.user)
            os.chmod(self.dir, 0o755)
            args += ["--user", pwd.getpwuid(self.user).pw_name]
        subprocess.run(args, check=True, capture_output=True)

    def as_user(self, args):
        """args as a command line run as the daemon's user."""
        return as_user(self.user, args)

    def daemon_uid(self):
        """The uid logseald runs as (started as root: ROOT_START_USER's)."""
        if self.run_as:
            return pwd.getpwnam(ROOT_START_USER).pw_uid
        return self.user

    def own(self, *paths):
        """Makes files and directories the test made for the daemon (publish_dir, a
        publish_command) its own, recursively, as the service user's would be."""
        if os.geteuid() != 0:
            return
        uid = self.daemon_uid()
        gid = pwd.getpwnam(ROOT_START_USER).pw_gid if self.run_as else self.user
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
        cmd = list(wrapper) + [os.path.join(self.build, "daemon", "logseald"), "--config", self.conf,
               "--state-dir", self.state,
               "--listen", f"udp:127.0.0.1:{self.port}", "--listen", f"tcp:127.0.0.1:{self.port}",
               "--listen", f"unix:{self.sock}", "--listen", f"unix-dgram:{self.dsock}"]
        if env and "LD_PRELOAD" in env and self.user != os.geteuid():
            # A preloaded test library (libfault, libclock) is logseald's own: loaded into
            # setpriv too, its constructor would run as root first (and make its log files
            # root's, which logseald could then not write).
            env = dict(env)
            cmd = ["env", "LD_PRELOAD=" + env.pop("LD_PRELOAD")] + cmd
        # setpriv (and env) exec logseald itself, so self.proc is the daemon.
        self.proc = subprocess.Popen(self.as_user(cmd), stdout=self.log, stderr=self.log, env=env,
                                     umask=0o027)  # logseald.service's UMask
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
