# SPDX-License-Identifier: Apache-2.0
# forgerylib: what test-forgery.py and forgery_cases.py share (tests/forgery/README.md): the
# configuration from the command line, the phrases a finding must contain, TAP, the forge and
# logsealctl helpers, the appliance class, the verifications and their expectations, and the
# work directory (made on import: a temporary one, or --keep DIR).
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SRC, "tests", "daemon"))
from daemonlib import Appliance  # noqa: E402

KEEP = os.environ.get("LOGSEAL_FORGERY_KEEP")
if "--keep" in sys.argv:
    KEEP = sys.argv[sys.argv.index("--keep") + 1]
VERIFY = os.path.join(BUILD, "verifier", "logseal-verify")
CTL = os.path.join(BUILD, "daemon", "logsealctl")
# LOGSEAL_FORGE: another build of the forge tool (e.g. with -Db_sanitize=address,undefined)
FORGE = os.environ.get("LOGSEAL_FORGE") or os.path.join(BUILD, "tests", "forgery", "forge")

# Cases the current main does not pass: id -> why (what it does instead). Remove an entry with
# the fix that makes the case pass (an unexpected pass fails the run).
PENDING = {
    # (none: item 1's cases pass since the daemon writes epoch closes; item 5's gap comes from
    # the close of the epoch that certifies the next key)
}

# Phrases a finding must contain: case-insensitive regular expressions, matched against what
# logseal-verify prints and its text report (not the JSON) with runs of white space collapsed to
# one space (so that wrapped sentences match). They name what must be said, not the exact
# words: adjust the wording here with the fix if needed, never the meaning.
CLOSE_MAGIC = b"\x89LSX\r\n\x1a\n"
EPOCH_END = r"epoch.{0,60}(clos|ended|\bend\b)|(clos|ended|\bend\b).{0,60}epoch"
NOT_EXCLUDED = r"cannot be excluded"
NOT_AUTHENTIC = r"not authentic|unauthentic|not authenticated"
OTHER_CHAIN = (r"(another|other|foreign|different) chain|chain id|not this (bundle's )?chain|"
               r"for chain [0-9a-f]{32}")
REVOKED = r"revo(ked|cation)"
FORK = r"fork"
NOT_EVIDENCE = NOT_AUTHENTIC + r"|logseal-batch-v1|not evidence|batch line"
TRUNCATION = r"truncat.{0,200}cannot be excluded|cannot be excluded.{0,200}truncat"

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
sodium.sodium_init()


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.xfail = []
        self.xpass = []
        self.results = []

    def diag(self, s):
        for line in str(s).splitlines() or [""]:
            print("# " + line, flush=True)

    def check(self, cid, desc, ok, detail=""):
        self.n += 1
        name = f"{cid}: {desc}"
        if cid in PENDING:
            if ok:
                print(f"ok {self.n} - {name} # TODO XPASS: remove '{cid}' from PENDING", flush=True)
                self.xpass.append(cid)
                self.failed += 1
            else:
                print(f"not ok {self.n} - {name} # TODO XFAIL {PENDING[cid]}", flush=True)
                self.xfail.append(cid)
        else:
            print(("ok" if ok else "not ok") + f" {self.n} - {name}", flush=True)
            if not ok:
                self.failed += 1
        if detail and (not ok or cid in PENDING):
            self.diag(detail)
        self.results.append((cid, ok))

    def done(self):
        print(f"1..{self.n}", flush=True)
        self.diag(f"{self.n} checks, {self.failed} failed, {len(self.xfail)} expected failures "
                  f"(PENDING), {len(self.xpass)} unexpected passes")
        return 1 if self.failed else 0


t = Tap()


# ---------------------------------------------------------------- helpers

def run(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n"
                           f"{p.stderr}")
    return p


def forge(*args):
    return run(FORGE, *args).stdout.split()


def ctl(*args, check=True):
    return run(CTL, *args, check=check)


def parse_history(path):
    """Items of a key history (SPEC §10.3): certificates, revocations; items of later format
    versions (an epoch close) are skipped by their size field."""
    data = open(path, "rb").read()
    items, off = [], 0
    while off + 12 <= len(data):
        magic = data[off:off + 8]
        if magic[:3] != b"\x89LS" or magic[4:] != b"\r\n\x1a\n":
            raise ValueError(f"{path}: offset {off}: not a history item")
        kind = chr(magic[3])
        if kind == "C":
            size = 168
            c = data[off:off + size]
            items.append({"type": "cert", "kind": c[12], "chain_id": c[16:32], "pk": c[32:64],
                          "key_id": c[64:72], "epoch": struct.unpack_from("<Q", c, 72)[0],
                          "valid_from": struct.unpack_from("<Q", c, 80)[0],
                          "issuer": c[96:104], "raw": c})
        elif kind == "R":
            size = 136 + struct.unpack_from("<H", data, off + 10)[0]
            items.append({"type": "revocation", "key_id": data[off + 32:off + 40],
                          "raw": data[off:off + size]})
        else:
            size = struct.unpack_from("<H", data, off + 10)[0]
            items.append({"type": kind, "raw": data[off:off + size]})
        if size <= 0:
            raise ValueError(f"{path}: offset {off}: bad size")
        off += size
    return items


def signing_certs(items, chain_id=None):
    return sorted([i for i in items if i["type"] == "cert" and i["kind"] == 1 and
                   (chain_id is None or i["chain_id"] == chain_id)], key=lambda c: c["epoch"])


def pubkey_file(path):
    """(key_id, pk) of a public key file (SPEC §10.1)."""
    b = base64.b64decode(open(path).read().splitlines()[1])
    assert b[:4] == b"LSK1"
    return b[4:12], b[12:44]


def checkpoint_signed_right(text, certs):
    """Is a genuine checkpoint signed, with the right note key hash, by the key of its batch's
    epoch? Issue 12 item 6 (not this suite's subject) makes the daemon hand out checkpoints of an
    epoch's last batch with the next key's key hash: such captures are taken again."""
    body, _, sigs = text.partition("\n\n")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 5 or not lines[3].startswith("logseal-batch-v1 "):
        return False
    batch = int(lines[3].split()[1])
    key = None
    for c in certs:
        if c["valid_from"] <= batch:
            key = c
    if key is None:
        return False
    name = lines[0]
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[1] != name:
            continue
        blob = base64.b64decode(parts[2])
        if len(blob) != 68:
            continue
        if blob[:4] != hashlib.sha256(name.encode() + b"\n\x01" + key["pk"]).digest()[:4]:
            continue
        return sodium.crypto_sign_verify_detached(blob[4:], body.encode(),
                                                  ctypes.c_ulonglong(len(body.encode())),
                                                  key["pk"]) == 0
    return False


class App(Appliance):
    """A logseald appliance (tests/daemon/daemonlib.py) with a chosen `logsealctl init`."""

    def __init__(self, build, extra_conf="", init_args=("--no-passphrase",), name="app"):
        # Appliance.__init__ runs a plain init; this one may certify with a given root key.
        import daemonlib
        self.build = build
        self.tmp = tempfile.TemporaryDirectory(prefix=f"logseal-forgery-{name}-")
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        self.port = daemonlib.free_port()
        self.sock = os.path.join(self.dir, "log.sock")
        self.dsock = os.path.join(self.dir, "dgram.sock")
        self.conf = os.path.join(self.dir, "logseald.conf")
        with open(self.conf, "w") as f:
            f.write("[batch]\nmax_latency = 200ms\n" + extra_conf)
        self.proc = None
        self.user = daemonlib.service_user()   # daemonlib.Appliance's: the service user
        self.run_as = ""
        self.name = name
        self.sent = 0
        self.init(init_args)
        self.chain_hex = open(os.path.join(self.state, "chain.id")).read().strip()
        self.chain_id = bytes.fromhex(self.chain_hex)
        self.root_pub = os.path.join(self.state, "root.pub")
        self.root_key = os.path.join(self.state, "root.key")

    def start(self, env=None):
        # A fresh port for every start: between a stop and the next start another test could
        # take the old one (and a sender of that test would then feed this daemon).
        import daemonlib
        self.port = daemonlib.free_port()
        super().start(env)

    def status(self):
        try:
            return self.control("status")
        except (OSError, ValueError):
            return {}

    def last(self):
        return self.status().get("last_checkpoint") or {}

    def wait(self, cond, timeout=30, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: timeout waiting for {what}: {self.status()}\n" +
                           self.logtext()[-2000:])

    def settle(self, quiet=0.7, timeout=120):
        """Until no batch was sealed for `quiet` seconds (an epoch change seals its transition
        batch on its own right after the epoch's last one)."""
        last, since, seen = None, time.time(), []
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = self.last().get("batch")
            if b != last:
                last, since = b, time.time()
                seen.append((round(time.time() - deadline + timeout, 2), b))
            elif b is not None and time.time() - since >= quiet:
                return b
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: never settles: (seconds, last batch) {seen[-20:]}; "
                           f"status {self.status()}")

    def start_and_settle(self):
        self.start()
        self.wait(lambda: self.last().get("batch") is not None, what="the first batch")
        return self.settle()

    def send_batch(self, n=2):
        """n messages in (at least) one new batch."""
        before = self.last().get("batch", -1)
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            for _ in range(n):
                m = b"<13>1 - %s app - - - genuine message %d" % (self.name.encode(), self.sent)
                s.sendall(b"%d %s" % (len(m), m))
                self.sent += 1
        self.wait(lambda: self.last().get("batch", -1) > before, what="a new batch")
        return self.settle()

    def epoch(self):
        return self.last().get("epoch", -1)

    def history(self):
        return parse_history(os.path.join(self.state, "keys", "history.lsk"))

    def certs(self):
        return signing_certs(self.history(), self.chain_id)

    def checkpoint(self, out, since=None):
        """A genuine checkpoint (logsealctl checkpoint), taken again after one more batch when
        it falls on issue 12 item 6's epoch-boundary bug."""
        for _ in range(8):
            for p in (out, out + ".proof"):
                if os.path.exists(p):
                    os.unlink(p)
            args = ["checkpoint", "--state-dir", self.state, "--out", out]
            if since:
                args += ["--since", since]
            ctl(*args)
            if checkpoint_signed_right(open(out).read(), self.certs()):
                return out
            t.diag(f"{self.name}: checkpoint at an epoch boundary (issue 12 item 6), again")
            self.send_batch()
        raise RuntimeError("no well-signed checkpoint")

    def early_in_epoch(self, most=2):
        """Sends batches until the current epoch has sealed at most `most` batches and no epoch
        change is pending, so that what follows (an export: one custody batch) stays inside the
        epoch. Only for epochs begun in this run of the daemon (it counts batches per run)."""
        for _ in range(40):
            last = self.last().get("batch", -1)
            certs = self.certs()
            cur = [c for c in certs if c["valid_from"] <= last]
            pending = [c for c in certs if c["valid_from"] > last]
            if cur and not pending and last - cur[-1]["valid_from"] + 1 <= most:
                return
            self.send_batch()
        raise RuntimeError("never early in an epoch")

    def export(self, out, host=None):
        """A genuine evidence bundle (logsealctl export), made again in a fresh directory when
        its checkpoint falls on issue 12 item 6's bug."""
        for i in range(8):
            d = f"{out}.{i}"
            ctl("export", "--state-dir", self.state, "--case", "CASE-GENUINE-1", "--examiner",
                "Examiner G", "--host", host or self.name, "--out", d)
            if checkpoint_signed_right(open(os.path.join(d, "checkpoint.txt")).read(),
                                       self.certs()):
                os.rename(d, out)
                return out
            t.diag(f"{self.name}: export at an epoch boundary (issue 12 item 6), again")
            self.send_batch()
        raise RuntimeError("no well-signed export")

    def archives(self):
        d = os.path.join(self.state, "archives")
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".lsa"))

    def export_history(self, out):
        ctl("key", "export-history", "--state-dir", self.state, "--out", out)
        return out


def info(paths):
    """forge info: per archive, its batches (number, epoch, key, tree size, control records)."""
    return [json.loads(l) for l in run(FORGE, "info", *paths).stdout.splitlines()]


def case_dir(name, files=()):
    d = os.path.join(WORK, name)
    os.makedirs(d)
    for f in files:
        shutil.copy(f, d)
    return d


def flip(path, offset):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


report_no = [0]


# Every verification runs with --jobs 1 and --jobs 4 too: all it says (exit code, stdout, stderr,
# text and JSON reports, the clock readings masked) must be byte-identical (issue 16 item 2).
JOBS_DIFF = []
JOBS_RUNS = [0]
CLOCK = re.compile(r'^(Started|Finished):\s+\S+$|"(started|finished)": "[^"]*"', re.M)


def verify_once(args, root, rep, jobs=None):
    cmd = [VERIFY, "--root-key", root]
    if jobs:
        cmd += ["--jobs", jobs]
    if rep:
        cmd += ["--report", rep]
    p = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                       errors="replace", timeout=300)
    text = p.stdout + "\n" + p.stderr
    if rep and os.path.exists(rep):
        text += "\n" + open(rep, errors="replace").read()
    js = open(rep + ".json", errors="replace").read() if rep and os.path.exists(rep + ".json") else ""
    return p.returncode, text, js


def verify(*args, root, report=True):
    """Runs logseal-verify; returns its exit code, what it said in text (stdout, stderr, the text
    report) and its JSON report (when it wrote one)."""
    report_no[0] += 1
    rep = os.path.join(WORK, "reports", f"report-{report_no[0]}")
    rc, text, js = verify_once(args, root, rep if report else None)
    said = {}
    for jobs in ("1", "4"):
        r = verify_once(args, root, f"{rep}-jobs{jobs}" if report else None, jobs)
        said[jobs] = CLOCK.sub("CLOCK", f"exit {r[0]}\n{r[1]}\n=====\n{r[2]}")
    JOBS_RUNS[0] += 1
    if said["1"] != said["4"] or CLOCK.sub("CLOCK", f"exit {rc}\n{text}\n=====\n{js}") != said["1"]:
        JOBS_DIFF.append(f"report-{report_no[0]}: {' '.join(map(str, args))[:300]}")
    return rc, text, js


def summary(out):
    """The lines of a report that say why: the verdict and the findings."""
    keep = []
    for line in out.splitlines():
        s = line.strip()
        if not s:
            continue
        if re.search(r"VERDICT|TAMPERED|INCONSISTENT|CONSISTENT|missing|fork|revo|excluded|"
                     r"authentic|logseal-verify:|error|cannot|^\[", s, re.I):
            keep.append(s[:300])
        if len(keep) >= 12:
            break
    return "\n".join(keep)


def limit_covers(batch):
    """The sentence on what cannot be excluded must not claim more than it may: when it names
    "batches N and later", N must not be after `batch` (the first forged or missing batch)."""
    def check(rc, flat):
        nums = [int(n) for n in re.findall(r"batch(?:es)? (\d+) and later cannot be excluded",
                                           flat, re.I)]
        return not nums or min(nums) <= batch
    return check


def expect(cid, desc, args, root, codes, phrases=(), report=True, also=None):
    """One case: exit code in `codes`, every phrase found in what the verifier said, and
    also(rc, text) when given."""
    rc, text, _ = verify(*args, root=root, report=report)
    flat = " ".join(text.split())
    missing = [p for p in phrases if not re.search(p, flat, re.I)]
    ok = rc in codes and not missing
    if ok and also:
        ok = bool(also(rc, flat))
    detail = (f"exit {rc} (expected {'/'.join(map(str, sorted(codes)))})" +
              (f"; phrase(s) not found: {missing}" if missing else "") + "\n" + summary(text))
    t.check(cid, desc, ok, detail)
    RESULTS.append((cid, rc, summary(text).splitlines()[:3]))
    return rc, text


RESULTS = []


# ---------------------------------------------------------------- the work directory

# The appliances, for the logs of a harness failure and for --keep.
APPS = []
tmp = None
if KEEP:
    WORK = os.path.abspath(KEEP)
    shutil.rmtree(WORK, ignore_errors=True)
else:
    tmp = tempfile.TemporaryDirectory(prefix="logseal-forgery-")
    WORK = tmp.name
os.makedirs(os.path.join(WORK, "reports"))
